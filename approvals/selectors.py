"""Reads of the review workflow: inbox, author's posts, one post's review overview, diff and timeline.

Every query count here is independent of how many posts the system holds.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from approvals.deadlines import ReviewTime, review_time
from approvals.diffing import FieldDiff, snapshot_diff
from approvals.models import (
    Decision,
    ReviewChain,
    ReviewRound,
    ReviewStage,
    RoundStatus,
    StageRun,
    StageStatus,
    Verdict,
    finding_named,
)
from approvals.policy import APPROVE, CHANGE_CHAIN, SUBMIT, ApprovalPolicy, open_runs_of, open_stage_runs
from approvals.services import REFUSALS, chain_for_post, findings_keyed, reason_required
from approvals.signatures import Signature, signature_of
from audit.labels import ACTION_LABELS
from audit.models import AuditEvent
from audit.selectors import events_for_object, state_cached
from people import rights
from people.models import User
from people.selectors import deputy_periods_on
from posts.models import ContentType, Post, PostStatus, Purpose, Revision
from posts.platforms import Passage
from posts.selectors import VIEW_CAMPAIGN, campaign_ids_for_user, posts_for_user

# Posts whose review is not complete: past their scheduled time they are overdue (never published).
UNFINISHED = frozenset({PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED})


def post_is_overdue(post: Post, *, now: dt.datetime | None = None) -> bool:
    """True when the post's scheduled time came and its chain has not approved it."""
    now = now or timezone.now()
    return post.status in UNFINISHED and post.scheduled_at is not None and post.scheduled_at <= now


# Inbox ----------------------------------------------------------------------------------------


def campaign_visible(user: User | AnonymousUser, *, campaign: str = "round__post__campaign") -> Q:
    """The condition of posts.selectors.campaigns_for_user on the ``campaign`` path, with the keys written out.

    The campaigns come from the request's rights memo (people.rights: read once, shared by every
    policy), not from a subquery: PostgreSQL estimates a list of keys well and plans the inbox
    from the stage runs, where guardian's subquery had it scan every post first.
    """
    if user.is_superuser or user.has_perm(VIEW_CAMPAIGN):
        return Q()
    return Q(**{f"{campaign}__in": sorted(campaign_ids_for_user(user=user))})


def stage_runs_awaiting(*, user: User | AnonymousUser) -> QuerySet[StageRun]:
    """Return the open stages ``user`` may decide now, oldest deadline first.

    The set form of ``approvals.policy.ApprovalPolicy.decide_refusal`` (tests hold the two together): a stage
    in progress of a round in progress on the post's current content, of a group the user is in,
    on a campaign they may see, in a round they have not decided yet, on a post they did not write,
    submit, declare a crisis or write a revision of.
    """
    if not user.is_authenticated or not user.is_active:
        return StageRun.objects.none()
    decided = Decision.objects.filter(stage_run__round=OuterRef("round"), reviewer=user)
    return (
        StageRun.objects.filter(
            Q(round__status=RoundStatus.IN_PROGRESS)
            | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True),
            status=StageStatus.IN_PROGRESS,
            stage__group_id__in=sorted(rights.group_ids(user)),
            round__content_hash=F("round__post__current_revision__content_hash"),
        )
        .filter(Q(stage__after_publication=True) | Q(round__post__status=PostStatus.IN_REVIEW))
        .filter(campaign_visible(user))
        .exclude(round__post__author=user)
        .exclude(round__submitted_by=user)
        .exclude(round__post__crisis_declared_by=user)
        .exclude(Exists(Revision.objects.filter(post=OuterRef("round__post"), created_by=user)))
        .exclude(Exists(decided))
    ).order_by(F("deadline").asc(nulls_last=True), "pk")


def as_inbox_lines(runs: QuerySet[StageRun]) -> QuerySet[StageRun]:
    """Return ``runs`` with what an inbox line shows read along (stage_runs_awaiting reads only the stages)."""
    return runs.select_related("stage", "round__post__campaign").annotate(revision_number=F("round__revision__number"))


