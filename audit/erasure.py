"""Crypto-shredding for the audit chain: personal data sealed under erasable per-owner keys.

An event's hash covers the ciphertext only, so erasing (deleting a key) changes no hashed byte:
``verify_audit`` still holds, and what was sealed reads "erased on DATE by NAME" ever after.

Apps above audit say whose key seals an object's events with ``key_owners_register``: a resolver
returns the owners (``(owner_type, owner_id)``) of an object, e.g. a consent record's person, or
a post whose texts may name the people it features. Such an object's ``object_repr`` is stored as
a neutral "<type> #<id>" and its real name goes into ``changes[SEALED_REPR]`` sealed; values a
service wraps in `Personal` are sealed the same way.
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent, ErasureKey, object_type_of
from core.bulk import instance_maker, rows_insert_returning
from core.crypto import fernet
from core.templatetags.rounds_time import format_when

KeyOwner = tuple[str, str]
SEALED_REPR = "_repr"
ENVELOPE = "erasable"
# A data key stored without an instance key (ROUNDS_CREDENTIALS_KEYS unset) carries this prefix;
# deleting it still shreds, only a database dump then also holds the keys (a deploy check warns).
_PLAIN_PREFIX = "plain:"

KeyOwnerResolver = Callable[[models.Model], list[KeyOwner]]
_resolvers: dict[str, KeyOwnerResolver] = {}


@dataclass(frozen=True)
class Personal:
    """A value in an event's ``changes`` that is personal data: stored sealed under the object's keys."""

    value: Any


def key_owners_register(key: str, resolver: KeyOwnerResolver) -> None:
    """Let a higher app say whose erasure keys seal an object's events (called from ``ready()``)."""
    _resolvers[key] = resolver


def key_owner(obj: models.Model) -> KeyOwner:
    """Return the owner an object's own key is filed under."""
    return (object_type_of(obj), str(obj.pk))


def key_owners(obj: models.Model) -> list[KeyOwner]:
    """Return the owners whose keys seal ``obj``'s events, without repeats, in a stable order."""
    found: list[KeyOwner] = []
    for resolver in _resolvers.values():
        for owner in resolver(obj):
            if owner[1] not in ("", "None") and owner not in found:
                found.append(owner)
    return found


def _instance_seal(raw: bytes) -> str:
    if not settings.ROUNDS_CREDENTIALS_KEYS:
        return _PLAIN_PREFIX + raw.decode()
    return fernet().encrypt(raw).decode()


def _instance_open(stored: str) -> bytes:
    if stored.startswith(_PLAIN_PREFIX):
        return stored.removeprefix(_PLAIN_PREFIX).encode()
    return fernet().decrypt(stored.encode())


def keys_for(owners: Iterable[KeyOwner]) -> dict[KeyOwner, ErasureKey]:
    """Return the keys of ``owners``, creating those missing (in the caller's transaction)."""
    wanted = list(dict.fromkeys(owners))
    if not wanted:
        return {}
    found = _keys_loaded(wanted)
    missing = [owner for owner in wanted if owner not in found]
    if missing:
        ErasureKey.objects.bulk_create(
            [
                ErasureKey(owner_type=kind, owner_id=pk, key=_instance_seal(Fernet.generate_key()))
                for kind, pk in missing
            ],
            ignore_conflicts=True,
        )
        found.update(_keys_loaded(missing))
    return found


def keys_create(owners: Iterable[KeyOwner]) -> dict[KeyOwner, ErasureKey]:
    """Create and return the keys of ``owners`` made in this transaction, which cannot have keys yet.

    For a batch writer's own new objects (a plan's posts): one insert, no look-up before or after
    and no conflict handling; an owner that has a key after all fails on the unique constraint.
    """
    wanted = list(dict.fromkeys(owners))
    if not wanted:
        return {}
    now = timezone.now()
    raw = [Fernet.generate_key() for _owner in wanted]
    rows = [(kind, pk, _instance_seal(material), now, "") for (kind, pk), material in zip(wanted, raw, strict=True)]
    ids = rows_insert_returning(
        model=ErasureKey, fields=("owner_type", "owner_id", "key", "created_at", "erased_by_repr"), rows=rows
    )
    make = instance_maker(ErasureKey)
    made: dict[KeyOwner, ErasureKey] = {}
    for key_id, (kind, pk, key, at, _erased_by), material in zip(ids, rows, raw, strict=True):
        made[(kind, pk)] = make(id=key_id, owner_type=kind, owner_id=pk, key=key, created_at=at, erased_by_repr="")
        # The data key is at hand: sealing with it needs no unwrapping of what was just wrapped.
        made[(kind, pk)]._opened = Fernet(material)  # type: ignore[attr-defined]
    return made


def _keys_loaded(owners: list[KeyOwner]) -> dict[KeyOwner, ErasureKey]:
    ids_by_type: dict[str, list[str]] = {}
    for kind, pk in owners:
        ids_by_type.setdefault(kind, []).append(pk)
    found: dict[KeyOwner, ErasureKey] = {}
    for kind, ids in ids_by_type.items():
        # In slices: SQLite allows a limited number of parameters per query.
        for start in range(0, len(ids), _SLICE):
            for key in ErasureKey.objects.filter(owner_type=kind, owner_id__in=ids[start : start + _SLICE]):
                found[(key.owner_type, key.owner_id)] = key
    return found


_SLICE = 500


def _data_key(key: ErasureKey) -> Fernet:
    # Unwrapped once per loaded key: a batch of thousands of events seals under few keys.
    opened = getattr(key, "_opened", None)
    if opened is None:
        opened = Fernet(_instance_open(key.key))
        key._opened = opened  # type: ignore[attr-defined]
    return opened


