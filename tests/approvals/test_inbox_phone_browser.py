"""The reviewer's inbox and the editor's "My posts" on a 390 px phone: filtered, paged, never scrolling sideways."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import ReviewChain
from approvals.services import round_submit
from posts.models import Post
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


def test_the_inbox_fits_a_390_px_phone_and_leads_to_the_review_page(
    browser: Any, live_server: Any, editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Tipp 3: Spazierengehen – täglich 30 Minuten zügiges Gehen senkt den Blutdruck 🚶‍♀️",
        body="Täglich 30 Minuten zügiges Gehen. Fragen an die Zentrale: 040 1234-0.",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=6),
    )
    round_submit(post=post, actor=editor)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        browser_login(page, "medical")
        page.goto("/reviews/")
        page.wait_for_load_state()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"the inbox scrolls sideways: {width} px wide"
        # Only the overdue: this one is not; then its campaign: there it is again.
        page.get_by_label("Only overdue reviews").check()
        page.get_by_role("button", name="Show").tap()
        page.wait_for_url("**/reviews/?*overdue=on*")
        assert page.get_by_text("Nothing waiting for your review matches these filters.").is_visible()
        page.get_by_label("Only overdue reviews").uncheck()
        page.get_by_label("Campaign").select_option(label=review_campaign.name)
        page.get_by_role("button", name="Show").tap()
        page.wait_for_url(f"**/reviews/?campaign={review_campaign.pk}*")
        page.get_by_role("link", name=post.title).tap()
        page.wait_for_url(f"**/reviews/posts/{post.pk}/")
    finally:
        context.close()


def test_my_posts_pages_through_a_filtered_list_on_a_phone(
    browser: Any, live_server: Any, editor: Any, review_campaign: Any, campaign_factory: Any
) -> None:
    start = timezone.now() + dt.timedelta(days=1)
    other = campaign_factory(editor, name="Rückenschule")
    Post.objects.bulk_create(
        Post(
            author=editor,
            campaign=review_campaign if n % 4 else other,
            title=f"Grippe-Tipp {n:03d}: Impfen schützt – Fragen? 040 1234-0",
            body="Händewaschen rettet Leben.",
            scheduled_at=start + dt.timedelta(hours=n),
        )
        for n in range(80)
    )
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        browser_login(page, "editor")
        page.goto("/reviews/mine/")
        page.get_by_label("Campaign").select_option(label=review_campaign.name)
        page.get_by_label("Search title or text").fill("grippe")
        page.get_by_role("button", name="Show").tap()
        page.wait_for_url(f"**/reviews/mine/?*campaign={review_campaign.pk}*")
        rows = page.locator(".review-mine-row")
        assert rows.count() == 50  # 60 of the campaign's posts match: a page of 50
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"My posts scrolls sideways: {width} px wide"
        page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").tap()
        page.wait_for_url("**page=2*")
        assert rows.count() == 10
        assert "Grippe-Tipp 079" in rows.last.inner_text()
        assert page.get_by_label("Search title or text").input_value() == "grippe"
        assert page.get_by_label("Campaign").input_value() == str(review_campaign.pk)
        page.get_by_role("link", name="Previous").tap()
        page.wait_for_url(lambda url: "page=" not in url and "campaign=" in url)
        assert rows.count() == 50
    finally:
        context.close()