@dataclass(frozen=True)
class InboxItem:
    stage_run: StageRun
    post: Post
    is_overdue: bool
    post_overdue: bool
    # The absent reviewers this user stands in for whose overdue stage was escalated to them.
    deputy_for: tuple[str, ...] = ()


def _absent_by_group(*, user: User | AnonymousUser, now: dt.datetime) -> dict[int, list[str]]:
    """Return, per group id, the names of people away today who named ``user`` their deputy (one query)."""
    if not isinstance(user, User):
        return {}
    away = deputy_periods_on(now=now).filter(deputy=user).values("user_id")
    memberships = (
        User.groups.through.objects.filter(user_id__in=away).select_related("user").order_by("user_id", "group_id")
    )
    by_group: dict[int, list[str]] = {}
    for membership in memberships:
        by_group.setdefault(membership.group_id, []).append(str(membership.user))
    return by_group


def inbox_runs(
    *, user: User | AnonymousUser, campaign_id: int | None = None, overdue_only: bool = False
) -> QuerySet[StageRun]:
    """Return the stages waiting for the user (``stage_runs_awaiting``), narrowed to a campaign or the overdue."""
    runs = stage_runs_awaiting(user=user)
    if campaign_id is not None:
        runs = runs.filter(round__post__campaign_id=campaign_id)
    if overdue_only:
        runs = runs.filter(deadline__lt=timezone.now())
    return runs


# What an inbox line (inbox_items, approvals.rows.inbox_rows) reads of a stage run and its relations:
# the rest of the post (its texts' JSON, its media) is not built into models for a page of fifty.
INBOX_LINE_FIELDS = (
    "deadline",
    "reminded_at",
    "stage__name",
    "stage__group_id",
    "stage__after_publication",
    "round__post__title",
    "round__post__body",
    "round__post__status",
    "round__post__scheduled_at",
    "round__post__campaign__name",
)

# The fewest open stage runs DeadlineWalk reads in its first step; each step reads twice the one before.
WALK_FIRST_STEP = 20


class DeadlineWalk:
    """A slice of ``runs`` (``stage_runs_awaiting`` or narrower), read by walking the open stages in deadline order.

    The database cannot tell how few open stage runs pass the inbox's conditions (the content still
    current, not the user's own post, not decided, ...), so for a slice of the whole query it joins
    and sorts every open run of the user's stages: 35 ms with 921 waiting. Here the open runs of the
    user's stages are read in ``runs``' order (deadline, then key) from an index, a step at a time,
    and only those are put through the conditions; a page takes a few small queries however many
    wait. What it returns is what slicing ``runs`` returns (tests hold the two together).
    """

    def __init__(self, runs: QuerySet[StageRun], *, user: User | AnonymousUser):
        self.runs = runs
        # A superset of ``runs``: every condition of stage_runs_awaiting that an index can answer.
        self.open_runs = StageRun.objects.filter(
            status=StageStatus.IN_PROGRESS, stage__group_id__in=sorted(rights.group_ids(user))
        ).order_by(F("deadline").asc(nulls_last=True), "pk")

    def __getitem__(self, wanted: slice) -> list[StageRun]:
        if wanted.step is not None or (wanted.start or 0) < 0 or wanted.stop is None or wanted.stop < 0:
            raise ValueError("DeadlineWalk takes a slice [start:stop] of non-negative bounds.")
        passed: list[int] = []
        after: tuple[dt.datetime | None, int] | None = None
        step = max(wanted.stop, WALK_FIRST_STEP)
        while len(passed) < wanted.stop:
            keys = list(self._after(after).values_list("deadline", "pk")[:step])
            if not keys:
                break
            # Only the keys: the conditions plan fast without the line's joins, read below for the slice alone.
            passing = set(self.runs.filter(pk__in=[pk for _, pk in keys]).values_list("pk", flat=True))
            passed.extend(pk for _, pk in keys if pk in passing)
            if len(keys) < step:  # the walk reached the end
                break
            after = keys[-1]
            step *= 2
        shown = passed[wanted]
        lines = as_inbox_lines(StageRun.objects.filter(pk__in=shown)).only(*INBOX_LINE_FIELDS).in_bulk()
        return [lines[pk] for pk in shown if pk in lines]

    def _after(self, after: tuple[dt.datetime | None, int] | None) -> QuerySet[StageRun]:
        """Return the open runs after the run whose (deadline, key) is ``after`` in the walk's order."""
        if after is None:
            return self.open_runs
        deadline, pk = after
        if deadline is None:  # no deadline sorts last
            return self.open_runs.filter(deadline__isnull=True, pk__gt=pk)
        return self.open_runs.filter(
            Q(deadline__gt=deadline) | Q(deadline=deadline, pk__gt=pk) | Q(deadline__isnull=True)
        )


