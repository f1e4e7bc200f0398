"""The rows of the publishing list, built in Python (core.rows says why: 0.4 ms a row through the template)."""

from collections.abc import Iterable

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.i18n import message_display
from core.rows import escape, iso, short, url_of
from core.templatetags.rounds_time import format_when
from publishing.models import Publication

# (publication, may the user retry it, its state's label, its platform's label)
Row = tuple[Publication, bool, str, str]


def publication_rows(rows: Iterable[Row], *, here: str, csrf_token: str) -> SafeString:
    """Return the ``<tr>`` of each publication: post, campaign, account, state, due, attempts, why, retry.

    Written with f-strings and ``core.rows.escape``, as the inbox's lines (approvals.rows).
    """
    next_try, attempts = escape(_("next try")), escape(_("Attempts"))
    retry = escape(_("Retry publishing"))  # outside the f-string: xgettext does not read inside one
    # The same hidden fields and words in every row's form; only its action differs.
    retry_fields = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        f'<input type="hidden" name="next" value="{escape(here)}"><button type="submit">{retry}'
        "</button></form>"
    )
    lines = []
    for publication, may_retry, status_label, platform_label in rows:
        when = publication.due_at
        due = f'<time datetime="{iso(when)}">{escape(format_when(when, "zone"))}</time>'
        if publication.status == "retry_wait":
            again = publication.next_attempt_at
            due += (
                f'<br><span class="publication-muted">{next_try} '
                f'<time datetime="{iso(again)}">{escape(short(again))}</time></span>'
            )
        action = (
            f'<form method="post" action="{escape(url_of("publishing:publication_retry", publication.pk))}">'
            + retry_fields
            if may_retry
            else ""
        )
        status = escape(publication.status)
        lines.append(
            f'<tr data-publication="{publication.pk}" data-status="{status}">'
            f'<td><a href="{escape(url_of("posts:post_detail", publication.post_id))}">'
            f"{escape(publication.post)}</a></td>"
            f"<td>{escape(publication.post.campaign.name)}</td>"
            f"<td>{escape(publication.account.name)} "
            f'<span class="publication-muted">({escape(platform_label)})</span></td>'
            f'<td><span class="badge publication-{status}">{escape(status_label)}</span></td><td>{due}</td>'
            f'<td data-label="{attempts}">{publication.attempts}</td>'
            f"<td>{escape(message_display(publication.last_error) or '—')}</td><td>{action}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308  (every value is escaped above)
