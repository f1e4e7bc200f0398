"""The one answer to "which review actions may this user take on this post?"."""

from typing import Any

from django.db.models import F, Q

from approvals.models import Decision, ReviewRound, RoundStatus, StageRun, StageStatus
from posts.models import Post, PostStatus
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


def decide_refusal(*, user: Any, stage_run: StageRun) -> str:
    """Return why ``user`` may not decide ``stage_run`` now, or "" if they may.

    Superusers get no shortcut: every rule of SPEC section 4 applies to them too.
    """
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
    if not user.groups.filter(pk=stage_run.stage.group_id).exists():
        return "not_in_group"
    if not campaigns_for_user(user=user).filter(pk=post.campaign_id).exists():
        return "cannot_see"
    decided = Decision.objects.filter(stage_run__round=review_round, reviewer=user)
    if decided.filter(stage_run=stage_run).exists():
        return "already_decided"
    if decided.exclude(stage_run=stage_run).exists():
        return "decided_other_stage"
    return ""


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


def stage_run_for_user(*, user: Any, post: Post) -> StageRun | None:
    """Return the open stage of ``post`` that ``user`` may decide, else the first open one, else None."""
    runs = open_stage_runs(post=post)
    if len(runs) > 1:
        return next((run for run in runs if not decide_refusal(user=user, stage_run=run)), runs[0])
    return runs[0] if runs else None


def review_actions(*, user: Any, post: Post, stage_run: StageRun | None = None) -> frozenset[str]:
    """Return the review actions ``user`` may take on ``post``."""
    actions: set[str] = set()
    post_policy = PostPolicy(user)
    if post.status in SUBMITTABLE and EDIT in post_policy.actions(post):
        actions.add(SUBMIT)
    if post.status in SUBMITTABLE and user.is_active and user.has_perm("approvals.change_postchain"):
        actions.add(CHANGE_CHAIN)
    run = stage_run or stage_run_for_user(user=user, post=post)
    if run is not None and not decide_refusal(user=user, stage_run=run):
        actions |= DECIDE
    return frozenset(actions)


def open_round(*, post: Post) -> ReviewRound | None:
    return ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).first()
