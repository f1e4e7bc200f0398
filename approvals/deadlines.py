"""Deadlines that hold: how much time a review needs against how much the post's time leaves it.

A stage is due after its turnaround, unless the stages still to come would then run past the
scheduled time less ``ROUNDS_REVIEW_MARGIN``: the time left is then split among the remaining
stages in proportion to their turnarounds, so no stage arrives overdue while the slot itself is
still ahead (SPEC section 4: the deadline never falls after the scheduled time).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from approvals.models import ReviewStage


@dataclass(frozen=True)
class ReviewTime:
    """The turnarounds the stages before publication need, and the time the post's slot leaves them."""

    needed: dt.timedelta
    available: dt.timedelta | None  # None: the post has no time yet, so nothing is short

    @property
    def compressed(self) -> bool:
        return self.available is not None and self.needed > self.available

    @property
    def needed_hours(self) -> float:
        return round(self.needed.total_seconds() / 3600, 1)

    @property
    def available_hours(self) -> float:
        if self.available is None:
            return 0.0
        return round(max(self.available, dt.timedelta()).total_seconds() / 3600, 1)


def review_end(scheduled_at: dt.datetime | None) -> dt.datetime | None:
    """Return when review must be done for a post planned at ``scheduled_at`` (None: no time yet)."""
    if scheduled_at is None:
        return None
    margin: dt.timedelta = settings.ROUNDS_REVIEW_MARGIN
    return scheduled_at - margin


def review_time(*, stages: Sequence[ReviewStage], scheduled_at: dt.datetime | None, now: dt.datetime) -> ReviewTime:
    """Return what ``stages`` (the ones still to decide) need against what is left before ``scheduled_at``."""
    needed = sum((stage.turnaround for stage in stages if not stage.after_publication), dt.timedelta())
    end = review_end(scheduled_at)
    return ReviewTime(needed=needed, available=None if end is None else end - now)


def stage_deadline(
    *,
    start: dt.datetime,
    now: dt.datetime,
    turnaround: dt.timedelta,
    later: dt.timedelta,
    scheduled_at: dt.datetime | None,
) -> dt.datetime:
    """Return the deadline of a stage started at ``start`` whose later stages need ``later``.

    The full turnaround when the chain still fits before the review's end; else this stage's
    share of the time left from ``now``, in proportion to its turnaround. When the margin has
    passed but the slot has not, the slot itself bounds the time left: a stage arriving then is
    short of time, not overdue. Only a slot already past gives a deadline already past.
    """
    full = start + turnaround
    end = review_end(scheduled_at)
    if end is None or scheduled_at is None or full + later <= end:
        return full
    window_end = end if end > now else scheduled_at
    if window_end <= now:
        return min(full, end)  # the slot itself passed: honestly overdue
    total = turnaround + later
    share = (window_end - now) * (turnaround / total) if total else window_end - now
    return min(full, now + share)