def inbox_items(
    runs: Iterable[StageRun], *, user: User | AnonymousUser, now: dt.datetime | None = None
) -> list[InboxItem]:
    """Return the inbox lines of ``runs`` (from ``stage_runs_awaiting``); one query for the deputies.

    An overdue stage that was escalated (reminded) names the absent colleagues of its group the user stands in for.
    """
    now = now or timezone.now()
    absent = _absent_by_group(user=user, now=now)
    return [
        InboxItem(
            stage_run=run,
            post=run.round.post,
            is_overdue=run.deadline is not None and run.deadline < now,
            post_overdue=post_is_overdue(run.round.post, now=now),
            deputy_for=tuple(absent.get(run.stage.group_id, ())) if run.reminded_at is not None else (),
        )
        for run in runs
    ]


def inbox_for_user(*, user: User | AnonymousUser, now: dt.datetime | None = None) -> list[InboxItem]:
    """Return every post waiting for the user's decision, oldest deadline first (a fixed number of queries)."""
    now = now or timezone.now()
    return inbox_items(as_inbox_lines(stage_runs_awaiting(user=user)), user=user, now=now)


class ReviewCounts:
    """The navigation's counts, computed on first use with one query."""

    def __init__(
        self, user: User | AnonymousUser, *, counted: Callable[[], dict[str, int] | None] | None = None
    ) -> None:
        """``counted``: where this request's counts may already be known (``None``: count them here)."""
        self.user = user
        self._counted = counted

    @cached_property
    def _counts(self) -> dict[str, int]:
        known = self._counted() if self._counted is not None else None
        if known is not None:
            return known
        # Every page shows these counts: counted again only after a state change (or a minute).
        version = rights.request_state(self.user)[0] if isinstance(self.user, User) else None
        return state_cached(f"review-counts:{self.user.pk}", self._count, version=version)

    def _count(self) -> dict[str, int]:
        return (
            stage_runs_awaiting(user=self.user)
            .order_by()
            .aggregate(waiting=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=timezone.now())))
        )

    @property
    def waiting(self) -> int:
        return self._counts["waiting"] or 0

    @property
    def overdue(self) -> int:
        return self._counts["overdue"] or 0


# My posts -------------------------------------------------------------------------------------

# The "state" filter's value for the posts waiting for their author: sent back, or not yet submitted.
NEEDS_ACTION = "needs_action"
AUTHOR_ACTION_STATES = (PostStatus.CHANGES_REQUESTED, PostStatus.DRAFT)


@dataclass(frozen=True)
class MyPostsFilter:
    """What "My posts" is narrowed to: a state (or NEEDS_ACTION), a campaign, words of the title or text."""

    status: str = ""
    campaign_id: int | None = None
    text: str = ""


