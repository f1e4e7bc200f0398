import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent

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
