"""The inbox's and "My posts"' rows built in Python give the markup their templates gave."""

import datetime as dt
import re
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from approvals.models import ReviewStage, StageRun
from approvals.rows import inbox_rows, my_posts_rows
from approvals.selectors import InboxItem, MyPostRow
from posts.models import Campaign, Post

# The templates' rows before they moved to approvals.rows (approvals/inbox.html, my_posts.html).
REFERENCE = Path(__file__).parent / "reference"
INBOX_ROW = (REFERENCE / "inbox_rows.html").read_text()

MY_POSTS_ROW = (REFERENCE / "my_posts_rows.html").read_text()

HOSTILE = 'Impftag 12.12. "Grippe" 💉 <script>alert(1)</script> & Rückfragen: 030 / 123-4567 (Dr. Öztürk)'


def same(html: str) -> str:
    """Return ``html`` with the whitespace templates leave between and inside tags evened out."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


def _post(pk: int, *, title: str, scheduled: dt.datetime | None, status: str = "in_review") -> Post:
    campaign = Campaign(pk=pk % 3 + 1, name=f"Herzwoche & <Kampagne {pk}>")
    post = Post(pk=pk, title=title, body="Text", status=status, scheduled_at=scheduled, campaign=campaign)
    return post


def _inbox_items(now: dt.datetime) -> list[InboxItem]:
    items = []
    for pk, (deadline, after, overdue, post_overdue, deputies) in enumerate(
        product(
            [None, now - dt.timedelta(hours=30), now + dt.timedelta(days=2, hours=3)],
            [False, True],
            [False, True],
            [False, True],
            [(), ("Dr. Anna Müller", 'Ömer "O" <Yılmaz>')],
        ),
        start=1,
    ):
        stage = ReviewStage(pk=pk, name="Medical" if pk % 2 else "Pflege & <Ethik>", after_publication=after)
        run = StageRun(pk=pk, stage=stage, deadline=deadline)
        run.revision_number = pk % 4 + 1  # type: ignore[attr-defined]
        scheduled = None if pk % 5 == 0 else now + dt.timedelta(days=pk)
        post = _post(pk, title=HOSTILE if pk % 2 else f"Sprechstunde {pk}", scheduled=scheduled)
        items.append(InboxItem(run, post, overdue, post_overdue, deputies))
    return items


@pytest.mark.parametrize(("language", "zone"), [("en", "UTC"), ("de", "Europe/Berlin"), ("ja", "Asia/Tokyo")])
def test_inbox_rows_are_the_templates(language: str, zone: str, db: Any) -> None:
    now = timezone.now()
    items = _inbox_items(now)
    with translation.override(language), timezone.override(zone):
        expected = Template(INBOX_ROW).render(Context({"items": items}))
        built = inbox_rows(items)
    assert same(built) == same(expected)
    assert "<script>" not in built and "&lt;script&gt;" in built


@pytest.mark.parametrize(("language", "zone"), [("en", "UTC"), ("tr", "Europe/Istanbul"), ("ja", "Asia/Tokyo")])
def test_my_posts_rows_are_the_templates(language: str, zone: str, db: Any) -> None:
    now = timezone.now()
    rows = [
        MyPostRow(
            post=_post(
                pk, title=HOSTILE if pk % 2 else f"Tag der offenen Tür {pk}", scheduled=scheduled, status=status
            ),
            is_overdue=overdue,
            review_stage=stage,
            review_deadline=deadline,
        )
        for pk, (scheduled, status, overdue, stage, deadline) in enumerate(
            product(
                [None, now + dt.timedelta(days=3)],
                ["draft", "changes_requested", "published"],
                [False, True],
                ["", "Medical", "Legal & <Compliance>"],
                [None, now + dt.timedelta(hours=5)],
            ),
            start=1,
        )
    ]
    with translation.override(language), timezone.override(zone):
        expected = Template(MY_POSTS_ROW).render(Context({"rows": rows}))
        built = my_posts_rows(rows)
    assert same(built) == same(expected)
    assert "<script>" not in built and "&lt;script&gt;" in built
