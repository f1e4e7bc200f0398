"""The one answer to "which review actions may this user take on this post?"."""

import datetime as dt
from collections.abc import Iterable
from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q
from django.utils import timezone

from approvals.expiry import EVERGREEN, LIVE, Certification
from approvals.models import (
    Decision,
    ReviewChain,
    ReviewComment,
    ReviewRound,
    ReviewStage,
    RoundStatus,
    StageRun,
    StageStatus,
)
from consent.models import ConsentRecord
from people import rights
from people.models import User
from posts.models import Post, PostStatus, Revision
from posts.policy import EDIT, PostPolicy
from posts.selectors import campaign_ids_for_user

SUBMIT = "submit"
APPROVE = "approve"
REQUEST_CHANGES = "request_changes"
REJECT = "reject"
CHANGE_CHAIN = "change_chain"
# Mark a claim's source checked: who may decide a stage that checks claims (approvals.claims).
CHECK_SOURCES = "check_sources"
DECIDE = frozenset({APPROVE, REQUEST_CHANGES, REJECT})

SUBMITTABLE = frozenset({PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED})
REVIEWABLE = frozenset({PostStatus.IN_REVIEW, PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED})


class ApprovalPolicy:
    """Answers per user; caches the user's groups and campaigns so an inbox or a list asks cheaply.

    The cached lookups hold for the instance's life: make one per request (or per service call),
    never keep one across a change of the user's groups or campaigns.
    """

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def posts(self) -> PostPolicy:
        return PostPolicy(self.user)

    @cached_property
    def group_ids(self) -> frozenset[int]:
        return rights.group_ids(self.user)

    @cached_property
    def visible_campaign_ids(self) -> frozenset[int]:
        return campaign_ids_for_user(user=self.user)

    @cached_property
    def may_change_chains(self) -> bool:
        return bool(self.user.is_active and self.user.has_perm("approvals.change_postchain"))

    def decide_refusal(self, stage_run: StageRun) -> str:
        """Return why this user may not decide ``stage_run`` now, or "" if they may.

        Superusers get no shortcut: every rule of SPEC section 4 applies to them too.
        """
        user = self.user
        review_round = stage_run.round
        post = review_round.post
        if not user.is_authenticated or not user.is_active:
            return "not_logged_in"
        # After-publication stages stay open once the round approved the content for publishing.
        round_open = review_round.status == RoundStatus.IN_PROGRESS or (
            review_round.status == RoundStatus.APPROVED and stage_run.stage.after_publication
        )
        if not round_open or stage_run.status != StageStatus.IN_PROGRESS:
            return "not_current"
        # A post edited while it was going out is live with its approved content; the round the edit
        # opened reviews the new content (docs/publishing.md, "Edited while going out").
        if stage_run.stage.after_publication is False and post.status not in REVIEWABLE:
            return "not_in_review"
        if review_round.content_hash != post.content_hash:
            return "stale"
        if post.author_id == user.pk:
            return "author"
        # Independence (SPEC section 4): who submitted the round, or wrote any revision of the
        # post, is not the one to judge it either.
        if review_round.submitted_by_id == user.pk:
            return "submitter"
        # Who declared the post a crisis chose its expedited chain: they do not judge it as well.
        if post.crisis_declared_by_id == user.pk:
            return "declared_crisis"
        if stage_run.stage.group_id not in self.group_ids:
            return "not_in_group"
        if post.campaign_id not in self.visible_campaign_ids:
            return "cannot_see"
        if Revision.objects.filter(post_id=post.pk, created_by_id=user.pk).exists():
            return "wrote_revision"
        decided = _stages_decided_by(review_round, user)
        if stage_run.pk in decided:
            return "already_decided"
        if decided:
            return "decided_other_stage"
        return ""

    def stage_run_for(self, post: Post, *, open_runs: list[StageRun] | None = None) -> StageRun | None:
        """Return the open stage of ``post`` this user may decide, else the first open one, else None.

        ``open_runs``: the post's `open_stage_runs`, where the caller has its rounds loaded (`open_runs_of`).
        """
        runs = open_stage_runs(post=post) if open_runs is None else open_runs
        if len(runs) > 1:
            return next((run for run in runs if not self.decide_refusal(run)), runs[0])
        return runs[0] if runs else None

    def actions(
        self, post: Post, stage_run: StageRun | None = None, *, open_runs: list[StageRun] | None = None
    ) -> frozenset[str]:
        """Return the review actions this user may take on ``post`` (at ``stage_run``, else their open stage)."""
        actions: set[str] = set()
        if post.status in SUBMITTABLE and EDIT in self.posts.actions(post):
            actions.add(SUBMIT)
        if post.status in SUBMITTABLE and self.may_change_chains:
            actions.add(CHANGE_CHAIN)
        run = stage_run or self.stage_run_for(post, open_runs=open_runs)
        if run is not None and not self.decide_refusal(run):
            actions |= DECIDE
            if run.stage.checks_claims:
                actions.add(CHECK_SOURCES)
        return frozenset(actions)


