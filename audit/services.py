import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent
from calendar_project.bulk import rows_insert

# Any constant: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_210_311


def _normalise(changes: dict[str, Any]) -> dict[str, Any]:
    # Store exactly what the hash was computed over (dates as ISO strings, etc.).
    return json.loads(json.dumps(changes, cls=DjangoJSONEncoder, sort_keys=True))


@transaction.atomic
def event_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    content_hash: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction; returns it.

    Every state-changing service calls this inside its own transaction, so the event
    exists exactly when the change does.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite runs IMMEDIATE transactions (settings), so writers are already serialised.
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        created_at=timezone.now(),
        actor=actor if is_user else None,
        actor_repr=(actor.get_username() if is_user else str(actor or "system"))[:200],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        content_hash=content_hash,
        changes=_normalise(changes or {}),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class EventSpec:
    """One event for `events_record_many`: what `event_record` takes besides the actor."""

    action: str
    obj: models.Model
    changes: dict[str, Any] | None = None
    content_hash: str = ""


_EVENT_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_repr",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "content_hash",
    "changes",
    "prev_hash",
    "hash",
)


@transaction.atomic
def events_record_many(*, actor: Any, events: Sequence[EventSpec]) -> list[AuditEvent]:
    """Append ``events`` to the chain in order, as many `event_record` calls would; returns them unsaved.

    One read of the chain's end and one multi-row insert, for services that write thousands of
    rows at once (plan imports). Same lock, same hashes, same caller's transaction. The returned
    events carry no primary key.
    """
    if not events:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    seq = last.seq if last else 0
    prev_hash = last.hash if last else GENESIS_HASH
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    actor_repr = (actor.get_username() if is_user else str(actor or "system"))[:200]
    now = timezone.now()
    rows: list[AuditEvent] = []
    for spec in events:
        seq += 1
        event = AuditEvent(
            seq=seq,
            created_at=now,
            actor=actor if is_user else None,
            actor_repr=actor_repr,
            action=spec.action,
            object_type=spec.obj._meta.label_lower,
            object_id=str(spec.obj.pk),
            object_repr=str(spec.obj)[:300],
            content_hash=spec.content_hash,
            changes=_normalise(spec.changes or {}),
            prev_hash=prev_hash,
        )
        event.hash = event.compute_hash()
        prev_hash = event.hash
        rows.append(event)
    rows_insert(
        model=AuditEvent,
        fields=_EVENT_FIELDS,
        rows=([getattr(event, name) for name in _EVENT_FIELDS] for event in rows),
    )
    return rows
