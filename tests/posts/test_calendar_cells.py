"""The calendar grid's day cells built in Python give the markup the template gave."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

from posts.views.calendar import Day, grid_rows_html

# The grid's rows before they moved to posts.views.calendar (posts/calendar.html).
GRID_ROWS = (Path(__file__).parent / "reference" / "calendar_grid_rows.html").read_text()
HOSTILE = 'Impftag 12.12. "Grippe" 💉 <script>alert(1)</script> & Rückfragen: 030 / 123-4567 (Dr. Öztürk)'


def same(html: str) -> str:
    """Return ``html`` with the whitespace templates leave between and inside tags evened out."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


def _weeks() -> list[list[Day]]:
    first = dt.date(2026, 11, 30)  # a Monday: the grid of December 2026
    days = []
    for offset in range(35):
        date = first + dt.timedelta(days=offset)
        day = Day(date=date, in_period=date.month == 12, is_today=offset == 8)
        if offset % 3 == 0:
            day.cards_markup = mark_safe(f'<li class="cal-item" id="cal-post-{offset}">card</li>')
        if offset % 4 == 0:
            day.more = offset + 1
            day.more_url = f"?view=list&date={date.isoformat()}&campaign=1&status=draft#day-{date.isoformat()}"
            day.more_label = f"+{day.more} more"
            day.more_context = HOSTILE
        days.append(day)
    return [days[i : i + 7] for i in range(0, 35, 7)]


@pytest.mark.parametrize("language", ["en", "de", "tr", "ja"])
def test_the_grid_rows_are_the_templates(language: str) -> None:
    weeks = _weeks()
    with translation.override(language):
        expected = Template(GRID_ROWS).render(Context({"weeks": weeks}))
        written = grid_rows_html(weeks)
    assert same(written) == same(expected)
    assert written.count("<td") == 35 and "&lt;script&gt;" in written and "<script>" not in written
