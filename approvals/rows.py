"""The rows of "My reviews" and "My posts", built in Python (core.rows says why)."""

import datetime as dt
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from approvals.selectors import InboxItem, MyPostRow
from core.dates import date_format, time_strings
from core.i18n import display_name
from core.rows import escape, iso, short, url_of
from core.templatetags.rounds_labels import choice_label
from core.templatetags.rounds_time import format_when


def inbox_rows(items: Iterable[InboxItem]) -> SafeString:
    """Return the ``<tr>`` of each inbox line: post, campaign, stage, deadline, scheduled time, revision.

    Written with f-strings and ``core.rows.escape`` (as the calendar's cards): ``format_html``
    looked for lazy text in every argument of its five calls per line.
    """
    # Words looked up outside the f-strings: xgettext does not read inside them (tests/test_i18n.py).
    after_publishing_word = escape(_("After publishing"))
    past_its_time_word = escape(_("Past its time: not published"))
    after_publishing = f' <span class="badge">{after_publishing_word}</span>'
    past_its_time = f' <strong class="overdue-flag">{past_its_time_word}</strong>'
    words = _DeadlineWords(
        _("Overdue by %(late)s"),
        _("Due in %(left)s"),
        _("Escalated to you as deputy of %(absent)s"),
        timezone.now(),
        time_strings(),
    )
    rows = []
    for item in items:
        post, run = item.post, item.stage_run
        if post.scheduled_at:
            scheduled = (
                f'<time datetime="{iso(post.scheduled_at)}">{escape(format_when(post.scheduled_at, "zone"))}</time>'
                + (past_its_time if item.post_overdue else "")
            )
        else:
            scheduled = "—"
        stage = escape(run.stage.display_name) + (after_publishing if run.stage.after_publication else "")
        rows.append(
            f'<tr class="review-inbox-row{" overdue" if item.is_overdue or item.post_overdue else ""}"'
            f' data-post="{post.pk}"><td><a href="{escape(url_of("approvals:review", post.pk))}">'
            f"{escape(post)}</a></td>"
            f"<td>{escape(post.campaign.name)}</td><td>{stage}</td><td>{_deadline_state(item, words)}</td>"
            f"<td>{scheduled}</td><td>{escape(run.revision_number)}</td></tr>"  # type: ignore[attr-defined]
        )
    return mark_safe("\n".join(rows))  # noqa: S308  (every value is escaped above)


class _DeadlineWords(NamedTuple):
    overdue_by: str
    due_in: str
    deputy_of: str
    now: dt.datetime  # one moment for the whole page: every line's "due in" counts from it
    durations: dict[str, Any]  # core.dates.time_strings of the page's language


def _deadline_state(item: InboxItem, words: _DeadlineWords) -> str:
    deadline = item.stage_run.deadline
    if deadline is None:
        state = "—"
    else:
        local = timezone.localtime(deadline)
        moment = f'<time datetime="{local.isoformat()}">{escape(date_format(local, "SHORT_DATETIME_FORMAT"))}</time>'
        if item.is_overdue:
            late = escape(words.overdue_by % {"late": timesince(deadline, words.now, time_strings=words.durations)})
            state = f'{moment} <strong class="overdue-flag">{late}</strong>'
        else:
            left = escape(words.due_in % {"left": timeuntil(deadline, words.now, time_strings=words.durations)})
            state = f'{moment} <span class="review-muted">{left}</span>'
    deputies = "".join(
        f'<br><span class="deputy-flag">{escape(words.deputy_of % {"absent": absent})}</span>'
        for absent in item.deputy_for
    )
    return state + deputies


def my_posts_rows(rows: Iterable[MyPostRow]) -> SafeString:
    """Return the ``<tr>`` of each "My posts" line: post, state, campaign, scheduled time, review."""
    overdue = format_html(' <strong class="overdue-flag">{}</strong>', _("Overdue"))
    lines = []
    for row in rows:
        post = row.post
        scheduled = (
            format_html('<time datetime="{}">{}</time>', iso(post.scheduled_at), format_when(post.scheduled_at, "zone"))
            if post.scheduled_at
            else "—"
        )
        if row.review_stage:
            review = format_html(
                '<a href="{}">{}</a>', url_of("approvals:review", post.pk), display_name(row.review_stage)
            )
            if row.review_deadline:
                review = format_html(
                    '{} · <span class="review-muted">{} <time datetime="{}">{}</time></span>',
                    review,
                    _("due"),
                    iso(row.review_deadline),
                    short(row.review_deadline),
                )
        else:
            review = format_html('<a href="{}">{}</a>', url_of("approvals:review", post.pk), _("Review page"))
        lines.append(
            format_html(
                '<tr class="review-mine-row{}" data-post="{}" data-status="{}"><td><a href="{}">{}</a></td>'
                "<td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
                " overdue" if row.is_overdue else "",
                post.pk,
                post.status,
                url_of("posts:post_detail", post.pk),
                str(post),
                choice_label(post, "status"),
                post.campaign.name,
                scheduled,
                overdue if row.is_overdue else "",
                review,
            )
        )
    return mark_safe("\n".join(lines))  # noqa: S308  (format_html escaped every value)