def _stages_decided_by(review_round: ReviewRound, user: User) -> set[int]:
    """Return the ids of the round's stage runs ``user`` decided.

    Read per round, never kept between requests: a decision made with this policy must count at
    once. A page that loaded the round with its stages and decisions a moment ago
    (``approvals.selectors.rounds_for_post``) is answered from them; a service deciding locks and
    reads its stage afresh, without them, and so asks the database.
    """
    runs = getattr(review_round, "_prefetched_objects_cache", {}).get("stage_runs")
    if runs is not None and all("decisions" in getattr(run, "_prefetched_objects_cache", {}) for run in runs):
        return {run.pk for run in runs for decision in run.decisions.all() if decision.reviewer_id == user.pk}
    return set(
        Decision.objects.filter(stage_run__round=review_round, reviewer=user).values_list("stage_run_id", flat=True)
    )


# While a stage decides, its reviewers may read the signed forms the post relies on: a reviewer
# who already decided this stage still reads them until the stage closes.
READS_DOCUMENTS_WHILE = frozenset({"", "already_decided"})


def stage_reviewer_may_read_document(user: User | AnonymousUser, record: ConsentRecord) -> bool:
    """Whether ``user`` reviews a stage now deciding a post that relies on ``record`` (consent's document rule).

    The stage must be open on the post's current content, the user one who may decide it (its
    group, the campaign's reviewers, not the author): nobody else, and nobody once it has closed.
    """
    if not isinstance(user, User) or not user.is_active:
        return False
    posts = Post.objects.filter(featured_people__consent=record).distinct()
    policy = ApprovalPolicy(user)
    return any(
        policy.decide_refusal(run) in READS_DOCUMENTS_WHILE for post in posts for run in open_stage_runs(post=post)
    )


def current_stage_run(*, post: Post) -> StageRun | None:
    """Return the stage before publication waiting for a decision in the post's open round, if any.

    Stages after publication are open too once the round is approved: `open_stage_runs`.
    """
    return (
        StageRun.objects.select_related("round__post", "stage__group")
        .filter(round__post=post, round__status=RoundStatus.IN_PROGRESS, status=StageStatus.IN_PROGRESS)
        .filter(Q(stage__after_publication=False))
        .order_by("stage__position")
        .first()
    )


def open_stage_runs(*, post: Post) -> list[StageRun]:
    """Return every stage of the post open for decisions on its current content.

    The current stage of its round in progress, then the stages after publication of an approved
    round (open from the round's approval on; a crisis post goes out while Legal still reviews).
    """
    return list(
        # With the post's current revision (its hash, which decide_refusal compares), not its snapshot.
        StageRun.objects.select_related("round__post__current_revision", "stage__group")
        .defer("round__post__current_revision__content")
        .filter(round__post=post, status=StageStatus.IN_PROGRESS)
        .filter(round__content_hash=F("round__post__current_revision__content_hash"))
        .filter(
            Q(round__status=RoundStatus.IN_PROGRESS, stage__after_publication=False)
            | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True)
        )
        .order_by("stage__after_publication", "stage__position", "pk")
    )