def posts_of_author(*, user: User, filters: MyPostsFilter | None = None) -> QuerySet[Post]:
    """Return the user's own posts they may still see, narrowed by ``filters``, by scheduled time.

    Lazy and unbounded: page it (``core.pagination.page_of``), then ask ``my_post_rows`` about the page.
    """
    filters = filters or MyPostsFilter()
    posts = posts_for_user(user=user).filter(author=user)
    if filters.status == NEEDS_ACTION:
        posts = posts.filter(status__in=AUTHOR_ACTION_STATES)
    elif filters.status:
        posts = posts.filter(status=filters.status)
    if filters.campaign_id is not None:
        posts = posts.filter(campaign_id=filters.campaign_id)
    if filters.text:
        # An untitled post is listed by the start of its text, so the search reads the text too.
        posts = posts.filter(Q(title__icontains=filters.text) | Q(body__icontains=filters.text))
    return posts.select_related("campaign").order_by(F("scheduled_at").asc(nulls_last=True), "pk")


@dataclass(frozen=True)
class MyPostRow:
    """One line of "My posts": the post and where it stands in review."""

    post: Post
    is_overdue: bool
    # The first open stage of its round in progress (not one after publication), and its deadline.
    review_stage: str = ""
    review_deadline: dt.datetime | None = None


def my_post_rows(posts: Iterable[Post], *, now: dt.datetime | None = None) -> list[MyPostRow]:
    """Return the rows of a page of ``posts``, each with its open review stage (one query for the page)."""
    now = now or timezone.now()
    posts = list(posts)
    stages: dict[int, tuple[str, dt.datetime | None]] = {}
    if posts:
        open_runs = (
            StageRun.objects.filter(
                round__post__in=[post.pk for post in posts],
                round__status=RoundStatus.IN_PROGRESS,
                status=StageStatus.IN_PROGRESS,
                stage__after_publication=False,
            )
            .order_by("round__post_id", "stage__position", "pk")
            .values_list("round__post_id", "stage__name", "deadline")
        )
        for post_id, stage_name, deadline in open_runs:
            stages.setdefault(post_id, (stage_name, deadline))
    return [
        MyPostRow(
            post=post,
            is_overdue=post_is_overdue(post, now=now),
            review_stage=stages.get(post.pk, ("", None))[0],
            review_deadline=stages.get(post.pk, ("", None))[1],
        )
        for post in posts
    ]


# One post's review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageLine:
    stage: ReviewStage
    run: StageRun | None
    status: str
    status_label: str
    deadline: dt.datetime | None
    is_current: bool
    is_overdue: bool
    decisions: list[Decision]
    signatures: list[Signature] = field(default_factory=list)

    @property
    def turnaround_text(self) -> str:
        hours = round(self.stage.turnaround.total_seconds() / 3600)
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


@dataclass(frozen=True)
class RoundView:
    round: ReviewRound
    stages: list[StageLine]

    @property
    def is_open(self) -> bool:
        return self.round.status == RoundStatus.IN_PROGRESS


@dataclass
class MarkedImage:
    """An image a finding is about, with the regions to draw on it (in the stored image's pixels)."""

    number: int  # 1-based, as the messages count
    file_name: str
    thumbnail_name: str
    alt_text: str
    width: int
    height: int
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class FindingCheck:
    """One finding Legal acknowledges: its key, where it applies and what it says."""

    key: str
    account: str  # the target account's name; "" for a finding about the whole post
    messages: list[str]
    passages: list[Passage] = field(default_factory=list)  # the offending passages, where known
    images: list[MarkedImage] = field(default_factory=list)  # the images concerned, with their boxes
    needs_reason: bool = False  # acknowledged only with a reason (`approvals.services.REASON_REQUIRED`)

    @property
    def whole_post(self) -> bool:
        return not self.account


# The refusals a member of a stage's group meets, which the review page explains instead of a decision form.
MEMBER_REFUSALS = frozenset(
    {"author", "submitter", "wrote_revision", "declared_crisis", "already_decided", "decided_other_stage", "cannot_see"}
)