_SEAL_ENCODER = DjangoJSONEncoder(sort_keys=True)  # what json.dumps(value, cls=..., sort_keys=True) builds
SealMemo = dict[tuple[tuple[int, ...], bytes], dict[str, Any]]


def _sealed(value: Any, keys: list[ErasureKey], memo: SealMemo | None = None) -> Any:
    plain = _SEAL_ENCODER.encode(value).encode()
    key_ids = tuple(key.pk for key in keys)
    if memo is not None and (key_ids, plain) in memo:
        # The same value under the same keys (a post's name in each of its events): sealed once.
        # Erasing any of those keys shreds every copy alike.
        return dict(memo[(key_ids, plain)])
    token = plain
    # Layered: each owner's key wraps the one before, so erasing any one owner shreds the value.
    for key in keys:
        token = _data_key(key).encrypt(token)
    envelope = {ENVELOPE: list(key_ids), "ct": token.decode()}
    if memo is not None:
        memo[(key_ids, plain)] = envelope
    return dict(envelope)


def seal(
    *,
    obj: models.Model,
    changes: dict[str, Any],
    repr_text: str,
    known: dict[KeyOwner, ErasureKey] | None = None,
    owners: list[KeyOwner] | None = None,
    memo: SealMemo | None = None,
) -> tuple[str, dict[str, Any]]:
    """Return ``(object_repr, changes)`` as stored: `Personal` values and the name sealed under ``obj``'s keys.

    An object nobody's key seals keeps its name and gets its `Personal` values as plain values.
    A batch writer passes the keys it already loaded (``known``), ``obj``'s `key_owners` if it
    asked already, and a ``memo`` it keeps for the batch, so that a value sealed under the same
    keys again reuses the first sealing.
    """
    owners = key_owners(obj) if owners is None else owners
    if not owners:
        return repr_text, {name: _unwrap(value) for name, value in changes.items()}
    by_owner = known if known is not None and all(owner in known for owner in owners) else keys_for(owners)
    keys = [by_owner[owner] for owner in owners]
    if any(not key.key for key in keys):
        # Written after an erasure: what would be sealed is dropped, the name stays neutral.
        shredded = {ENVELOPE: [key.pk for key in keys], "ct": ""}
        return neutral_repr(obj), {
            name: shredded if isinstance(value, Personal) else value for name, value in changes.items()
        }
    stored = {
        name: _sealed(value.value, keys, memo) if isinstance(value, Personal) else value
        for name, value in changes.items()
    }
    stored[SEALED_REPR] = _sealed(repr_text, keys, memo)
    return neutral_repr(obj), stored


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Personal) else value


def neutral_repr(obj: models.Model) -> str:
    """Return the name-free repr an event stores for an object whose name is sealed, e.g. "consent.subject #12"."""
    return f"{object_type_of(obj)} #{obj.pk}"


def key_erase(*, owners: Iterable[KeyOwner], actor_repr: str, when: dt.datetime | None = None) -> int:
    """Delete the key material of ``owners`` (creating erased keys where none existed); returns how many."""
    when = when or timezone.now()
    owners = list(dict.fromkeys(owners))
    keys_for(owners)
    return ErasureKey.objects.filter(
        pk__in=[key.pk for key in _keys_loaded(owners).values()], erased_at__isnull=True
    ).update(key="", erased_at=when, erased_by_repr=actor_repr[:200])


def is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and ENVELOPE in value and "ct" in value


class Opener:
    """Opens sealed values for display, loading each key once: the reader of one page or export."""

    def __init__(self) -> None:
        self._keys: dict[int, ErasureKey | None] = {}

    def _key(self, pk: int) -> ErasureKey | None:
        if pk not in self._keys:
            self._keys[pk] = ErasureKey.objects.filter(pk=pk).first()
        return self._keys[pk]

    def preload(self, events: Iterable[AuditEvent]) -> None:
        """Load the keys the sealed values of ``events`` need, in one query."""
        wanted: set[int] = set()
        for event in events:
            for value in (event.changes or {}).values():
                if is_envelope(value):
                    wanted.update(value[ENVELOPE])
        wanted -= set(self._keys)
        for key in ErasureKey.objects.filter(pk__in=wanted):
            self._keys[key.pk] = key

    def open(self, value: Any) -> Any:
        """Return a sealed value opened, or the words saying it was erased; other values unchanged."""
        if not is_envelope(value):
            return value
        keys = [self._key(pk) for pk in value[ENVELOPE]]
        erased = [key for key in keys if key is None or not key.key or not value["ct"]]
        if erased:
            key = erased[0]
            if key is None or key.erased_at is None:
                return _("erased")
            return _("erased on %(date)s by %(name)s") % {
                "date": format_when(key.erased_at),
                "name": key.erased_by_repr,
            }
        token = value["ct"].encode()
        try:
            for key in reversed(keys):
                token = _data_key(key).decrypt(token)  # type: ignore[arg-type]
        except InvalidToken:
            return _("unreadable")
        return json.loads(token)

    def changes(self, event: AuditEvent) -> dict[str, Any]:
        """Return an event's changes with sealed values opened and the sealed name left out."""
        return {name: self.open(value) for name, value in event.changes.items() if name != SEALED_REPR}

    def repr(self, event: AuditEvent) -> str:
        """Return the name of an event's object: opened where it was sealed, else as stored."""
        sealed = event.changes.get(SEALED_REPR) if isinstance(event.changes, dict) else None
        return str(self.open(sealed)) if sealed is not None else event.object_repr


def event_repr(event: AuditEvent) -> str:
    return Opener().repr(event)


def event_changes(event: AuditEvent) -> dict[str, Any]:
    return Opener().changes(event)
