"""In Chromium: a Medical reviewer signs an approval after confirming their password; the signature shows
its printed name, time with zone, meaning and validity, and stops being valid once the editor edits the post."""

import datetime as dt
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from approvals.models import Confirmation, Decision, Verdict
from approvals.services import round_submit
from tests.approvals.test_review_browser import default_chains, logged_in
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

__all__ = ["default_chains"]


@pytest.fixture(autouse=True)
def _reauthentication(settings: Any) -> None:
    # The test settings switch it off for the tests that sign in with force_login.
    settings.ROUNDS_REAUTHENTICATION_REQUIRED = True


def test_medical_signs_after_confirming_the_password_and_the_editors_change_voids_the_signature(
    page: Any,
    browser: Any,
    live_server: Any,
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
) -> None:
    medical = reviewers["medical"]
    medical.first_name, medical.last_name = "Zoë", "Müller-Ağaoğlu"
    medical.time_zone = "America/New_York"
    medical.save()
    post = post_factory(
        editor,
        review_campaign,
        title="Grippeimpfung im Foyer",
        body="Grippeimpfung: Montag bis Freitag, 8–12 Uhr, Haupthalle. Fragen: 0221 478-0 🩺",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    round_submit(post=post, actor=editor)

    with logged_in(browser, live_server, "medical") as reviewer_page:
        # The sign-in no longer counts once the window has passed: signing asks for the password.
        later = timezone.now() + dt.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 5)
        with time_machine.travel(later, tick=True):
            reviewer_page.goto(f"/reviews/posts/{post.pk}/")
            reviewer_page.get_by_label("Comment").fill("Dosierung und Quelle geprüft.")
            reviewer_page.get_by_role("button", name="Approve").click()
            reviewer_page.wait_for_url("**/accounts/reauthenticate/**")
            assert not Decision.objects.exists()
            reviewer_page.get_by_label("Password").fill("pw")
            reviewer_page.get_by_role("button", name="Confirm").click()
            reviewer_page.get_by_text("You approved “Medical review”.").wait_for()
            reviewer_page.wait_for_url(f"**/reviews/posts/{post.pk}/")

            decision = Decision.objects.get()
            assert decision.verdict == Verdict.APPROVE
            assert decision.confirmation == Confirmation.PASSWORD
            signature = reviewer_page.locator(".review-stages [data-signature]").first
            text = signature.inner_text()
            assert "Approved as Medical reviewer" in text
            assert "Signed by Zoë Müller-Ağaoğlu (medical)" in text
            new_york = decision.created_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
            assert f"{new_york:%H:%M} {new_york.tzname()}" in text  # the reviewer's own zone
            assert "valid" in text and "no longer valid" not in text
            assert "password" in text
            assert "Dosierung und Quelle geprüft." in text
            short = signature.locator("code")
            assert short.inner_text() == decision.content_hash[:12]
            assert short.get_attribute("title") == decision.content_hash

    # The editor (Europe/Berlin) sees the same signature in their zone, then changes the post.
    browser_login(page, "editor")
    page.goto(f"/posts/{post.pk}/")
    signature = page.locator(f'.review-stages [data-signature="{decision.pk}"]')
    assert signature.get_attribute("data-signature-valid") == "true"
    berlin = decision.created_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    text = signature.inner_text()
    assert f"{berlin:%H:%M} {berlin.tzname()}" in text
    assert f"{new_york:%H:%M} {new_york.tzname()}, America/New_York" in text

    page.goto(f"/posts/{post.pk}/edit/")
    page.get_by_label("Text", exact=True).fill("Grippeimpfung: Montag bis Donnerstag, 8–11 Uhr, Haupthalle.")
    # The page says first what saving does to the review; the editor confirms (issue 15).
    page.get_by_label("I understand, save the change").check()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/posts/{post.pk}/")
    page.goto(f"/reviews/posts/{post.pk}/")
    page.locator(".review-earlier summary").first.click()
    signature = page.locator(f'.review-stages [data-signature="{decision.pk}"]')
    signature.wait_for()
    assert signature.get_attribute("data-signature-valid") == "false"
    assert "no longer valid: the content changed after signing" in signature.inner_text()
    history = page.locator(f'.review-timeline [data-signature="{decision.pk}"]')
    assert "no longer valid: the content changed after signing" in history.inner_text()
    assert "Zoë Müller-Ağaoğlu" in history.inner_text()
