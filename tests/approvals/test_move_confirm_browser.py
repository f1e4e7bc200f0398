"""Dragging a post in review to a day that compresses its review asks first (issue 14, point 5)."""

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import ReviewStage
from approvals.services import chain_for_post, round_submit
from audit.models import AuditEvent
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # the editor fixture's time zone


def test_dragging_to_a_compressing_day_asks_and_moves_once_confirmed(
    page: Any, editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    # Two neighbouring days of one Monday-to-Sunday week, both ahead.
    target = timezone.localdate(timezone=BERLIN) + dt.timedelta(days=1)
    if target.weekday() == 6:
        target += dt.timedelta(days=1)
    start = target + dt.timedelta(days=1)
    slot = dt.datetime.combine(start, dt.time(12, 0), tzinfo=BERLIN)
    post = post_factory(
        editor, review_campaign, title="Drag me closer", targets=[account_factory("facebook")], when=slot
    )
    # The chain needs twelve hours more than the day before leaves, so it fits at the slot and not there.
    left_there = dt.datetime.combine(target, dt.time(12, 0), tzinfo=BERLIN) - timezone.now() - 2 * dt.timedelta(hours=1)
    stages = ReviewStage.objects.filter(chain=chain_for_post(post=post), after_publication=False).order_by("position")
    first = stages.first()
    assert first is not None
    stages.exclude(pk=first.pk).update(turnaround=dt.timedelta())
    ReviewStage.objects.filter(pk=first.pk).update(turnaround=left_there + dt.timedelta(hours=12))
    round_submit(post=post, actor=editor, compressed_ok=False)  # fits at the slot

    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    browser_login(page, "editor")
    page.goto(f"/calendar/?view=week&date={target.isoformat()}")
    cell = page.locator(f'td[data-date="{start.isoformat()}"], [data-date="{start.isoformat()}"].cal-day').first
    cell.locator("article", has_text="Drag me closer").drag_to(
        page.locator(f'[data-date="{target.isoformat()}"]').first
    )
    page.locator("[data-cal-live]").filter(has_text="Moved").wait_for()
    assert len(asked) == 1 and "hours" in asked[0]
    post.refresh_from_db()
    assert post.scheduled_at == dt.datetime.combine(target, dt.time(12, 0), tzinfo=BERLIN)
    moved = AuditEvent.objects.get(action="post.moved", object_id=str(post.pk))
    assert moved.changes["compressed_review_confirmed"] is True
