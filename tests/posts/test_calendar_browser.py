"""The calendar in a real Chromium: drag a card to another day, or use the Move form."""

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from posts.models import Post
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # the editor fixture's time zone


def _days_this_month() -> tuple[dt.date, dt.date]:
    """Return two different days of the current month in the editor's zone (Europe/Berlin)."""
    today = timezone.localdate(timezone=BERLIN)
    return today.replace(day=10), today.replace(day=17)


def _planned_post(editor: Any, campaign: Any, post_factory: Any, day: dt.date, title: str) -> Any:
    return post_factory(editor, campaign, title=title, when=_berlin(day, dt.time(10, 30)))


def _berlin(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=BERLIN)


def _cell(page: Any, day: dt.date) -> Any:
    return page.locator(f'td[data-date="{day.isoformat()}"]')


def test_drag_card_to_another_day_and_it_stays_after_reload(
    page: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    start, target = _days_this_month()
    post = _planned_post(editor, campaign, post_factory, start, "Drag me")
    browser_login(page, "editor")
    page.goto("/calendar/")
    card = _cell(page, start).locator("article", has_text="Drag me")
    assert card.get_attribute("draggable") == "true"

    card.drag_to(_cell(page, target))

    live = page.locator("[data-cal-live]")
    live.filter(has_text="Moved").wait_for()
    assert _cell(page, target).locator("article", has_text="Drag me").count() == 1
    assert _cell(page, start).locator("article", has_text="Drag me").count() == 0

    page.reload()
    moved = _cell(page, target).locator("article", has_text="Drag me")
    moved.wait_for()
    assert moved.locator("time").inner_text() == "10:30"
    assert _cell(page, start).locator("article", has_text="Drag me").count() == 0
    post.refresh_from_db()
    assert post.scheduled_at == _berlin(target, dt.time(10, 30))
    assert AuditEvent.objects.filter(action="post.moved", object_id=str(post.pk)).count() == 1


def test_card_shows_campaign_colour_from_its_data_attribute(
    page: Any, editor: Any, campaign_factory: Any, post_factory: Any
) -> None:
    start, _target = _days_this_month()
    red = campaign_factory(editor, name="Red campaign", colour="#cc0000")
    _planned_post(editor, red, post_factory, start, "Red post")
    browser_login(page, "editor")
    page.goto("/calendar/")
    card = _cell(page, start).locator("article", has_text="Red post")
    colour = card.evaluate("element => getComputedStyle(element).borderLeftColor")
    assert colour == "rgb(204, 0, 0)"


def test_move_form_works_with_the_keyboard(page: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    start, target = _days_this_month()
    post = _planned_post(editor, campaign, post_factory, start, "Keyboard post")
    browser_login(page, "editor")
    page.goto("/calendar/")
    item = page.locator(f'li[data-post-id="{post.pk}"]')
    summary = item.locator("summary", has_text="Move")
    summary.focus()
    page.keyboard.press("Enter")
    date_input = item.get_by_label("New date")
    date_input.focus()
    date_input.fill(target.isoformat())
    item.get_by_label("Time").fill("08:05")
    item.get_by_role("button", name="Move").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/calendar/**")

    page.locator(".messages", has_text="Moved “Keyboard post”").wait_for()
    moved = _cell(page, target).locator("article", has_text="Keyboard post")
    assert moved.locator("time").inner_text() == "08:05"
    post.refresh_from_db()
    assert post.scheduled_at == _berlin(target, dt.time(8, 5))


def test_refused_drop_shows_the_error_and_leaves_the_card(
    page: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    start, target = _days_this_month()
    post = _planned_post(editor, campaign, post_factory, start, "Stay put")
    browser_login(page, "editor")
    page.goto("/calendar/")
    # Someone else takes the post out of the editor's reach after the page was drawn.
    Post.objects.filter(pk=post.pk).update(status="published")
    _cell(page, start).locator("article", has_text="Stay put").drag_to(_cell(page, target))
    page.locator("[data-cal-live].cal-live-error").wait_for()
    assert "may not move" in page.locator("[data-cal-live]").inner_text()
    assert _cell(page, start).locator("article", has_text="Stay put").count() == 1
    post.refresh_from_db()
    assert post.scheduled_at == _berlin(start, dt.time(10, 30))
