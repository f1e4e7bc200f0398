"""The medical stage's check of each claim's source: "Source checked", and approval waiting for it.

A check is bound to the content hash of the round it was made in (`ClaimCheck.content_hash`) and
to the claim's own hash. Any new revision voids every check, even of claims that stayed as they
were: the passage's meaning depends on the text around it, and a new revision restarts review
from the first stage anyway, where the medical reviewer reads the whole post again.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from approvals.models import ClaimCheck, StageRun
from approvals.policy import CHECK_SOURCES, ApprovalPolicy
from audit.services import event_record
from core.locks import row_lock
from people.models import User
from posts.claim_rules import Segment, text_segments
from posts.content import claim_hash, claim_snapshot
from posts.locks import post_lock
from posts.models import Claim, Post


def checks_current(*, post: Post, claims: list[Claim]) -> dict[int, ClaimCheck]:
    """Return the checks that count for the post's current content, by claim id."""
    checks = ClaimCheck.objects.filter(
        claim__in=claims, content_hash=post.content_hash, stage_run__round__content_hash=post.content_hash
    ).select_related("checked_by")
    hashes = {claim.pk: claim_hash(claim) for claim in claims}
    return {
        check.claim_id: check
        for check in checks
        if check.claim_id is not None and hashes[check.claim_id] == check.claim_hash
    }


def claims_approval_problems(*, post: Post) -> list[str]:
    """Return why a stage that checks claims may not approve the post yet: one line per claim, or []."""
    claims = list(post.claims.all())
    checked = checks_current(post=post, claims=claims)
    problems: list[str] = []
    for claim in claims:
        if not claim.has_source:
            problems.append(
                _("The claim “%(claim)s” has no source: request changes so the editor links one.") % {"claim": claim}
            )
        elif claim.pk not in checked:
            problems.append(
                _("Check the source of the claim “%(claim)s” (“Source checked”) before approving.") % {"claim": claim}
            )
    return problems


@transaction.atomic
def claim_check_record(*, claim: Claim, reviewer: User) -> ClaimCheck:
    """Record that ``reviewer`` checked the source of ``claim`` for the post's current content; returns the check.

    Only a reviewer who may decide the post's open stage that checks claims may; checking twice
    returns the first check.
    """
    post = post_lock(claim.post_id)
    policy = ApprovalPolicy(reviewer)
    stage_run = policy.stage_run_for(post)
    if stage_run is None or CHECK_SOURCES not in policy.actions(post, stage_run=stage_run):
        raise PermissionDenied(_("Only a reviewer who may now decide the medical stage checks sources."))
    stage_run = row_lock(StageRun, stage_run.pk, related=("round", "stage"))
    try:
        claim = Claim.objects.get(pk=claim.pk, post=post)
    except Claim.DoesNotExist:
        raise ValidationError(_("This claim is no longer part of the post."), code="claim_gone") from None
    if not claim.has_source:
        raise ValidationError(
            _("This claim has no source to check: request changes so the editor links one."), code="no_source"
        )
    existing = ClaimCheck.objects.filter(claim=claim, content_hash=post.content_hash).first()
    if existing is not None:
        return existing
    check = ClaimCheck.objects.create(
        claim=claim,
        stage_run=stage_run,
        content_hash=post.content_hash,
        claim_hash=claim_hash(claim),
        checked_by=reviewer,
    )
    event_record(
        actor=reviewer,
        action="review.claim_source_checked",
        obj=post,
        content_hash=post.content_hash,
        changes={
            "claim": str(claim.pk),
            **claim_snapshot(claim),
            "stage": stage_run.stage.name,
            "round": stage_run.round_id,
        },
    )
    return check


# The review page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimLine:
    number: int
    claim: Claim
    check: ClaimCheck | None


@dataclass(frozen=True)
class ClaimsReview:
    """What the review page shows of claims: the text with claims marked, each claim, its check."""

    segments: list[Segment]
    lines: list[ClaimLine]
    sources: str
    may_check: bool
    stage_checks: bool

    @property
    def unchecked(self) -> int:
        return sum(1 for line in self.lines if line.check is None)


def claims_review(
    *,
    user: User | AnonymousUser,
    post: Post,
    open_runs: list[StageRun] | None = None,
    decided: tuple[StageRun | None, frozenset[str]] | None = None,
) -> ClaimsReview:
    """Return the claims block of the review page for ``user`` (a fixed number of queries).

    ``open_runs``: the post's `open_stage_runs`, where the page has them (`ReviewOverview.open_runs`).
    ``decided``: a stage run and this user's `ApprovalPolicy.actions` at it, where the page has them
    (the overview's current run and actions); used when it is the stage the claims block is for.
    """
    claims = list(post.claims.all())
    checks = checks_current(post=post, claims=claims)
    policy = ApprovalPolicy(user)
    run = policy.stage_run_for(post, open_runs=open_runs)
    if run is None:
        may_check = False
    elif decided is not None and decided[0] is not None and decided[0].pk == run.pk:
        may_check = CHECK_SOURCES in decided[1]
    else:
        may_check = CHECK_SOURCES in policy.actions(post, stage_run=run)
    return ClaimsReview(
        segments=text_segments(post.body, claims) if claims else [],
        lines=[ClaimLine(number, claim, checks.get(claim.pk)) for number, claim in enumerate(claims, start=1)],
        sources=post.sources,
        may_check=may_check,
        stage_checks=run is not None and run.stage.checks_claims,
    )
