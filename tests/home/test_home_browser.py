"""On a 390 px phone: a medical reviewer signs in, lands on "Needs attention", opens the review due,
reads what changed since they approved, approves, and the item and its count leave the home page."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import Decision, ReviewChain, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, round_submit
from people import roles
from posts.services import post_update
from tests.conftest import browser_login, csp_guard, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FIRST = "Grippeimpfung für Mitarbeitende: Montag bis Freitag, 8–12 Uhr, Haupthalle. Fragen: 040 1234-0."
CHANGED = "Grippeimpfung für Mitarbeitende: Montag bis Donnerstag, 7–11 Uhr, Haus B. Fragen: 040 1234-0."


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


@pytest.fixture
def changed_after_approval(
    editor: Any, medical: Any, comms: Any, campaign_factory: Any, account_factory: Any, post_factory: Any
) -> Any:
    """A post Medical approved, Legal sent back, and the editor changed and submitted again."""
    legal = make_user("legal", roles.LEGAL_REVIEWER)
    campaign = campaign_factory(editor, name="Grippe-Saison", reviewers=[medical, legal, comms])
    post = post_factory(
        editor,
        campaign,
        title="Grippeimpfung 2026",
        body=FIRST,
        targets=[account_factory("instagram")],
        when=timezone.now() + dt.timedelta(days=8),
    )
    round_submit(post=post, actor=editor)
    decision_record(stage_run=current_stage_run(post=post), reviewer=medical, verdict=Verdict.APPROVE)  # type: ignore[arg-type]
    decision_record(
        stage_run=current_stage_run(post=post),  # type: ignore[arg-type]
        reviewer=legal,
        verdict=Verdict.REQUEST_CHANGES,
        comment="Bitte die neuen Zeiten der Betriebsärztin übernehmen.",
    )
    post.refresh_from_db()
    post = post_update(post=post, actor=editor, data={"body": CHANGED})
    round_submit(post=post, actor=editor)
    return post


def test_medical_reviewer_approves_from_needs_attention_on_a_phone(
    browser: Any, live_server: Any, changed_after_approval: Any
) -> None:
    post = changed_after_approval
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(10_000)
    violations = csp_guard(context)
    try:
        page = context.new_page()
        browser_login(page, "medical")
        page.wait_for_url(f"{live_server.url}/")
        page.get_by_role("heading", name="Needs attention", level=1).wait_for()
        reviews = page.locator('[data-section="reviews"]')
        assert reviews.locator("[data-count]").inner_text() == "1"
        before = int(page.locator("[data-attention-count]").inner_text().split()[0])
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"the home page scrolls sideways: {width} px wide"

        reviews.get_by_role("link", name=post.title).tap()
        page.wait_for_url(f"**/reviews/posts/{post.pk}/")
        diff = page.locator(".review-diff")
        diff.wait_for()
        # What changed since this reviewer approved: the old and the new hours.
        assert "Donnerstag" in diff.inner_text() and "Freitag" in diff.inner_text()
        page.get_by_role("button", name="Approve").tap()
        page.get_by_text("You approved “Medical review”.").wait_for()

        # On a phone the navigation is behind the menu button.
        page.locator("[data-menu-toggle]").tap()
        page.get_by_role("link", name="Needs attention").first.tap()
        page.wait_for_url(f"{live_server.url}/")
        page.get_by_role("heading", name="Needs attention", level=1).wait_for()
        assert page.locator('[data-section="reviews"]').count() == 0
        assert post.title not in page.locator("main").inner_text()
        badge = page.locator("[data-attention-count]")
        after = int(badge.inner_text().split()[0]) if badge.count() else 0
        assert after == before - 1
        assert Decision.objects.filter(stage_run__round__post=post, verdict=Verdict.APPROVE).count() == 2
    finally:
        context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)


def test_editor_follows_needs_attention_to_a_blocked_post_and_a_pending_takedown(
    page: Any, ward: dict[str, Any]
) -> None:
    browser_login(page, "editor")
    page.get_by_role("heading", name="Needs attention", level=1).wait_for()
    assert page.locator("[data-publishing-count]").inner_text().split()[0] == "3"
    assert page.get_by_text("Nothing needs your attention").count() == 0

    # The live post whose consent was revoked: no longer just "Published".
    page.locator('[data-section="takedowns"]').get_by_role("link", name="See every open takedown").click()
    page.wait_for_url("**/publishing/#takedowns")
    page.locator(f'[data-takedown="{ward["takedown"].pk}"]').get_by_role("link", name="Annas Geschichte").click()
    page.wait_for_url(f"**/posts/{ward['live'].pk}/")
    notice = page.locator("[data-takedown-pending-notice]")
    assert "Takedown pending" in notice.inner_text() and "consent revoked" in notice.inner_text()

    # The post the revocation stopped before it went out: on the Publishing page's Blocked list, with why.
    page.get_by_role("link", name="Needs attention").first.click()
    page.locator('[data-section="publications"]').get_by_role("link", name="See everything that did not go out").click()
    blocked = page.locator(f'[data-blocked-post="{ward["stopped"].pk}"]')
    assert "consent revoked" in blocked.inner_text()
    blocked.get_by_role("link", name="Annas Reha-Tagebuch").click()
    page.wait_for_url(f"**/posts/{ward['stopped'].pk}/")
    assert page.locator("[data-status]").first.get_attribute("data-status") == "blocked"
