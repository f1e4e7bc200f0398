"""In the browser: a story published through the Facebook API, consent revoked, "Delete on platform", proof shown."""

import re
from typing import Any

import pytest
from django.urls import reverse

from consent.models import ConsentState
from posts.services import FeatureSpec
from publishing.models import DeletionStatus, Publication, PublicationStatus, TakedownItem
from tests.conftest import browser_login
from tests.posts.fakeplatforms import FakeFacebook
from tests.publishing import test_platform_publishing as platform_tests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Publishing through fake platforms, as test_platform_publishing sets it up (fixtures and helpers).
_settings, platform_account, scheduled_with = (
    platform_tests._settings,
    platform_tests.platform_account,
    platform_tests.scheduled_with,
)
flu, reviewers, run_pass, at = platform_tests.flu, platform_tests.reviewers, platform_tests.run_pass, platform_tests.at


def test_revoked_consent_is_listed_then_deleted_on_the_platform_with_proof(
    page: Any,
    platform_account: Any,
    scheduled_with: Any,
    subject_factory: Any,
    record_factory: Any,
    time_machine: Any,
    run_pass: Any,
) -> None:
    from playwright.sync_api import expect

    with FakeFacebook() as facebook:
        account = platform_account("facebook", facebook)
        anna = subject_factory(display_name="Anna Example")
        record = record_factory(anna)
        post = scheduled_with(
            account,
            media="photo",
            featured=[FeatureSpec(subject=anna, consent=record, media_kinds=("story",))],
            title="Anna runs again",
        )
        time_machine.move_to(at(post), tick=False)
        run_pass()
        publication = Publication.objects.get(post=post)
        assert publication.status == PublicationStatus.CONFIRMED
        assert list(facebook.live) == [publication.external_id]

        # The consent officer records Anna's revocation in the browser.
        browser_login(page, "consent")
        page.goto(reverse("consent:record_detail", args=[record.pk]))
        page.get_by_label("Revocation received via").select_option("letter")
        page.get_by_label("Reason (if the person gave one)").fill("Does not want to be shown any more")
        page.get_by_label("I understand that a revocation cannot be undone").check()
        page.get_by_role("button", name="Revoke consent").click()
        expect(page.locator("[data-consent-state]").first).to_have_text("Revoked")
        record.refresh_from_db()
        assert record.state == ConsentState.REVOKED

        # Communications finds the takedown on the Publishing page and deletes the post through the API.
        page.get_by_role("button", name="Log out").click()
        browser_login(page, "comms")
        page.goto(reverse("publishing:publishing"))
        item = TakedownItem.objects.get(post=post)
        row = page.locator(f'[data-takedown="{item.pk}"]')
        expect(row).to_contain_text("Anna runs again")
        expect(row).to_contain_text("Anna Example")
        expect(row).to_contain_text("consent revoked")
        row.get_by_label("I understand that the deletion cannot be undone.").check()
        row.get_by_role("button", name="Delete on platform").click()

        expect(page.locator(".messages")).to_contain_text("Deleted on the platform; its answer is kept as proof.")
        expect(page.locator(f'[data-takedown="{item.pk}"]')).to_have_count(0)
        expect(page.get_by_text("Nothing to take down.")).to_be_visible()
        done = page.locator(f'[data-taken-down="{item.pk}"]')
        expect(done.locator(".taken-down-how")).to_have_text("Deleted on the platform")
        expect(done).to_contain_text("comms")
        expect(done.locator(".taken-down-proof")).to_have_text(re.compile(r'\{"success": true\}'))

        assert facebook.deleted == [publication.external_id] and facebook.live == {}
    item.refresh_from_db()
    assert item.deletion_status == DeletionStatus.DELETED
    assert item.confirmed_by is not None and item.confirmed_by.get_username() == "comms"
    assert item.deletion_response == '{"success": true}'
