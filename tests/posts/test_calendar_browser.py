"""The calendar in a real Chromium: drag a card to another day, or move it through the Move dialog."""

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

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


def test_a_busy_day_opens_from_more_and_a_card_moves_through_the_dialog_by_keyboard(
    page: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    start, target = _days_this_month()
    posts = [
        _planned_post(editor, campaign, post_factory, start, f"Sprechstunde {n}") for n in range(4)
    ]  # four on one day: the month shows three and "+1 more"
    post = posts[0]
    browser_login(page, "editor")
    page.goto("/calendar/")
    more = _cell(page, start).get_by_role("link", name=re.compile(r"^\+1 more post on "))
    more.click()
    page.wait_for_url(f"**/calendar/?view=list&date={start.isoformat()}#day-{start.isoformat()}")
    day = page.locator(f'section[data-date="{start.isoformat()}"]')
    assert day.locator("article").count() == 4
    page.goto("/calendar/")

    move = page.locator(f'li[data-post-id="{post.pk}"]').get_by_role("link", name="Move Sprechstunde 0")
    move.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    date_input = dialog.get_by_label("New date")
    expect(date_input).to_be_focused()
    expect(date_input).to_have_value(start.isoformat())
    expect(dialog.get_by_label("Time")).to_have_value("10:30")
    date_input.fill(target.isoformat())
    dialog.get_by_label("Time").fill("08:05")
    dialog.get_by_role("button", name="Move").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/calendar/#cal-post-{post.pk}")

    page.locator(".messages", has_text="Moved “Sprechstunde 0”").wait_for()
    moved = _cell(page, target).locator("article", has_text="Sprechstunde 0")
    assert moved.locator("time").inner_text() == "08:05"
    assert _cell(page, start).get_by_role("link", name=re.compile(r"more post")).count() == 0  # three left
    post.refresh_from_db()
    assert post.scheduled_at == _berlin(target, dt.time(8, 5))


def test_the_dialog_closes_with_escape_and_gives_the_focus_back(
    page: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    start, _target = _days_this_month()
    post = _planned_post(editor, campaign, post_factory, start, "Bleib hier")
    browser_login(page, "editor")
    page.goto("/calendar/")
    move = page.locator(f'li[data-post-id="{post.pk}"]').get_by_role("link", name="Move Bleib hier")
    move.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(move).to_be_focused()
    post.refresh_from_db()
    assert post.scheduled_at == _berlin(start, dt.time(10, 30))


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