def open_runs_of(rounds: Iterable[ReviewRound], *, post: Post) -> list[StageRun]:
    """Return `open_stage_runs` of ``post`` from its rounds already loaded with their stage runs and stages.

    The same stages in the same order, without a query: for a page that loaded every round anyway.
    """
    current_hash = post.content_hash
    runs = [
        run
        for review_round in rounds
        if review_round.content_hash == current_hash
        for run in review_round.stage_runs.all()
        if run.status == StageStatus.IN_PROGRESS
        and (
            (review_round.status == RoundStatus.IN_PROGRESS and not run.stage.after_publication)
            or (review_round.status == RoundStatus.APPROVED and run.stage.after_publication)
        )
    ]
    return sorted(runs, key=lambda run: (run.stage.after_publication, run.stage.position, run.pk))


def open_round(*, post: Post) -> ReviewRound | None:
    return ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).first()


# Review comments ------------------------------------------------------------------------------

VIEW_COMMENTS = "view_comments"
COMMENT = "comment"
REPLY = "reply"
MARK_BLOCKING = "mark_blocking"
RESOLVE = "resolve"
REOPEN = "reopen"


class CommentPolicy:
    """Who comments on a post's content, replies, marks a comment blocking, resolves and reopens it.

    Reviewers (members of a group some active chain's stage is decided by) who see the post start
    threads, and mark them blocking; the post's editors (its campaign's team) reply. A thread is
    resolved (or reopened) by its author or by a member of the review group it was raised for; an
    editor may resolve a comment that does not block, never one that does: the reviewers, not the
    team whose work they check, say when a blocking concern is settled.
    """

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user
        self.approvals = ApprovalPolicy(user)

    @cached_property
    def reviewer_group_ids(self) -> frozenset[int]:
        """Return the user's groups that decide a stage of some active chain."""
        group_ids = self.approvals.group_ids
        if not group_ids or not isinstance(self.user, User):
            return frozenset()

        def read() -> frozenset[int]:
            stages = ReviewStage.objects.filter(chain__active=True, group_id__in=group_ids)
            return frozenset(stages.values_list("group_id", flat=True).distinct())

        # Chains and stages change through audited services (chain_save, chain_delete): kept like the roles.
        return rights.kept(self.user, "reviewer groups", read)

    def _sees(self, post: Post) -> bool:
        user = self.user
        return bool(
            user.is_authenticated and user.is_active and post.campaign_id in self.approvals.visible_campaign_ids
        )

    def _edits(self, post: Post) -> bool:
        return post.campaign_id in self.approvals.posts.editable_campaign_ids

    def actions(self, post: Post) -> frozenset[str]:
        """Return what this user may do with ``post``'s comments: view_comments, comment, reply, mark_blocking."""
        if not self._sees(post):
            return frozenset()
        actions = {VIEW_COMMENTS}
        if self.reviewer_group_ids:
            actions |= {COMMENT, REPLY, MARK_BLOCKING}
        if self._edits(post):
            actions.add(REPLY)
        return frozenset(actions)

    def group_for(self, post: Post, *, open_group_ids: tuple[int, ...] = ()) -> int | None:
        """Return the review group a new comment of this user is raised for: the open stage's if theirs."""
        mine = self.reviewer_group_ids
        for group_id in open_group_ids:
            if group_id in mine:
                return group_id
        return min(mine) if mine else None

    def comment_actions(self, comment: ReviewComment, post: Post) -> frozenset[str]:
        """Return what this user may do with one thread of ``post``: reply, resolve or reopen, mark_blocking."""
        on_post = self.actions(post)
        if VIEW_COMMENTS not in on_post:
            return frozenset()
        actions = {VIEW_COMMENTS} | (on_post & {REPLY})
        own = comment.author_id == self.user.pk
        colleague = comment.group_id is not None and comment.group_id in self.reviewer_group_ids
        settles = own or colleague or (not comment.blocking and self._edits(post))
        if settles:
            actions.add(REOPEN if comment.resolved_at is not None else RESOLVE)
        if (own or colleague) and MARK_BLOCKING in on_post and comment.resolved_at is None:
            actions.add(MARK_BLOCKING)
        return frozenset(actions)


