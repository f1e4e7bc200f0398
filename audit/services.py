import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from audit.erasure import KeyOwner, SealMemo, key_owners, keys_for, seal
from audit.models import (
    GENESIS_HASH,
    MAIL_KEY_MAX_LENGTH,
    SYSTEM_ACTOR,
    AuditEvent,
    ErasureKey,
    Notification,
    canonical_json,
    event_hash,
    object_type_of,
)
from core.bulk import JsonText, rows_insert
from core.inputs import storable

# Any constant: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_210_311


# Who acts: a user (anonymous ones are recorded by name only), a command's name, or None: the system.
Actor = AbstractBaseUser | AnonymousUser | str | None

_ENCODER = DjangoJSONEncoder()
_SCALARS = frozenset({str, int, bool, type(None)})  # values the JSON round trip gives back unchanged


class _NotPlain(Exception):
    """A value `_plain` does not copy exactly as the JSON round trip would."""


def _plain(value: Any) -> Any:
    # The JSON round trip of `_normalise`, without encoding and decoding, for the types events
    # carry: keys sorted, tuples as lists, datetimes and dates as DjangoJSONEncoder writes them;
    # and, in the same walk, every text `storable`.
    kind = type(value)
    if kind is str:
        return storable(value)
    if kind is int or kind is bool or value is None:
        return value
    if kind is float and math.isfinite(value):
        return value
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain
        copied = {}
        for key in sorted(value):
            item = value[key]
            kind = type(item)
            copied[storable(key)] = storable(item) if kind is str else item if kind in _SCALARS else _plain(item)
        return copied
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    if kind is dt.datetime or kind is dt.date:
        return _ENCODER.default(value)
    raise _NotPlain


def _normalise(changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``changes`` as they read back from JSON: exactly what the hash is computed over.

    A character JSON in PostgreSQL cannot hold (NUL, a lone surrogate) is replaced, so no
    value that reached a service can keep its event, and with it the change, from being stored.
    """
    try:
        return cast("dict[str, Any]", _plain(changes))
    except _NotPlain:
        plain = json.loads(json.dumps(changes, cls=DjangoJSONEncoder, sort_keys=True))
    return cast("dict[str, Any]", storable(plain))


def _user(actor: Actor) -> AbstractBaseUser | None:
    """Return ``actor`` if it is a logged-in user (who gets the foreign key), else None."""
    return actor if isinstance(actor, AbstractBaseUser) and actor.is_authenticated else None


@transaction.atomic
def event_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    content_hash: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction; returns it.

    Every state-changing service calls this inside its own transaction, so the event
    exists exactly when the change does. Values wrapped in `audit.erasure.Personal`, and the
    object's name where a key owner is registered for it, are stored sealed (docs/erasure.md).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite runs IMMEDIATE transactions (settings), so writers are already serialised.
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    user = _user(actor)
    object_repr, sealed = seal(obj=obj, changes=changes or {}, repr_text=storable(str(obj))[:300])
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        created_at=timezone.now(),
        # The foreign key is to AUTH_USER_MODEL (people.User), which audit, below people, may not name.
        actor=user,  # type: ignore[misc]
        actor_repr=(user.get_username() if user is not None else str(actor or SYSTEM_ACTOR))[:200],
        action=action,
        object_type=object_type_of(obj),
        object_id=str(obj.pk),
        object_repr=object_repr,
        content_hash=content_hash,
        changes=_normalise(sealed),
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
def events_record_many(
    *, actor: Actor, events: Sequence[EventSpec], keys: Mapping[KeyOwner, ErasureKey] | None = None
) -> int:
    """Append ``events`` to the chain in order, as many `event_record` calls would; returns how many.

    One read of the chain's end and one insert (COPY on PostgreSQL), for services that write
    thousands of rows at once (plan imports). Same lock, same hashes (`event_hash`, which
    ``verify_audit`` checks), same caller's transaction; the rows are hashed as tuples, never
    built as models. ``keys``: erasure keys the caller already holds (`audit.erasure.keys_create`'s
    for objects it just made); the others are looked up or created.
    """
    if not events:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    first_seq = last.seq if last else 0
    first_prev_hash = last.hash if last else GENESIS_HASH
    user = _user(actor)
    actor_id = user.pk if user is not None else None
    actor_repr = (user.get_username() if user is not None else str(actor or SYSTEM_ACTOR))[:200]
    now = timezone.now()
    stamp = now.isoformat()
    known = dict(keys or {})
    # Asked once per object: a post's events (created, first revision) share its owners and name.
    owners_of: dict[int, list[KeyOwner]] = {}
    repr_of: dict[int, str] = {}  # read here: nothing may query the database while the rows stream
    for spec in events:
        if id(spec.obj) not in owners_of:
            owners_of[id(spec.obj)] = key_owners(spec.obj)
            repr_of[id(spec.obj)] = storable(str(spec.obj))[:300]
    known.update(keys_for(owner for owners in owners_of.values() for owner in owners if owner not in known))
    memo: SealMemo = {}

    def rows() -> Iterator[tuple[Any, ...]]:
        seq, prev_hash = first_seq, first_prev_hash
        for spec in events:
            seq += 1
            obj_type, obj_id = object_type_of(spec.obj), str(spec.obj.pk)
            obj_repr, sealed = seal(
                obj=spec.obj,
                changes=spec.changes or {},
                repr_text=repr_of[id(spec.obj)],
                known=known,
                owners=owners_of[id(spec.obj)],
                memo=memo,
            )
            changes = _normalise(sealed)
            # Encoded once: hashed, then stored as this very text.
            encoded = JsonText(canonical_json(changes))
            digest = event_hash(
                seq=seq,
                created_at=stamp,
                actor_id=actor_id,
                actor_repr=actor_repr,
                action=spec.action,
                object_type=obj_type,
                object_id=obj_id,
                object_repr=obj_repr,
                content_hash=spec.content_hash,
                changes=changes,
                prev_hash=prev_hash,
                changes_json=encoded,
            )
            fields = (seq, now, actor_id, actor_repr, spec.action, obj_type, obj_id, obj_repr, spec.content_hash)
            yield (*fields, encoded, prev_hash, digest)  # in the order of _EVENT_FIELDS
            prev_hash = digest

    # Streamed: on PostgreSQL the server stores each part of the COPY while the next is sealed and hashed.
    rows_insert(model=AuditEvent, fields=_EVENT_FIELDS, rows=rows())
    return len(events)


def mail_claim(*, key: str, recipients: list[str]) -> bool:
    """Claim event ``key`` for mailing ``recipients``; return False if it was claimed before.

    The ledger ``core.mail.mail_once`` asks (registered in ``AuditConfig.ready``).
    """
    if len(key) > MAIL_KEY_MAX_LENGTH:
        raise ValueError(f"A mail key has at most {MAIL_KEY_MAX_LENGTH} characters: {key!r}")
    # The unique key makes a second delivery of the same task a no-op; a second worker claiming
    # it at the same moment waits on the unique index and then fails here too.
    try:
        with transaction.atomic():
            Notification.objects.create(key=key, recipients=recipients)
    except IntegrityError:
        return False
    return True
