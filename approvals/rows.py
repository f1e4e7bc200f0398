"""The rows of "My reviews" and "My posts", built in Python (core.rows says why)."""

from collections.abc import Iterable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from approvals.selectors import InboxItem, MyPostRow
from core.i18n import display_name
from core.rows import iso, short, url_of
from core.templatetags.rounds_labels import choice_label
from core.templatetags.rounds_time import format_when


def inbox_rows(items: Iterable[InboxItem]) -> SafeString:
    """Return the ``<tr>`` of each inbox line: post, campaign, stage, deadline, scheduled time, revision."""
    after_publishing = format_html(' <span class="badge">{}</span>', _("After publishing"))
    past_its_time = format_html(' <strong class="overdue-flag">{}</strong>', _("Past its time: not published"))
    rows = []
    for item in items:
        post, run = item.post, item.stage_run
        scheduled = (
            format_html(
                '<time datetime="{}">{}</time>{}',
                iso(post.scheduled_at),
                format_when(post.scheduled_at, "zone"),
                past_its_time if item.post_overdue else "",
            )
            if post.scheduled_at
            else "—"
        )
        rows.append(
            format_html(
                '<tr class="review-inbox-row{}" data-post="{}"><td><a href="{}">{}</a></td><td>{}</td>'
                "<td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                " overdue" if item.is_overdue or item.post_overdue else "",
                post.pk,
                url_of("approvals:review", post.pk),
                str(post),
                post.campaign.name,
                run.stage.display_name,
                after_publishing if run.stage.after_publication else "",
                _deadline_state(item),
                scheduled,
                run.revision_number,  # type: ignore[attr-defined]
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308  (format_html escaped every value)


def _deadline_state(item: InboxItem) -> SafeString:
    deadline = item.stage_run.deadline
    if deadline is None:
        state = mark_safe("—")
    elif item.is_overdue:
        state = format_html(
            '<time datetime="{}">{}</time> <strong class="overdue-flag">{}</strong>',
            iso(deadline),
            short(deadline),
            _("Overdue by %(late)s") % {"late": timesince(deadline)},
        )
    else:
        state = format_html(
            '<time datetime="{}">{}</time> <span class="review-muted">{}</span>',
            iso(deadline),
            short(deadline),
            _("Due in %(left)s") % {"left": timeuntil(deadline)},
        )
    deputies = format_html_join(
        "",
        '<br><span class="deputy-flag">{}</span>',
        ((_("Escalated to you as deputy of %(absent)s") % {"absent": absent},) for absent in item.deputy_for),
    )
    return format_html("{}{}", state, deputies)


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
