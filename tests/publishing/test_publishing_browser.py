"""In the browser: a post the platform refused is on the Publishing page with the platform's words;
Communications retries it and it goes out once."""

from typing import Any

import pytest
from django.urls import reverse

from publishing.models import Publication, PublicationStatus
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


def test_a_refused_publication_is_shown_and_retried_by_communications(
    page: Any, platform_account: Any, scheduled_with: Any, time_machine: Any, run_pass: Any
) -> None:
    from playwright.sync_api import expect

    with FakeFacebook() as facebook:
        account = platform_account("facebook", facebook)
        post = scheduled_with(account, title="Flu clinic on Saturday")
        facebook.fail_next("feed", "400")
        time_machine.move_to(at(post), tick=False)
        run_pass()
        publication = Publication.objects.get(post=post)
        assert publication.status == PublicationStatus.FAILED
        assert facebook.live == {}

        browser_login(page, "comms")
        page.get_by_role("link", name="Publishing").first.click()
        row = page.locator(f'[data-publication="{publication.pk}"]')
        expect(row).to_have_attribute("data-status", "failed")
        expect(row).to_contain_text("Flu clinic on Saturday")
        expect(row).to_contain_text("The message contains a blocked link.")
        row.get_by_role("button", name="Retry publishing").click()
        expect(page.locator(".messages")).to_contain_text("Publishing will be tried again now.")
        publication.refresh_from_db()
        assert publication.status == PublicationStatus.PENDING

        time_machine.move_to(publication.next_attempt_at, tick=False)
        run_pass()
        page.goto(reverse("publishing:publishing"))
        expect(page.locator(f'[data-publication="{publication.pk}"]')).to_have_count(0)
        publication.refresh_from_db()
        assert publication.status == PublicationStatus.CONFIRMED
        assert list(facebook.live) == [publication.external_id]