@dataclass
class ReviewOverview:
    post: Post
    chain: ReviewChain | None
    latest_round: RoundView | None
    earlier_rounds: list[RoundView]
    planned_stages: list[StageLine]
    current_run: StageRun | None
    actions: frozenset[str]
    findings: list[FindingCheck]
    must_acknowledge: bool
    chains: list[ReviewChain]
    post_overdue: bool
    timeline: list["TimelineEntry"] = field(default_factory=list)
    # True when older events of the history were left out (``timeline_latest``).
    timeline_truncated: bool = False
    # How many earlier rounds to show (the newest); None shows them all. The diff reads them all anyway.
    earlier_shown: int | None = None
    # At submit: what the chain needs against what the post's time leaves (approvals.deadlines).
    review_time: ReviewTime | None = None
    # Why a member of the current stage's group may not decide it (`ApprovalPolicy.decide_refusal`), else "".
    refusal: str = ""
    # The post's `open_stage_runs`, taken from the rounds loaded (`open_runs_of`): for other blocks of the page.
    open_runs: list[StageRun] = field(default_factory=list)

    @property
    def may_decide(self) -> bool:
        return APPROVE in self.actions and self.current_run is not None

    @property
    def refusal_message(self) -> str:
        """Return why this stage's member may not decide it, for the reasons a member can meet; else ""."""
        return str(REFUSALS[self.refusal]) if self.refusal in MEMBER_REFUSALS else ""

    @property
    def earlier_rounds_shown(self) -> list[RoundView]:
        return self.earlier_rounds if self.earlier_shown is None else self.earlier_rounds[: self.earlier_shown]

    @property
    def rounds(self) -> list[RoundView]:
        return ([self.latest_round] if self.latest_round else []) + self.earlier_rounds


def _stage_line(run: StageRun, *, now: dt.datetime, current_hash: str) -> StageLine:
    decisions = list(run.decisions.all())
    return StageLine(
        stage=run.stage,
        run=run,
        status=run.status,
        status_label=str(run.get_status_display()),
        deadline=run.deadline,
        is_current=run.status == StageStatus.IN_PROGRESS
        and (
            run.round.status == RoundStatus.IN_PROGRESS
            or (run.round.status == RoundStatus.APPROVED and run.stage.after_publication)
        ),
        is_overdue=run.status == StageStatus.IN_PROGRESS and run.deadline is not None and run.deadline < now,
        decisions=decisions,
        signatures=[signature_of(decision, current_hash=current_hash) for decision in decisions],
    )


def rounds_for_post(*, post: Post) -> list[ReviewRound]:
    """Return every round of a post, newest first, with stages and decisions (three queries)."""
    return list(
        post.review_rounds.select_related("chain", "submitted_by", "revision")
        .prefetch_related(
            Prefetch(
                "stage_runs",
                queryset=StageRun.objects.select_related("stage__group").order_by("stage__position"),
            ),
            Prefetch(
                "stage_runs__decisions",
                queryset=Decision.objects.select_related("reviewer").order_by("created_at", "pk"),
            ),
        )
        .order_by("-submitted_at", "-pk")
    )


def _finding_checks(post: Post) -> list[FindingCheck]:
    """Return one check per finding key, per-account findings first, then those about the whole post."""
    names = {target.account_id: str(target.account) for target in post.targets.all()}
    # The findings' media_index counts the stored images in order (posts.services.post_content_findings).
    images = [media for media in post.media.all() if media.file]
    checks: dict[str, FindingCheck] = {}
    for item in findings_keyed(post=post):
        account = "" if item.account_id is None else names.get(item.account_id, str(item.account_id))
        check = checks.setdefault(
            item.key,
            FindingCheck(key=item.key, account=account, messages=[], needs_reason=reason_required(item.key)),
        )
        if item.finding.message not in check.messages:
            check.messages.append(item.finding.message)
        if item.finding.passage is not None and item.finding.passage not in check.passages:
            check.passages.append(item.finding.passage)
        index = item.finding.media_index
        if item.finding.boxes and index is not None and index < len(images):
            media = images[index]
            marked = next((image for image in check.images if image.number == index + 1), None)
            if marked is None:
                marked = MarkedImage(
                    index + 1, media.file.name, media.thumbnail.name, media.alt_text, media.width, media.height
                )
                check.images.append(marked)
            marked.boxes.extend(item.finding.boxes)
    return sorted(checks.values(), key=lambda check: (check.whole_post, check.account, check.key))


