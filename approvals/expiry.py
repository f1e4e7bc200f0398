"""Approvals that expire: how long an approval holds before publishing, and when live posts are re-certified.

A chain sets both (`ReviewChain.approval_valid_days`, `ReviewChain.recertify_months`). An approval
dates from the moment its round was approved; a "Keep" at re-certification dates it anew. Reads
only: the writes are in `approvals.expiry_services`.

Evergreen content is known by its content type: education posts (a page on hand washing, on
diabetes, on what to bring to the hospital) are read and shared for years and go stale when the
guidelines change, so they are re-certified; an event, a patient story (bound to its consent,
which expires on its own), a job advert or a crisis message is about its moment and is not.
"""

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import (
    F,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.utils import formats, timezone
from django.utils.translation import gettext_noop

from approvals.models import Recertification, RecertificationOutcome, ReviewChain, ReviewRound, RoundStatus
from core.i18n import StoredMessage
from posts.models import ContentType, Post, PostStatus

EVERGREEN = frozenset({ContentType.EDUCATION})
# Posts that are live: re-certification concerns them.
LIVE = frozenset({PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED})
# Posts approved and not out yet: their approval's validity runs.
WAITING = frozenset({PostStatus.APPROVED, PostStatus.SCHEDULED})
# A send gate's answer: shown live, and stored in English when publishing blocks (core.i18n.StoredMessage).
APPROVAL_EXPIRED = StoredMessage(gettext_noop("The approval expired on %(date)s; the post must be reviewed again."))


def months_add(moment: dt.datetime, months: int) -> dt.datetime:
    """Return ``moment`` ``months`` calendar months later (the 31st becomes the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Certification:
    """What the post's current approval rests on: the round that approved it, its chain, and since when it holds."""

    round: ReviewRound
    chain: ReviewChain
    since: dt.datetime
    revision_requested_at: dt.datetime | None = None

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the approval stops allowing publication, None without a limit."""
        days = self.chain.approval_valid_days
        return self.since + dt.timedelta(days=days) if days else None

    @property
    def recertify_at(self) -> dt.datetime | None:
        """When a live post of this approval is due for re-certification, None if never."""
        months = self.chain.recertify_months
        return months_add(self.since, months) if months else None


def _approved_rounds(post_ids: Sequence[int]) -> QuerySet[ReviewRound]:
    """The approved rounds of the posts' approved content, newest first, with the latest Keep and Revise."""

    def latest(outcome: str) -> Subquery:
        answers = Recertification.objects.filter(
            post_id=OuterRef("post_id"), content_hash=OuterRef("content_hash"), outcome=outcome
        )
        return Subquery(answers.order_by("-created_at", "-pk").values("created_at")[:1])

    return (
        ReviewRound.objects.select_related("chain")
        .filter(post_id__in=post_ids, status=RoundStatus.APPROVED, content_hash=F("post__approved_hash"))
        .exclude(post__approved_hash="")
        .annotate(kept_at=latest(RecertificationOutcome.KEEP), revise_at=latest(RecertificationOutcome.REVISE))
        .order_by("post_id", "-finished_at", "-pk")
    )


def certifications_of(post_ids: Sequence[int]) -> dict[int, Certification]:
    """Return the certification of each post that has a current approval from a round (one query)."""
    found: dict[int, Certification] = {}
    if not post_ids:
        return found  # Django would build the whole query to find it empty: milliseconds on every inbox
    for review_round in _approved_rounds(post_ids):
        if review_round.post_id in found or review_round.finished_at is None:
            continue
        found[review_round.post_id] = _certification(
            review_round, kept=getattr(review_round, "kept_at", None), revise=getattr(review_round, "revise_at", None)
        )
    return found


def _certification(review_round: ReviewRound, *, kept: dt.datetime | None, revise: dt.datetime | None) -> Certification:
    """Return the certification resting on ``review_round``, given the latest Keep and Revise about its content."""
    assert review_round.finished_at is not None
    since = max(review_round.finished_at, kept) if kept else review_round.finished_at
    return Certification(
        round=review_round,
        chain=review_round.chain,
        since=since,
        revision_requested_at=revise if revise and revise > since else None,
    )


def certification_of(post: Post) -> Certification | None:
    """Return what the post's current approval rests on, None if it has none (or none from a round)."""
    return certifications_of([post.pk]).get(post.pk)


def certification_from(post: Post, rounds: Sequence[ReviewRound]) -> Certification | None:
    """Return `certification_of(post)` from the post's rounds as a page loaded them (`rounds_for_post`, with chains).

    Reads only the re-certification answers about the approved content, and only when a round
    approved it: not the rounds again with two subqueries built per page.
    """
    approved = [
        review_round
        for review_round in rounds
        if post.approved_hash
        and review_round.status == RoundStatus.APPROVED
        and review_round.content_hash == post.approved_hash
        and review_round.finished_at is not None
    ]
    if not approved:
        return None
    newest = max(approved, key=lambda review_round: (review_round.finished_at, review_round.pk))
    latest: dict[str, dt.datetime] = {}
    answers = Recertification.objects.filter(post_id=post.pk, content_hash=newest.content_hash)
    for outcome, created_at in answers.values_list("outcome", "created_at"):
        if outcome not in latest or created_at > latest[outcome]:
            latest[outcome] = created_at
    return _certification(
        newest, kept=latest.get(RecertificationOutcome.KEEP), revise=latest.get(RecertificationOutcome.REVISE)
    )


def approval_validity_problems(posts: Sequence[Post], at: dt.datetime) -> dict[int, list[str]]:
    """The send gate (`posts.sendgates`): a post whose approval expired before ``at`` does not go out.

    Asked right before every connector call, so an expired approval is refused even when the
    task that sends such posts back for review has not run. A post whose approval no round
    records (set outside the review workflow) has no validity to check.
    """
    problems: dict[int, list[str]] = {}
    for post_id, certification in certifications_of([post.pk for post in posts]).items():
        expires = certification.expires_at
        if expires is not None and at >= expires:
            when = formats.date_format(timezone.localtime(expires), "DATETIME_FORMAT")
            problems[post_id] = [APPROVAL_EXPIRED.shown(date=when)]
    return problems


def approvals_expired(*, now: dt.datetime) -> list[int]:
    """Return the ids of approved or scheduled posts whose approval expired by ``now`` (a query per limiting chain)."""
    post_ids: set[int] = set()
    for chain in ReviewChain.objects.filter(approval_valid_days__isnull=False).order_by("pk"):
        assert chain.approval_valid_days is not None
        cutoff = now - dt.timedelta(days=chain.approval_valid_days)
        rounds = ReviewRound.objects.filter(
            chain=chain,
            status=RoundStatus.APPROVED,
            finished_at__lte=cutoff,
            content_hash=F("post__approved_hash"),
            post__status__in=WAITING,
        )
        post_ids.update(rounds.values_list("post_id", flat=True))
    # A candidate whose newer approval still holds is sorted out under its lock (`approval_expire`).
    return sorted(post_ids)


def recertification_candidates(*, due_by: dt.datetime | None = None) -> QuerySet[Post]:
    """Live evergreen posts approved by a chain that re-certifies; with ``due_by``, those due by then.

    Reads the stored due moment (`Post.recertify_due_at`, kept by
    `approvals.services.recertification_due_refresh`) through its partial index: a range as long
    as the due posts however many posts are live (no other condition here, so the planner has no
    other index to prefer on a small table).
    """
    posts = Post.objects.filter(recertify_due_at__isnull=False)
    return posts if due_by is None else posts.filter(recertify_due_at__lte=due_by)


def expiry_context(post: Post, *, rounds: Sequence[ReviewRound], now: dt.datetime | None = None) -> dict[str, object]:
    """Return what the review panel says about the post's approval expiring or falling due (`_approval_expiry.html`).

    ``rounds``: the post's rounds as the panel loaded them (`certification_from`).
    """
    if post.status not in WAITING | LIVE:
        return {"certification": None}
    now = now or timezone.now()
    certification = certification_from(post, rounds)
    expires = certification.expires_at if certification else None
    due_at = certification.recertify_at if certification else None
    live = post.status in LIVE and post.content_type in EVERGREEN
    return {
        "certification": certification,
        "waiting": post.status in WAITING,
        "expired": expires is not None and now >= expires,
        "live": live,
        "due": live and due_at is not None and now >= due_at,
    }
