"""The editor in a real browser: writing a post with an image, and the live counter and findings."""

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from posts.models import Post
from tests.a11y import axe_violations
from tests.conftest import IMAGES, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_editor_writes_a_post_with_an_image_for_two_accounts(
    page: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    account_factory("facebook", name="Clinic Facebook")
    account_factory("x", name="Clinic X")
    account_factory("linkedin", name="Clinic LinkedIn")
    browser_login(page, "editor")
    page.goto(reverse("posts:campaign_detail", args=[campaign.pk]))

    page.get_by_role("link", name="New post").click()
    page.get_by_label("Internal title").fill("Heart week opener")
    page.get_by_label("Text", exact=True).fill("Move every day: your heart will thank you.")
    page.get_by_label("Image 1", exact=True).set_input_files(IMAGES / "square_1080_rgba.png")
    page.get_by_label("Alt text for image 1").fill("A red paper heart")
    page.get_by_role("checkbox", name=re.compile("Clinic Facebook")).check()
    page.get_by_role("checkbox", name=re.compile("Clinic X")).check()
    page.get_by_label("Date", exact=True).fill(timezone.localdate().replace(day=15).isoformat())
    page.get_by_label("Time", exact=True).fill("10:00")
    page.get_by_role("button", name="Save draft").click()

    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    post = Post.objects.get()
    assert page.url.endswith(reverse("posts:post_detail", args=[post.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Heart week opener")
    targets = page.locator(".target-list > li")
    expect(targets).to_have_count(2)
    expect(targets.nth(0)).to_contain_text("Clinic Facebook")
    expect(targets.nth(1)).to_contain_text("Clinic X")
    image = page.locator(".media-list").get_by_role("img", name="A red paper heart")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") > 0
    assert post.media.get().alt_text == "A red paper heart"
    assert post.scheduled_at is not None
    assert timezone.localtime(post.scheduled_at).month == timezone.localdate().month

    # The journey goes on: the draft is on the calendar; drag it to another day; it stays there.
    start, target = timezone.localdate().replace(day=15), timezone.localdate().replace(day=22)
    page.get_by_role("link", name="Calendar").click()
    card = page.locator(f'td[data-date="{start.isoformat()}"] article', has_text="Heart week opener")
    card.drag_to(page.locator(f'td[data-date="{target.isoformat()}"]'))
    page.locator("[data-cal-live]").filter(has_text="Moved").wait_for()
    page.reload()
    moved = page.locator(f'td[data-date="{target.isoformat()}"] article', has_text="Heart week opener")
    expect(moved).to_be_visible()
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at).date() == target

    # The same page in German: the switch in the header, then German labels.
    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("link", name="Kalender")).to_be_visible()
    expect(page.get_by_role("link", name="Neuer Beitrag")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(f'td[data-date="{target.isoformat()}"] article', has_text="Heart week opener")).to_be_visible()


def test_live_counter_shows_the_x_limit_error_without_saving(
    page: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    account_factory("x", name="Clinic X")
    browser_login(page, "editor")
    page.goto(reverse("posts:post_create") + f"?campaign={campaign.pk}")
    findings = page.locator("#editor-findings")

    page.get_by_role("checkbox", name=re.compile("Clinic X")).check()
    counter = findings.locator("[data-counter]")
    expect(counter).to_have_count(1)
    expect(page.get_by_label("Text for Clinic X only")).to_be_visible()
    page.get_by_label("Text", exact=True).fill("a" * 300)

    expect(counter).to_have_class(re.compile(r"\bover\b"))
    expect(counter).to_contain_text("300 / 280")
    expect(findings).to_contain_text("Text counts as 300 characters on X (each link counts as 23); X allows 280.")
    preview = findings.locator("[data-preview-section]")
    expect(preview).to_be_hidden()
    page.get_by_role("button", name="Preview").click()
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("a" * 300)
    assert Post.objects.count() == 0


def test_the_campaign_page_filters_its_posts_and_pages_them_keeping_the_filter(
    page: Any, editor: Any, campaign: Any
) -> None:
    import datetime as dt

    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    Post.objects.bulk_create(
        Post(
            campaign=campaign,
            author=editor,
            title=f"Herzwoche Tag {n:02d}",
            body="Blutdruck messen im Foyer.",
            status="approved" if n % 2 else "draft",
            scheduled_at=start + dt.timedelta(hours=n),
        )
        for n in range(110)
    )
    browser_login(page, "editor")
    page.goto(reverse("posts:campaign_detail", args=[campaign.pk]))

    page.get_by_label("State").select_option(label="Approved")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.campaign-posts tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator('table.campaign-posts [data-status="draft"]')).to_have_count(0)
    expect(rows.first).to_contain_text("Herzwoche Tag 01")

    page.get_by_role("link", name="Next").click()
    expect(page.get_by_label("State")).to_have_value("approved")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("Herzwoche Tag 101")
    expect(page.locator("nav.pagination [aria-current=page]")).to_contain_text("Page 2 of 2")
    assert "state=approved" in page.url and "page=2" in page.url
    assert axe_violations(page) == []

    # A month no calendar has is ignored, and the page says so next to the field.
    page.goto(reverse("posts:campaign_detail", args=[campaign.pk]) + "?month=2026-13&state=approved")
    expect(page.get_by_role("alert")).to_contain_text("Ignored:")
    expect(rows).to_have_count(50)
    # The Publishing page's filters are as accessible (its lists empty here).
    page.goto(reverse("publishing:publishing") + "?state=gone")
    expect(page.get_by_role("alert")).to_contain_text("Ignored:")
    assert axe_violations(page) == []
