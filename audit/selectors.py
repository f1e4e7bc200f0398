import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db import models

from audit.models import GENESIS_HASH, AuditEvent
from core.web import request_memo

T = TypeVar("T")


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def chain_verify(*, batch_size: int = 2000) -> ChainBreak | None:
    """Return the first event at which the chain is broken, or None if it is intact."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in _iterate(batch_size):
        if event.seq != expected_seq:
            return ChainBreak(expected_seq, f"event #{expected_seq} is missing (next is #{event.seq})")
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, f"event #{event.seq} does not follow the event before it")
        if event.compute_hash() != event.hash:
            return ChainBreak(event.seq, f"event #{event.seq} was altered (its hash does not match)")
        expected_prev = event.hash
        expected_seq += 1
    return None


def _iterate(batch_size: int) -> Iterator[AuditEvent]:
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def events_for_object(*, obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Return the events about one object, oldest first, with their actors."""
    return AuditEvent.objects.for_object(obj).select_related("actor").order_by("seq")


def state_version() -> int:
    """Return the id of the newest audit event: it changes with every state change.

    Every state change writes its audit event in the same transaction (invariant 4), and events
    are appended one after another (each names its predecessor's hash), so a value computed from
    the database is still right while this id is unchanged.
    """
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


_REQUEST_VERSION = "audit.state_version"


def request_state_version() -> int | None:
    """Return the state version this request read first (`state_version_seen`); None before that and outside one."""
    memo = request_memo()
    return None if memo is None else memo.get(_REQUEST_VERSION)


def state_version_seen(version: int) -> None:
    """Note ``version`` as the state version of the request (the first one noted stays)."""
    memo = request_memo()
    if memo is not None:
        memo.setdefault(_REQUEST_VERSION, version)


def state_cached(key: str, compute: Callable[[], T], *, version: int | None = None) -> T:
    """Return ``compute()``, cached until the next state change or for at most ``ROUNDS_STATE_CACHE_SECONDS``.

    For what every page shows (the navigation's counts): one indexed query instead of the
    counting, while nothing changed. ``key`` names the value and whose it is; ``version``, the
    ``state_version()`` this request already read (``None``: read it here).
    """
    # How long a value may lag behind what the clock alone changes (a deadline passing, a consent
    # nearing its end); state changes show at once. 0 turns the cache off (the test suite's default).
    seconds = settings.ROUNDS_STATE_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    bucket = int(time.time() // seconds)
    full_key = f"rounds:state:{key}:{state_version() if version is None else version}:{bucket}"
    found = cache.get(full_key, _MISSING)
    if found is not _MISSING:
        return cast(T, found)
    value = compute()
    cache.set(full_key, value, seconds * 2)
    return value


_MISSING = object()
