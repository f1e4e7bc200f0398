"""The review tools of the demo (issue 14): comment threads, claims with sources, deputies, notices.

Everything here goes through the services the pages call (`approvals.comments`, `posts.claims`,
`approvals.claims`, `people.services`) and the notification tasks the queue runs
(`approvals.notifications`, `posts.notifications`), so each step is checked and audited as a
person's would be. ``seed_demo`` calls these from its drivers and sections.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from approvals.claims import claim_check_record
from approvals.comments import AnchorSpec, comment_add, comment_reply, comment_resolve
from approvals.models import AnchorKind, Decision, ReviewComment, ReviewRound, RoundStatus, StageRun, StageStatus
from approvals.notifications import author_told, reminders_send, stage_reached
from people.models import DeputyPeriod, Notice, User
from people.services import deputy_period_save, notice_read
from posts.claims import claim_add
from posts.models import Post
from posts.notifications import crisis_requested


@dataclass(frozen=True)
class DemoClaim:
    """A passage the editor marks as a claim, its source and quoted sentence; ``checked``: Medical ticked it."""

    passage: str
    source_kind: str
    source: str
    quote: str
    checked: bool = False


@dataclass(frozen=True)
class DemoThread:
    """A reviewer's comment on a passage (or on the post's first image: ``passage`` empty), with what followed.

    ``before_approval``: written by the first stage before it approves; else at the second stage.
    ``replies``: (username, text) in order; ``resolved_by``: who settled it (before the edit).
    """

    reviewer: str
    passage: str
    text: str
    blocking: bool = False
    before_approval: bool = True
    replies: tuple[tuple[str, str], ...] = ()
    resolved_by: str = ""


def claims_mark(*, post: Post, editor: User, claims: tuple[DemoClaim, ...]) -> None:
    """Mark each claim with its source in the draft (each a new revision, as in the editor)."""
    for claim in claims:
        claim_add(
            post=post,
            actor=editor,
            passage=claim.passage,
            source_kind=claim.source_kind,
            source=claim.source,
            quote=claim.quote,
        )


def claims_check(*, post: Post, reviewer: User, claims: tuple[DemoClaim, ...]) -> None:
    """Record "Source checked" by ``reviewer`` for the claims marked ``checked``."""
    wanted = {claim.passage for claim in claims if claim.checked}
    for claim in post.claims.all():
        if claim.passage in wanted:
            claim_check_record(claim=claim, reviewer=reviewer)


def thread_start(*, post: Post, thread: DemoThread, users: dict[str, User]) -> ReviewComment:
    """Start ``thread`` on the post's current text (or first image)."""
    post.refresh_from_db()
    if thread.passage:
        anchor = AnchorSpec(kind=AnchorKind.BODY, quote=thread.passage, start=post.body.find(thread.passage))
    else:
        first = post.media.order_by("position", "pk").first()
        if first is None:
            raise ValueError(f"{post.external_id}: a comment on an image needs an image")
        anchor = AnchorSpec(kind=AnchorKind.MEDIA, media_checksum=first.checksum)
    return comment_add(
        post=post, actor=users[thread.reviewer], anchor=anchor, text=thread.text, blocking=thread.blocking
    )


def thread_follow_up(*, comment: ReviewComment, thread: DemoThread, users: dict[str, User]) -> None:
    """Write the thread's replies, then resolve it if it was settled."""
    for username, text in thread.replies:
        comment_reply(comment=comment, actor=users[username], text=text)
    if thread.resolved_by:
        comment_resolve(comment=comment, actor=users[thread.resolved_by])


def deputy_period_ensure(*, absent: User, deputy: User, write: Callable[[str], None]) -> None:
    """Name ``deputy`` for ``absent`` from three days ago to ten days ahead, unless a period exists."""
    if DeputyPeriod.objects.filter(user=absent).exists():
        write(f"deputy period of {absent.username}: exists")
        return
    today = timezone.localdate()
    period = DeputyPeriod(
        user=absent, deputy=deputy, starts=today - dt.timedelta(days=3), ends=today + dt.timedelta(days=10)
    )
    deputy_period_save(period=period, actor=absent)
    write(f"deputy period: {absent.username} away until {period.ends:%d.%m.%Y}, deputy {deputy.username}")


def overdue_remind() -> int:
    """Run the reminder job once now: overdue stages are reminded, escalated to deputies of who is away."""
    return reminders_send()


def notices_deliver(*, posts: list[Post]) -> int:
    """Deliver the notices (and mails) the queue would for ``posts``: stages reached, authors told, crises asked.

    Each event is told once (`core.mail.mail_once`): the task cluster finds them delivered later.
    Returns the mails sent.
    """
    sent = 0
    runs = StageRun.objects.filter(round__post__in=posts, status=StageStatus.IN_PROGRESS)
    for run_id in runs.order_by("pk").values_list("pk", flat=True):
        sent += stage_reached(stage_run_id=run_id)
    finished = ReviewRound.objects.filter(post__in=posts).exclude(status=RoundStatus.IN_PROGRESS)
    last_decisions = (
        Decision.objects.filter(stage_run__round__in=finished)
        .values("stage_run__round")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    for decision_id in sorted(last_decisions):
        sent += author_told(decision_id=decision_id)
    for post in posts:
        if post.crisis_requested_at is not None:
            sent += crisis_requested(post_id=post.pk)
    return sent


def notices_read_older(*, users: list[User], keep_unread: int) -> int:
    """Mark each user's notices read but the newest ``keep_unread``, as if they had opened them; returns how many."""
    read = 0
    for user in users:
        older = Notice.objects.filter(user=user, read_at__isnull=True).order_by("-created_at", "-pk")[keep_unread:]
        for notice in list(older):
            notice_read(notice=notice, user=user)
            read += 1
    return read