def review_overview(
    *,
    user: User | AnonymousUser,
    post: Post,
    with_timeline: bool = False,
    timeline_latest: int | None = None,
    earlier_shown: int | None = None,
) -> ReviewOverview:
    """Return what the review panel and page show of ``post`` to ``user``; query count is fixed.

    ``timeline_latest`` keeps the history to that many newest events (one more is read to know of older
    ones); ``earlier_shown`` the earlier rounds shown to that many newest.
    """
    now = timezone.now()
    rounds = rounds_for_post(post=post)
    current_hash = post.content_hash
    views = [
        RoundView(round=r, stages=[_stage_line(run, now=now, current_hash=current_hash) for run in r.stage_runs.all()])
        for r in rounds
    ]
    latest = views[0] if views else None
    # The stage the decision form is for: the current one of the open round, or one after publication
    # (a published crisis post) still open in the approved round; the user's own when there are several.
    candidates: list[StageRun] = []
    if latest is not None and latest.round.status in {RoundStatus.IN_PROGRESS, RoundStatus.APPROVED}:
        after = latest.round.status == RoundStatus.APPROVED
        candidates = [
            line.run
            for line in latest.stages
            if line.run is not None and line.is_current and line.stage.after_publication is after
        ]
    current_run = candidates[0] if candidates else None
    policy = ApprovalPolicy(user)
    if len(candidates) > 1:
        current_run = next((run for run in candidates if not policy.decide_refusal(run)), current_run)
    open_runs = open_runs_of(rounds, post=post)
    actions = policy.actions(post, stage_run=current_run, open_runs=open_runs)
    chain: ReviewChain | None
    planned: list[StageLine] = []
    if latest is not None and latest.round.status in {RoundStatus.IN_PROGRESS, RoundStatus.APPROVED}:
        chain = latest.round.chain
    else:
        try:
            chain = chain_for_post(post=post)
        except ValidationError:  # no chain is set up: the panel says so instead of failing
            chain = None
        if chain is not None:
            planned = [
                StageLine(
                    stage=stage,
                    run=None,
                    status="",
                    status_label="",
                    deadline=None,
                    is_current=False,
                    is_overdue=False,
                    decisions=[],
                )
                for stage in chain.stages.select_related("group").order_by("position")
            ]
    must_acknowledge = bool(current_run and current_run.stage.must_acknowledge_findings)
    findings = _finding_checks(post)
    overview = ReviewOverview(
        post=post,
        chain=chain,
        latest_round=latest,
        earlier_rounds=views[1:],
        planned_stages=planned,
        current_run=current_run,
        actions=actions,
        findings=findings,
        must_acknowledge=must_acknowledge,
        chains=list(ReviewChain.objects.filter(active=True).order_by("name")) if CHANGE_CHAIN in actions else [],
        post_overdue=post_is_overdue(post, now=now),
        earlier_shown=earlier_shown,
        open_runs=open_runs,
    )
    if current_run is not None and not overview.may_decide and current_run.stage.group_id in policy.group_ids:
        overview.refusal = policy.decide_refusal(current_run)
    if SUBMIT in actions and planned:
        overview.review_time = review_time(
            stages=[line.stage for line in planned], scheduled_at=post.scheduled_at, now=now
        )
    elif latest is not None and latest.is_open:
        # While in review: what the stages still to decide need against what the post's time leaves.
        open_stages = [
            line.stage for line in latest.stages if line.status in (StageStatus.WAITING, StageStatus.IN_PROGRESS)
        ]
        overview.review_time = review_time(stages=open_stages, scheduled_at=post.scheduled_at, now=now)
    if with_timeline:
        signatures = [signature for view in views for line in view.stages for signature in line.signatures]
        wanted = None if timeline_latest is None else timeline_latest + 1
        timeline = timeline_for_post(post=post, signatures=signatures, latest=wanted)
        overview.timeline_truncated = timeline_latest is not None and len(timeline) > timeline_latest
        overview.timeline = timeline[1:] if overview.timeline_truncated else timeline
    return overview


