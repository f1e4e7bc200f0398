"""The consent registry's rows, built in Python (core.rows says why: the template spent most of the page on them)."""

from collections.abc import Iterable, Sequence
from typing import TypedDict

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consent.models import ConsentRecord, ConsentState, Subject
from core.dates import date_format
from core.rows import escape, url_of


class RegistryRow(TypedDict):
    subject: Subject
    records: Sequence[tuple[ConsentRecord, ConsentState]]


def registry_rows(rows: Iterable[RegistryRow]) -> SafeString:
    """Return the ``<tr>`` of each person: name (and whether deceased), reference, consent records with their state."""
    deceased = format_html(' <span class="badge">{}</span>', _("deceased"))
    nothing = format_html("<li>{}</li>", _("No consent recorded."))
    lines = []
    for row in rows:
        subject = row["subject"]
        records = mark_safe("".join(_record(record, state) for record, state in row["records"]))  # noqa: S308
        lines.append(
            format_html(
                '<tr data-subject="{}"><td><a href="{}">{}</a>{}</td><td>{}</td>'
                '<td><ul class="consent-record-list">{}</ul></td></tr>',
                subject.pk,
                url_of("consent:subject_detail", subject.pk),
                subject.display_name,
                deceased if subject.deceased_on else "",
                subject.reference,
                records or nothing,
            )
        )
    return mark_safe("\n".join(lines))  # noqa: S308  (format_html escaped every value)


def _record(record: ConsentRecord, state: ConsentState) -> SafeString:
    # The words as the template's blocktranslate gave them: the translation as it is, the value escaped.
    signed = _("signed %(date)s") % {"date": escape(date_format(record.signed_on, "SHORT_DATE_FORMAT"))}
    if record.expires_on:
        until = _("until %(date)s") % {"date": escape(date_format(record.expires_on, "SHORT_DATE_FORMAT"))}
    elif record.expiry_event:
        until = _("until: %(event)s") % {"event": escape(record.expiry_event)}
    else:
        until = ""
    return format_html(
        '<li><a href="{}">{}</a>'
        '<span class="badge consent-state consent-state-{}" data-consent-state="{}">{}</span>{}</li>',
        url_of("consent:record_detail", record.pk),
        mark_safe(signed),  # noqa: S308  (the date is escaped above; the words are the catalogue's)
        state.value,
        state.value,
        state.label,
        format_html("<small>{}</small>", mark_safe(until)) if until else "",  # noqa: S308  (as above)
    )
