"""The one answer to "which review actions may this user take on this post?"."""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q

from approvals.models import Decision, ReviewRound, RoundStatus, StageRun, StageStatus
from consent.models import ConsentRecord
from people.models import User
from posts.models import Post, PostStatus, Revision
from posts.policy import EDIT, PostPolicy
from posts.selectors import campaigns_for_user

SUBMIT = "submit"
APPROVE = "approve"
REQUEST_CHANGES = "request_changes"
REJECT = "reject"
CHANGE_CHAIN = "change_chain"
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
        if not self.user.is_authenticated:
            return frozenset()
        return frozenset(self.user.groups.values_list("pk", flat=True))

    @cached_property
    def visible_campaign_ids(self) -> frozenset[int]:
        return frozenset(campaigns_for_user(user=self.user).values_list("pk", flat=True))

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
        # Read per round, never cached: a decision made with this policy must count at once.
        decided = set(
            Decision.objects.filter(stage_run__round=review_round, reviewer=user).values_list("stage_run_id", flat=True)
        )
        if stage_run.pk in decided:
            return "already_decided"
        if decided:
            return "decided_other_stage"
        return ""

    def stage_run_for(self, post: Post) -> StageRun | None:
        """Return the open stage of ``post`` this user may decide, else the first open one, else None."""
        runs = open_stage_runs(post=post)
        if len(runs) > 1:
            return next((run for run in runs if not self.decide_refusal(run)), runs[0])
        return runs[0] if runs else None

    def actions(self, post: Post, stage_run: StageRun | None = None) -> frozenset[str]:
        """Return the review actions this user may take on ``post`` (at ``stage_run``, else their open stage)."""
        actions: set[str] = set()
        if post.status in SUBMITTABLE and EDIT in self.posts.actions(post):
            actions.add(SUBMIT)
        if post.status in SUBMITTABLE and self.may_change_chains:
            actions.add(CHANGE_CHAIN)
        run = stage_run or self.stage_run_for(post)
        if run is not None and not self.decide_refusal(run):
            actions |= DECIDE
        return frozenset(actions)


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
        StageRun.objects.select_related("round__post", "stage__group")
        .filter(round__post=post, status=StageStatus.IN_PROGRESS)
        .filter(round__content_hash=F("round__post__current_revision__content_hash"))
        .filter(
            Q(round__status=RoundStatus.IN_PROGRESS, stage__after_publication=False)
            | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True)
        )
        .order_by("stage__after_publication", "stage__position", "pk")
    )


def open_round(*, post: Post) -> ReviewRound | None:
    return ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).first()