def open_stage_run(*, post: Post, pk: int) -> StageRun | None:
    """Return the post's stage run ``pk`` if it is open for decisions (`approvals.policy.open_stage_runs`)."""
    return next((run for run in open_stage_runs(post=post) if run.pk == pk), None)


# Diff -----------------------------------------------------------------------------------------


# Why a revision is the diff's base: the user approved it, their stage did, or the whole chain did.
BASE_MINE, BASE_STAGE, BASE_APPROVED = "mine", "stage", "approved"


@dataclass(frozen=True)
class ReviewDiff:
    base: Revision | None
    current: Revision | None
    fields: list[FieldDiff]
    basis: str = ""  # BASE_MINE, BASE_STAGE, BASE_APPROVED; "" when there is no base (the first version)

    @property
    def unchanged(self) -> bool:
        return self.base is not None and not self.fields


def _diff_labels() -> dict[str, str]:
    return {choice.value: str(choice.label) for choice in (*ContentType, *Purpose)}


def _diff_base(*, user: User | AnonymousUser, overview: ReviewOverview) -> tuple[Revision | None, str]:
    # SPEC section 4: the revision the user or their stage approved last; else the last one the chain approved.
    # "Their stage" is the one they decide now: someone merely reading the page has no stage here.
    group_id = overview.current_run.stage.group_id if overview.current_run and overview.may_decide else None
    base: Revision | None = None
    basis = ""
    latest_time = None
    for round_view in overview.rounds:
        for line in round_view.stages:
            for decision in line.decisions:
                if decision.verdict != Verdict.APPROVE:
                    continue
                mine = decision.reviewer_id == user.pk
                if not (mine or (group_id is not None and line.stage.group_id == group_id)):
                    continue
                if latest_time is None or decision.created_at > latest_time:
                    latest_time = decision.created_at
                    base = round_view.round.revision
                    basis = BASE_MINE if mine else BASE_STAGE
    if base is None:
        approved = next((view.round for view in overview.rounds if view.round.status == RoundStatus.APPROVED), None)
        if approved is not None:
            base, basis = approved.revision, BASE_APPROVED
    return base, basis


def review_diff(*, user: User | AnonymousUser, post: Post, overview: ReviewOverview) -> ReviewDiff:
    """Diff the post's current revision, word by word, against the one the user or their stage last approved.

    Without such an approval, against the last revision the chain approved; without one either, there
    is no base (the first version). Reads the rounds the overview already loaded: no query of its own.
    """
    current = post.current_revision
    base, basis = _diff_base(user=user, overview=overview)
    if base is None or current is None or base.content_hash == current.content_hash:
        return ReviewDiff(base=base, current=current, fields=[], basis=basis)
    fields = snapshot_diff(base.content, current.content, labels=_diff_labels())
    return ReviewDiff(base=base, current=current, fields=fields, basis=basis)


# Timeline -------------------------------------------------------------------------------------

EVENT_LABELS = {
    "post.created": gettext_lazy("Post created"),
    "post.revision_created": gettext_lazy("New revision"),
    "post.status_changed": gettext_lazy("Status changed"),
    "post.moved": gettext_lazy("Schedule changed"),
    "review.round_opened": gettext_lazy("Submitted for review"),
    "review.approve": gettext_lazy("Approved"),
    "review.request_changes": gettext_lazy("Changes requested"),
    "review.reject": gettext_lazy("Rejected"),
    "review.round_approved": gettext_lazy("Review chain complete"),
    "review.round_superseded": gettext_lazy("Round superseded by a new revision"),
    "review.round_changes_requested": gettext_lazy("Round sent back to the author"),
    "review.round_rejected": gettext_lazy("Round ended: rejected"),
    "review.round_cancelled": gettext_lazy("Round cancelled"),
    "review.post_chain_set": gettext_lazy("Review chain changed"),
}