# Re-certification ------------------------------------------------------------------------------

KEEP = "keep"
REVISE = "revise"
WITHDRAW = "withdraw"
RECERTIFY = frozenset({KEEP, REVISE, WITHDRAW})


class RecertificationPolicy:
    """Who answers "Keep", "Revise" or "Withdraw" for a live evergreen post due for re-certification.

    The members of the first stage (before publication) of the chain that approved it, within the
    campaign's permissions: that stage (Medical in the default chain) judges whether the content
    is still right, which is what goes stale in evergreen content. Never the author or anyone who
    wrote a revision of the post (SPEC section 4). Make one per request, as `ApprovalPolicy`.
    """

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user
        self._first_groups: dict[int, int | None] = {}
        self._wrote: set[int] | None = None

    @cached_property
    def approvals(self) -> ApprovalPolicy:
        return ApprovalPolicy(self.user)

    def prefetch(self, *, chains: Iterable[ReviewChain], posts: Iterable[Post]) -> None:
        """Read the chains' first groups and the posts the user wrote revisions of, two queries for a list."""
        chain_ids = {chain.pk for chain in chains} - set(self._first_groups)
        if chain_ids:
            stages = ReviewStage.objects.filter(chain_id__in=chain_ids, after_publication=False).order_by(
                "chain_id", "position"
            )
            for chain_id in chain_ids:
                self._first_groups[chain_id] = None
            for chain_id, group_id in stages.values_list("chain_id", "group_id"):
                if self._first_groups.get(chain_id) is None:
                    self._first_groups[chain_id] = group_id
        post_ids = [post.pk for post in posts]
        if self.user.is_authenticated and post_ids:
            self._wrote = set(
                Revision.objects.filter(post_id__in=post_ids, created_by_id=self.user.pk).values_list(
                    "post_id", flat=True
                )
            )

    def first_group_id(self, chain: ReviewChain) -> int | None:
        if chain.pk not in self._first_groups:
            self.prefetch(chains=[chain], posts=[])
        return self._first_groups[chain.pk]

    def _wrote_revision(self, post: Post) -> bool:
        if self._wrote is not None and post.pk in self._wrote:
            return True
        if self._wrote is not None:
            return False
        return Revision.objects.filter(post_id=post.pk, created_by_id=self.user.pk).exists()

    def refusal(self, post: Post, *, certification: Certification | None, now: dt.datetime) -> str:
        """Return why this user may not answer the re-certification of ``post`` now, or "" if they may."""
        user = self.user
        if not user.is_authenticated or not user.is_active:
            return "not_logged_in"
        if post.status not in LIVE or post.content_type not in EVERGREEN or certification is None:
            return "not_due"
        due_at = certification.recertify_at
        if due_at is None or due_at > now:
            return "not_due"
        if post.author_id == user.pk:
            return "author"
        if self.first_group_id(certification.chain) not in self.approvals.group_ids:
            return "not_in_group"
        if post.campaign_id not in self.approvals.visible_campaign_ids:
            return "cannot_see"
        if self._wrote_revision(post):
            return "wrote_revision"
        return ""

    def actions(
        self, post: Post, *, certification: Certification | None, now: dt.datetime | None = None
    ) -> frozenset[str]:
        """Return the re-certification answers this user may give for ``post`` ("keep", "revise", "withdraw")."""
        refused = self.refusal(post, certification=certification, now=now or timezone.now())
        return frozenset() if refused else RECERTIFY
