"""Whether moving a post in review compresses what is left of its review (issue 14, point 5).

Registered with `posts.movechecks`: the editor and the calendar then ask the editor to confirm a
new time at which the stages still to decide no longer fit (or fit less) before the slot, less
``ROUNDS_REVIEW_MARGIN``. The deadlines themselves follow the move (`stage_deadlines_recompute`).
"""

import datetime as dt

from django.utils import timezone

from approvals.deadlines import review_time
from approvals.models import RoundStatus, StageRun, StageStatus
from approvals.services import compressed_problem
from posts.models import Post, PostStatus


def review_compression_problem(post: Post, scheduled_at: dt.datetime | None) -> str | None:
    """Return the confirmation a move of ``post`` to ``scheduled_at`` needs, or None.

    Only a post in review is asked about, and only when the new time leaves the remaining stages
    less than their turnarounds while the old time left them enough, or more than the new one does.
    """
    if post.status != PostStatus.IN_REVIEW or scheduled_at is None:
        return None
    runs = StageRun.objects.filter(
        round__post=post,
        round__status=RoundStatus.IN_PROGRESS,
        status__in=(StageStatus.WAITING, StageStatus.IN_PROGRESS),
        stage__after_publication=False,
    ).select_related("stage")
    stages = [run.stage for run in runs]
    if not stages:
        return None
    now = timezone.now()
    after = review_time(stages=stages, scheduled_at=scheduled_at, now=now)
    if not after.compressed:
        return None
    before = review_time(stages=stages, scheduled_at=post.scheduled_at, now=now)
    gives_less = before.available is None or after.available is None or after.available < before.available
    if before.compressed and not gives_less:
        return None  # already short, and the move gives it no less time
    return compressed_problem(after)
