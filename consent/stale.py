"""Refuse a save made on an older version of a person or a consent record (audit.versions)."""

from collections.abc import Sequence

from django.utils.translation import gettext as _

from audit.erasure import Opener
from audit.models import AuditEvent
from audit.versions import Change, changes_merge, version_check
from consent.models import ConsentRecord, Subject

SHORT = 80


def _short(value: object) -> str:
    text = " ".join(str(value if value is not None else "—").split())
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def subject_changes(events: Sequence[AuditEvent]) -> list[Change]:
    """Return what ``events`` changed of a person, one line per field."""
    lines = []
    opener = Opener()
    for event in events:
        for name, values in opener.changes(event).items():
            if event.action == "subject.changed" and isinstance(values, list) and len(values) == 2:
                label = str(getattr(Subject._meta.get_field(name), "verbose_name", name)).capitalize()
                lines.append(Change(label, _short(values[0]), _short(values[1])))
    return changes_merge(lines)


def record_changes(events: Sequence[AuditEvent]) -> list[Change]:
    """Return what ``events`` did to a consent record: verified, revoked, expired."""
    lines = []
    for event in events:
        if event.action == "consent.verified":
            lines.append(Change(_("Verification"), _("pending"), _("verified")))
        elif event.action == "consent.revoked":
            reason = Opener().open(event.changes.get("reason")) or event.changes.get("received_via") or ""
            lines.append(Change(_("Revocation"), "", _short(_("revoked: %(reason)s") % {"reason": reason})))
        elif event.action == "consent.expired":
            lines.append(Change(_("Expiry"), "", _("expired")))
    return changes_merge(lines)


def subject_version_check(*, subject: Subject, expected: int | None) -> None:
    """Raise `audit.versions.StaleVersion` if ``subject`` (locked by the caller) changed since ``expected``."""
    version_check(
        obj=subject,
        expected=expected,
        message=_("This person's details were changed by %(name)s at %(time)s since you opened them."),
        describe=subject_changes,
    )


def record_version_check(*, record: ConsentRecord, expected: int | None) -> None:
    """Raise `audit.versions.StaleVersion` if ``record`` (locked by the caller) changed since ``expected``."""
    version_check(
        obj=record,
        expected=expected,
        message=_("This consent was changed by %(name)s at %(time)s since you opened it."),
        describe=record_changes,
    )
