"""The rows of the publishing list, built in Python (core.rows says why: 0.4 ms a row through the template)."""

from collections.abc import Iterable

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.i18n import message_display
from core.rows import iso, short, url_of
from core.templatetags.rounds_time import format_when
from publishing.models import Publication

# (publication, may the user retry it, its state's label, its platform's label)
Row = tuple[Publication, bool, str, str]


def publication_rows(rows: Iterable[Row], *, here: str, csrf_token: str) -> SafeString:
    """Return the ``<tr>`` of each publication: post, campaign, account, state, due, attempts, why, retry."""
    next_try, attempts, retry = _("next try"), _("Attempts"), _("Retry publishing")
    lines = []
    for publication, may_retry, status_label, platform_label in rows:
        when = publication.due_at
        due = format_html('<time datetime="{}">{}</time>', iso(when), format_when(when, "zone"))
        if publication.status == "retry_wait":
            due = format_html(
                '{}<br><span class="publication-muted">{} <time datetime="{}">{}</time></span>',
                due,
                next_try,
                iso(publication.next_attempt_at),
                short(publication.next_attempt_at),
            )
        action = (
            format_html(
                '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="next" value="{}"><button type="submit">{}</button></form>',
                url_of("publishing:publication_retry", publication.pk),
                csrf_token,
                here,
                retry,
            )
            if may_retry
            else ""
        )
        lines.append(
            format_html(
                '<tr data-publication="{}" data-status="{}"><td><a href="{}">{}</a></td><td>{}</td>'
                '<td>{} <span class="publication-muted">({})</span></td>'
                '<td><span class="badge publication-{}">{}</span></td><td>{}</td><td data-label="{}">{}</td>'
                "<td>{}</td><td>{}</td></tr>",
                publication.pk,
                publication.status,
                url_of("posts:post_detail", publication.post_id),
                str(publication.post),
                publication.post.campaign.name,
                publication.account.name,
                platform_label,
                publication.status,
                status_label,
                due,
                attempts,
                publication.attempts,
                message_display(publication.last_error) or "—",
                action,
            )
        )
    return mark_safe("\n".join(lines))  # noqa: S308  (format_html escaped every value)