DECISION_ACTIONS = frozenset({"review.approve", "review.request_changes", "review.reject"})


@dataclass(frozen=True)
class TimelineEntry:
    event: AuditEvent
    kind: str
    label: str
    details: list[str]
    comment: str
    signature: Signature | None = None


def _when(value: str | dt.datetime | None) -> str:
    if not value:
        return "—"
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return str(value)
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _status_label(value: str) -> str:
    try:
        return str(PostStatus(value).label)
    except ValueError:
        return value


def _details(event: AuditEvent) -> tuple[list[str], str]:
    changes = event.changes or {}
    details: list[str] = []
    comment = ""
    if event.action == "post.revision_created":
        details.append(_("Revision %(number)s") % {"number": changes.get("revision")})
    elif event.action == "post.status_changed":
        old, new = (changes.get("status") or ["", ""])[:2]
        details.append(f"{_status_label(old)} → {_status_label(new)}")
    elif event.action == "post.moved":
        old, new = (changes.get("scheduled_at") or [None, None])[:2]
        details.append(f"{_when(old)} → {_when(new)}")
    elif event.action == "review.round_opened":
        details.append(
            _("Chain %(chain)s, revision %(revision)s")
            % {"chain": changes.get("chain", ""), "revision": changes.get("revision", "")}
        )
    elif event.action in DECISION_ACTIONS:
        details.append(str(changes.get("stage", "")))
        comment = str(changes.get("comment") or "")
        acknowledged = changes.get("acknowledged")
        for key, reason in sorted(acknowledged.items() if isinstance(acknowledged, dict) else []):
            if reason:
                named = {"finding": finding_named(key), "reason": reason}
                details.append(_("Reason for %(finding)s: %(reason)s") % named)
    elif event.action == "media.checked":
        details.append(
            _("Passages of patient data: %(passages)s, faces: %(faces)s")
            % {"passages": changes.get("passages", 0), "faces": changes.get("faces", 0)}
        )
    elif event.action == "review.post_chain_set":
        details.append(str(changes.get("chain", "")))
    return details, comment


def _signature_for_event(event: AuditEvent, signatures: dict[Any, Signature]) -> Signature | None:
    """Return the signature a decision's event records: by the decision's id, or (events written
    before they named it) by round, stage and reviewer, who decide a stage of a round once."""
    if event.action not in DECISION_ACTIONS:
        return None
    changes = event.changes or {}
    found = signatures.get(("pk", changes.get("decision")))
    return found or signatures.get((changes.get("round"), changes.get("stage"), event.actor_id))


def timeline_for_post(
    *, post: Post, signatures: Iterable[Signature] = (), latest: int | None = None
) -> list[TimelineEntry]:
    """Return the post's history from the audit trail, oldest first (one query); only the ``latest`` events if given.

    Every review event (rounds, decisions) is recorded on the post itself, so one object's
    events tell the whole story. A decision's event carries its signature when ``signatures``
    (built from the decisions already loaded) holds it.
    """
    by_key: dict[Any, Signature] = {}
    for signature in signatures:
        decision = signature.decision
        by_key[("pk", decision.pk)] = signature
        by_key[(decision.stage_run.round_id, decision.stage_run.stage.name, decision.reviewer_id)] = signature
    events: Iterable[AuditEvent] = events_for_object(obj=post)
    if latest is not None:
        events = list(events_for_object(obj=post).order_by("-seq")[:latest])[::-1]
    entries = []
    for event in events:
        details, comment = _details(event)
        entries.append(
            TimelineEntry(
                event=event,
                kind=event.action.replace(".", "-"),
                label=str(EVENT_LABELS.get(event.action) or ACTION_LABELS.get(event.action) or event.action),
                details=details,
                comment=comment,
                signature=_signature_for_event(event, by_key),
            )
        )
    return entries
