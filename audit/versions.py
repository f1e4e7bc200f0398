"""Versions of objects, read from the audit trail: what a form was opened on, and who changed it since.

Every service that changes a post, a person or a consent record appends an audit event on it
in the same transaction, and event sequence numbers only grow. So the version of an object is
the sequence number of the latest event that changed it (0 before any): a form carries the
version it was opened on, and the service compares it, under the row lock, with the current
one. The events after the opened version say who changed what, and when.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import models
from django.db.models.functions import Cast, Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent, object_type_of
from core.web import Conflict

# Events that record a reading or a reminder, not a change: they never make a form stale.
NOT_CHANGES = frozenset({"consent.document_viewed", "consent.fhir_exported", "consent.expiry_reminded"})


@dataclass(frozen=True)
class Change:
    """One line of "what changed": a field's label and, where short, its old and new value."""

    label: str
    old: str = ""
    new: str = ""


class StaleVersion(Conflict):
    """A form was opened on an older version of the object than the one stored now."""

    def __init__(self, message: str, *, version: int, name: str, when: dt.datetime | None, changes: list[Change]):
        super().__init__(message, code="stale")
        self.version = version
        self.name = name
        self.when = when
        self.changes = changes


def _change_events(object_type: str, object_id: object) -> "models.QuerySet[AuditEvent]":
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).exclude(action__in=NOT_CHANGES)


def version_of(*, model: type[models.Model], pk: object) -> int:
    """Return the version of the object ``model`` ``pk``: the sequence number of its latest change, or 0."""
    latest = _change_events(object_type_of(model), pk).order_by("-seq").values_list("seq", flat=True).first()
    return latest or 0


def version_annotation(model: type[models.Model]) -> Coalesce:
    """Return an expression giving each row of ``model`` its version, for ``QuerySet.annotate``."""
    latest = (
        AuditEvent.objects.filter(
            object_type=object_type_of(model), object_id=Cast(models.OuterRef("pk"), models.CharField())
        )
        .exclude(action__in=NOT_CHANGES)
        .order_by("-seq")
        .values("seq")[:1]
    )
    return Coalesce(models.Subquery(latest), models.Value(0), output_field=models.PositiveBigIntegerField())


def version_parse(value: object) -> int:
    """Return the version a submitted form carries; 0 (older than anything stored) when it carries none."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else 0


def _actor_name(event: AuditEvent) -> str:
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    return event.actor_repr or _("the system")


def version_check(
    *,
    obj: models.Model,
    expected: int | None,
    message: str,
    describe: Callable[[Sequence[AuditEvent]], list[Change]],
) -> None:
    """Raise `StaleVersion` unless ``obj`` is still at version ``expected`` (None: no check).

    The caller holds ``obj``'s row lock, so no change can slip in between this check and its write.
    ``message`` names the object and takes ``%(name)s`` and ``%(time)s``.
    """
    if expected is None:
        return
    events = list(
        _change_events(object_type_of(obj), obj.pk).filter(seq__gt=expected).select_related("actor").order_by("seq")
    )
    latest = events[-1] if events else None
    if latest is None:
        current = version_of(model=type(obj), pk=obj.pk)
        if current == expected:
            return
        latest = _change_events(object_type_of(obj), obj.pk).select_related("actor").order_by("-seq").first()
    version = latest.seq if latest is not None else 0
    when = latest.created_at if latest is not None else None
    name = _actor_name(latest) if latest is not None else _("someone")
    time = formats.date_format(timezone.localtime(when), "SHORT_DATETIME_FORMAT") if when else "—"
    raise StaleVersion(
        message % {"name": name, "time": time}, version=version, name=name, when=when, changes=describe(events)
    )


def changes_merge(changes: Sequence[Change]) -> list[Change]:
    """Return one line per label: the first old value and the last new one, in first-seen order."""
    merged: dict[str, Change] = {}
    for change in changes:
        first = merged.get(change.label)
        merged[change.label] = change if first is None else Change(change.label, first.old, change.new)
    return [change for change in merged.values() if change.old != change.new or not (change.old or change.new)]
