from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models

from audit.models import GENESIS_HASH, AuditEvent


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
