"""Every write of the review workflow: submitting, deciding, restarting, choosing chains."""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from approvals.claims import claims_approval_problems
from approvals.deadlines import ReviewTime, review_time, stage_deadline
from approvals.expiry import EVERGREEN, LIVE, certifications_of
from approvals.models import (
    ApprovalRule,
    CampaignChain,
    Confirmation,
    Decision,
    PostChain,
    ReviewChain,
    ReviewComment,
    ReviewRound,
    ReviewStage,
    RoundStatus,
    StageRun,
    StageStatus,
    Verdict,
)
from approvals.policy import CHANGE_CHAIN, SUBMIT, ApprovalPolicy
from approvals.signatures import meaning_of, printed_name, signed_as
from approvals.states import (
    ROUND_CLOSES_STAGES,
    STAGE_OPEN,
    VERDICT_OUTCOME,
    VERDICT_POST_END,
    VERDICT_ROUND_END,
    round_may_move,
    stage_may_move,
)
from audit.models import AuditEvent
from audit.services import event_record
from audit.versions import NOT_CHANGES
from core.inputs import text_problem, unstorable_error
from core.locks import row_lock, rows_lock
from core.tasks import enqueue_after_commit
from people.models import User
from posts.gates import post_consent_problems
from posts.locks import post_lock
from posts.models import Campaign, ContentType, Post, PostStatus, Revision
from posts.patient_data import IMAGE_FACE, IMAGE_WAITING
from posts.platforms import Finding
from posts.services import (
    post_approval_record,
    post_content_findings,
    post_findings,
    post_retract,
    post_transition,
)
from posts.signals import post_blocked, post_content_changed, post_retimed, post_status_changed, post_withdrawn
from posts.stale import post_version_check

REFUSALS = {
    "not_logged_in": gettext_lazy("Log in to review."),
    "not_current": gettext_lazy("This stage is not open for decisions."),
    "not_in_review": gettext_lazy("This post is not in review."),
    "stale": gettext_lazy("The post changed since this round started; review the new version."),
    "author": gettext_lazy("Authors never decide on their own posts."),
    "submitter": gettext_lazy("You submitted this post for review; someone else decides it."),
    "wrote_revision": gettext_lazy("You wrote a version of this post; someone else decides it."),
    "declared_crisis": gettext_lazy("You declared this post a crisis; someone else decides it."),
    "not_in_group": gettext_lazy("Only members of this stage's group decide it."),
    "cannot_see": gettext_lazy("You are not assigned to this campaign."),
    "already_decided": gettext_lazy("You have already decided this stage."),
    "decided_other_stage": gettext_lazy("You decided another stage of this round; one person decides one stage."),
}


def chain_for_post(*, post: Post) -> ReviewChain:
    """Return the chain a post goes through: its own, the expedited one for crises, its campaign's, the default."""
    own = PostChain.objects.filter(post=post).select_related("chain").first()
    if own is not None:
        return own.chain
    if post.content_type == ContentType.CRISIS:
        expedited = ReviewChain.objects.filter(is_expedited=True, active=True).first()
        if expedited is not None:
            return expedited
    campaign_chain = CampaignChain.objects.filter(campaign_id=post.campaign_id).select_related("chain").first()
    if campaign_chain is not None:
        return campaign_chain.chain
    default = ReviewChain.objects.filter(is_default=True, active=True).first()
    if default is None:
        raise ValidationError(_("No review chain is set up; Governance must define a default chain."))
    return default


@dataclass(frozen=True)
class KeyedFinding:
    """One finding with the key Legal acknowledges it by; ``account_id`` is None for a post-wide one."""

    key: str
    account_id: int | None
    finding: Finding


def findings_keyed(*, post: Post) -> list[KeyedFinding]:
    """Return every finding of the post's current content with its stable key, per account then post-wide.

    Per-account keys are ``<account_id>:<code>`` (one key for every finding of that code on that
    account); post-wide keys are ``post:<code>:<n>``, the n-th finding of that code.
    """
    keyed = [
        KeyedFinding(key=f"{account_id}:{finding.code}", account_id=account_id, finding=finding)
        for account_id, findings in post_findings(post=post).items()
        for finding in findings
    ]
    counts: dict[str, int] = {}
    for finding in post_content_findings(post=post):
        counts[finding.code] = counts.get(finding.code, 0) + 1
        keyed.append(KeyedFinding(key=f"post:{finding.code}:{counts[finding.code]}", account_id=None, finding=finding))
    return keyed


# The findings Legal acknowledges only with a reason: a face nobody featured accounts for (issue 18).
REASON_REQUIRED = frozenset({IMAGE_FACE})
REASON_MAX = 1_000


def reason_required(key: str) -> bool:
    """Whether the finding of ``key`` is acknowledged only with a reason."""
    # Post-wide keys are "post:<code>:<n>" (`findings_keyed`); per-account ones "<account>:<code>".
    code = key.split(":")[1] if ":" in key else ""
    return code in REASON_REQUIRED


def _acknowledgement_reasons(acknowledged: list[str], reasons: Mapping[str, str]) -> dict[str, str]:
    """The reasons given for acknowledged findings, stripped; raises ValidationError for one that cannot be kept."""
    given: dict[str, str] = {}
    for key in acknowledged:
        reason = str(reasons.get(key, "")).strip()
        if not reason:
            continue
        if text_problem(reason) or len(reason) > REASON_MAX:
            raise ValidationError(
                _("A reason must be plain text of at most %(max)s characters.") % {"max": REASON_MAX},
                code="reason_invalid",
            )
        given[key] = reason
    return given


def finding_keys(*, post: Post) -> list[str]:
    """Return a stable key per finding of the post's current content (per account, then post-wide)."""
    return sorted({item.key for item in findings_keyed(post=post)})


def _deadline(*, stage_run: StageRun, start: dt.datetime, now: dt.datetime) -> dt.datetime:
    """Return ``stage_run``'s deadline: its turnaround, or its share of the time left (`approvals.deadlines`)."""
    stage, post = stage_run.stage, stage_run.round.post
    if stage.after_publication:
        return (post.scheduled_at or start) + stage.turnaround
    later = sum(
        (
            run.stage.turnaround
            for run in stage_run.round.stage_runs.select_related("stage").filter(
                status=StageStatus.WAITING, stage__after_publication=False, stage__position__gt=stage.position
            )
        ),
        dt.timedelta(),
    )
    return stage_deadline(
        start=start, now=now, turnaround=stage.turnaround, later=later, scheduled_at=post.scheduled_at
    )


def round_transition(
    *, review_round: ReviewRound, to: str, actor: User | None, now: dt.datetime | None = None
) -> ReviewRound:
    """Lock ``review_round`` and end it in status ``to`` if `approvals.states` allows it; returns it.

    Closes the round's undecided stages unless it was approved, and writes the audit event. Raises ValidationError
    (code ``invalid_transition``) for a move the life cycle does not list.
    """
    current = row_lock(ReviewRound, review_round.pk).status
    if not round_may_move(current, to):
        raise ValidationError(
            _("A review round cannot go from “%(old)s” to “%(new)s”."),
            code="invalid_transition",
            params={"old": RoundStatus(current).label, "new": RoundStatus(to).label},
        )
    now = now or timezone.now()
    review_round.status, review_round.finished_at = to, now
    review_round.save(update_fields=["status", "finished_at"])
    undecided = review_round.stage_runs.filter(status__in=STAGE_OPEN).order_by("stage__position", "pk")
    for run in undecided if to in ROUND_CLOSES_STAGES else ():
        stage_transition(stage_run=run, to=StageStatus.CLOSED, actor=actor, now=now)
    event_record(
        actor=actor,
        action=f"review.round_{to}",
        obj=review_round.post,
        content_hash=review_round.content_hash,
        changes={"round": review_round.pk},
    )
    return review_round


def stage_transition(*, stage_run: StageRun, to: str, actor: User | None, now: dt.datetime | None = None) -> StageRun:
    """Lock ``stage_run`` and move it to status ``to`` if `approvals.states` allows it; returns it.

    Starting a stage sets its deadline and tells its reviewers after commit; any other move
    finishes it. Writes the audit event. Raises ValidationError (code ``invalid_transition``)
    for a move the life cycle does not list.
    """
    current = row_lock(StageRun, stage_run.pk).status
    if not stage_may_move(current, to):
        raise ValidationError(
            _("A review stage cannot go from “%(old)s” to “%(new)s”."),
            code="invalid_transition",
            params={"old": StageStatus(current).label, "new": StageStatus(to).label},
        )
    now = now or timezone.now()
    stage_run.status = to
    if to == StageStatus.IN_PROGRESS:
        stage_run.started_at = now
        stage_run.deadline = _deadline(stage_run=stage_run, start=now, now=now)
        fields = ["status", "started_at", "deadline"]
    else:
        stage_run.finished_at = now
        fields = ["status", "finished_at"]
    stage_run.save(update_fields=fields)
    event_record(
        actor=actor,
        action="review.stage_status_changed",
        obj=stage_run,
        content_hash=stage_run.round.content_hash,
        changes={"status": [current, to], "round": stage_run.round_id, "stage": stage_run.stage.name},
    )
    if to == StageStatus.IN_PROGRESS:
        enqueue_after_commit("approvals.notifications.stage_reached", stage_run_id=stage_run.pk)
    return stage_run


def _round_open(*, post: Post, actor: User | None, submitted_by: User | None = None) -> ReviewRound:
    # ``submitted_by``: whose submission the round reviews when the system opens it (an expired approval).
    submitter = submitted_by or actor
    assert submitter is not None, "a round is always someone's submission"
    chain = chain_for_post(post=post)
    stages = list(chain.stages.order_by("position"))
    if not stages:
        raise ValidationError(_("The review chain “%(chain)s” has no stages.") % {"chain": chain})
    now = timezone.now()
    assert post.current_revision is not None, "a saved post always has a revision"
    review_round = ReviewRound.objects.create(
        post=post,
        chain=chain,
        revision=post.current_revision,
        content_hash=post.content_hash,
        submitted_by=submitter,
        submitted_at=now,
    )
    runs = StageRun.objects.bulk_create([StageRun(round=review_round, stage=stage) for stage in stages])
    first = next(run for run in runs if not run.stage.after_publication)
    stage_transition(stage_run=first, to=StageStatus.IN_PROGRESS, actor=actor, now=now)
    event_record(
        actor=actor,
        action="review.round_opened",
        obj=post,
        content_hash=review_round.content_hash,
        changes={"round": review_round.pk, "chain": chain.name, "revision": post.current_revision.number},
    )
    return review_round


def submit_review_time(*, post: Post, now: dt.datetime | None = None) -> ReviewTime:
    """Return what the post's chain needs before publication against the time its slot leaves."""
    chain = chain_for_post(post=post)
    return review_time(stages=list(chain.stages.all()), scheduled_at=post.scheduled_at, now=now or timezone.now())


def compressed_problem(time: ReviewTime) -> str:
    """Return the refusal of a compressed review the editor did not confirm, naming hours needed and left."""
    return _(
        "The review needs %(needed)s hours (the stages' turnaround times) but only %(available)s hours are left "
        "before the scheduled time, less the review margin. Confirm that you know the review has less time "
        "than its turnarounds, or move the post."
    ) % {"needed": time.needed_hours, "available": time.available_hours}


@transaction.atomic
def round_submit(*, post: Post, actor: User, compressed_ok: bool = True) -> ReviewRound:
    """Freeze the post's current revision and open a round at the chain's first stage.

    A chain whose turnarounds do not fit before the post's time is refused with ``compressed_ok=False``:
    the pages where a person submits pass whether they confirmed the shorter review. Either way the
    stages then share the time left (`approvals.deadlines`).
    """
    post = post_lock(post.pk)
    if SUBMIT not in ApprovalPolicy(actor).actions(post):
        raise PermissionDenied(_("You may not submit this post for review."))
    problems = []
    time = submit_review_time(post=post)
    if time.compressed and not compressed_ok:
        problems.append(compressed_problem(time))
    if not post.targets.exists():
        problems.append(_("Choose at least one target account."))
    if not post.body.strip() and not post.media.exists():
        problems.append(_("Write a text or add media first."))
    problems.extend(problem.message for problem in post_consent_problems(post=post))
    if problems:
        raise ValidationError(problems)
    post_transition(post=post, to=PostStatus.IN_REVIEW, actor=actor, reason="submitted for review")
    return _round_open(post=post, actor=actor)


def _rule_met(*, stage_run: StageRun) -> bool:
    approvals = set(stage_run.decisions.filter(verdict=Verdict.APPROVE).values_list("reviewer_id", flat=True))
    stage = stage_run.stage
    if stage.rule == ApprovalRule.ANY:
        return len(approvals) >= 1
    if stage.rule == ApprovalRule.COUNT:
        return len(approvals) >= stage.required_approvals
    assigned = set(
        stage_run.round.post.campaign.reviewers.filter(groups=stage.group, is_active=True).values_list("pk", flat=True)
    )
    # With nobody assigned, "all assigned" cannot mean "nobody": one member must approve.
    return assigned <= approvals if assigned else len(approvals) >= 1


@transaction.atomic
def decision_record(
    *,
    stage_run: StageRun,
    reviewer: User,
    verdict: str,
    comment: str = "",
    acknowledged: Iterable[str] = (),
    reasons: Mapping[str, str] | None = None,
    expected_version: int | None = None,
    confirmation: str = Confirmation.NOT_RECORDED,
) -> Decision:
    """Record one reviewer's verdict as their signature; advance, send back, end or finish the round.

    With ``expected_version`` (the post's version the decision form was opened on) a decision
    on a post that changed since (a new revision, another reviewer's decision) is refused.
    ``confirmation`` says how the reviewer showed it was them (`approvals.signatures.confirmation_of`).
    ``reasons``: the reviewer's reason per acknowledged finding key; a finding that `REASON_REQUIRED`
    lists (a face in an image) is acknowledged only with one.
    """
    post = post_lock(stage_run.round.post_id)
    stage_run = row_lock(StageRun, stage_run.pk, related=("round", "stage__group"))
    decision_version_check(post=post, stage_run=stage_run, expected=expected_version)
    stage_run.round.post = post
    refusal = ApprovalPolicy(reviewer).decide_refusal(stage_run)
    if refusal:
        raise PermissionDenied(str(REFUSALS[refusal]))
    if verdict not in Verdict.values:
        raise ValidationError(_("Choose approve, request changes or reject."))
    if confirmation not in Confirmation.values:
        raise ValueError(f"Unknown confirmation {confirmation!r}.")
    comment = comment.strip()
    if text_problem(comment):
        raise ValidationError({"comment": unstorable_error().messages})
    if verdict != Verdict.APPROVE and not comment:
        raise ValidationError({"comment": _("Say what must change (a comment is required).")})
    acknowledged = sorted(set(acknowledged))
    if verdict == Verdict.APPROVE:
        # The consent gate holds at every approval: no acknowledgement can wave it through.
        consent = post_consent_problems(post=post)
        if consent:
            raise ValidationError([problem.message for problem in consent], code="consent")
    if verdict == Verdict.APPROVE and stage_run.stage.checks_claims:
        claims = claims_approval_problems(post=post)
        if claims:
            raise ValidationError(claims, code="claims_unchecked")
    given = _acknowledgement_reasons(acknowledged, reasons or {})
    if verdict == Verdict.APPROVE and stage_run.stage.must_acknowledge_findings:
        keys = finding_keys(post=post)
        if any(key.startswith(f"post:{IMAGE_WAITING}:") for key in keys):
            # What the check finds is for Legal to see: no acknowledging a check that has not ended.
            raise ValidationError(
                _("An image is still being checked for text and faces: approve once the check has ended."),
                code="image_check_running",
            )
        missing = set(keys) - set(acknowledged)
        if missing:
            raise ValidationError(_("Acknowledge every finding before approving."), code="unacknowledged")
        unexplained = [key for key in keys if reason_required(key) and not given.get(key)]
        if unexplained:
            raise ValidationError(
                _("Give your reason for each visible face you acknowledge (for example: nobody is identifiable)."),
                code="reason_required",
            )
    if verdict == Verdict.APPROVE and stage_run.stage.blocking_comments_resolved:
        blocking = ReviewComment.objects.filter(
            post=post, blocking=True, resolved_at__isnull=True, group_id=stage_run.stage.group_id
        ).count()
        if blocking:
            raise ValidationError(
                ngettext(
                    "Resolve the blocking comment of this stage before approving (%(count)s open).",
                    "Resolve the blocking comments of this stage before approving (%(count)s open).",
                    blocking,
                )
                % {"count": blocking},
                code="blocking_comments",
            )
    decision = Decision.objects.create(
        stage_run=stage_run,
        reviewer=reviewer,
        verdict=verdict,
        comment=comment,
        content_hash=stage_run.round.content_hash,
        acknowledged_findings=acknowledged,
        acknowledgement_reasons=given,
        signer_name=printed_name(reviewer)[:300],  # a first and a last name of 150 each, and a space
        signer_time_zone=reviewer.time_zone,
        signer_role=signed_as(stage_run),
        confirmation=confirmation,
    )
    # The trail is read by auditors in any language: the meaning is kept in the site's own.
    with translation.override(settings.LANGUAGE_CODE):
        meaning = meaning_of(verdict=verdict, role=decision.signer_role)
    event_record(
        actor=reviewer,
        action=f"review.{verdict}",
        obj=post,
        content_hash=decision.content_hash,
        changes={
            "stage": stage_run.stage.name,
            "round": stage_run.round_id,
            "comment": comment,
            "decision": decision.pk,
            "meaning": meaning,
            "printed_name": decision.signer_name,
            "signed_as": decision.signer_role,
            "time_zone": decision.signer_time_zone,
            "confirmation": decision.confirmation,
            "acknowledged": {key: given.get(key, "") for key in acknowledged},
        },
    )
    _round_advance(stage_run=stage_run, post=post, decision=decision)
    return decision


def decision_version_check(*, post: Post, stage_run: StageRun, expected: int | None) -> None:
    """Raise `audit.versions.StaleVersion` if ``post`` changed since the decision form's version ``expected``.

    Reviewers of a stage that needs several approvals decide side by side: a colleague's approval
    of the same stage in the same round changes nothing the reviewer saw (content, findings, the
    stage still open), so it does not make their form stale. Any other change does.
    """
    if expected is None:
        return
    seen = expected
    later = (
        AuditEvent.objects.filter(object_type=post._meta.label_lower, object_id=str(post.pk), seq__gt=seen)
        .exclude(action__in=NOT_CHANGES)
        .order_by("seq")
        .values_list("seq", "action", "changes")
    )
    for seq, action, changes in later if stage_run.status == StageStatus.IN_PROGRESS else ():
        colleague = (
            action == f"review.{Verdict.APPROVE}"
            and changes.get("round") == stage_run.round_id
            and changes.get("stage") == stage_run.stage.name
        )
        if not colleague:
            break
        seen = seq
    post_version_check(post=post, expected=seen)


def _round_advance(*, stage_run: StageRun, post: Post, decision: Decision) -> None:
    now = timezone.now()
    review_round = stage_run.round
    reviewer, verdict = decision.reviewer, decision.verdict
    if stage_run.stage.after_publication:
        # The post is out (or going out): a verdict here closes the stage. A rejection withdraws
        # what has not gone out and lists what is live for takedown; a request for changes leaves
        # the post as it is. Either way the author and Communications are told.
        if _rule_met(stage_run=stage_run) or verdict != Verdict.APPROVE:
            stage_transition(stage_run=stage_run, to=VERDICT_OUTCOME[verdict], actor=reviewer, now=now)
        if verdict == Verdict.APPROVE:
            return
        retraction = None
        if verdict == Verdict.REJECT:
            retraction = post_retract(post=post, stage=stage_run.stage.name, comment=decision.comment, actor=reviewer)
            recertification_due_refresh(post_ids=[post.pk])
        enqueue_after_commit(
            "approvals.notifications.after_publication_told",
            decision_id=decision.pk,
            withdrawn=bool(retraction and retraction.withdrawn),
            takedowns=len(retraction.takedown_ids) if retraction else 0,
        )
        return
    if verdict in VERDICT_ROUND_END:
        stage_transition(stage_run=stage_run, to=VERDICT_OUTCOME[verdict], actor=reviewer, now=now)
        round_transition(review_round=review_round, to=VERDICT_ROUND_END[verdict], actor=reviewer, now=now)
        if post.status == PostStatus.IN_REVIEW:  # a post already out keeps its status
            post_transition(post=post, to=VERDICT_POST_END[verdict], actor=reviewer, reason=decision.comment)
        enqueue_after_commit("approvals.notifications.author_told", decision_id=decision.pk)
        return
    if not _rule_met(stage_run=stage_run):
        return
    stage_transition(stage_run=stage_run, to=StageStatus.APPROVED, actor=reviewer, now=now)
    remaining = list(
        review_round.stage_runs.select_related("stage").filter(status=StageStatus.WAITING).order_by("stage__position")
    )
    before = [run for run in remaining if not run.stage.after_publication]
    if before:
        stage_transition(stage_run=before[0], to=StageStatus.IN_PROGRESS, actor=reviewer, now=now)
        return
    # Every stage before publication approved this content: the round is done.
    round_transition(review_round=review_round, to=RoundStatus.APPROVED, actor=reviewer, now=now)
    approved = post_approval_record(post=post, approved_hash=review_round.content_hash, actor=reviewer)
    if approved.status in LIVE:  # an edit approved while the post is out: its approval dates from now
        recertification_due_refresh(post_ids=[post.pk])
    for run in remaining:  # after-publication stages: open now, due after the post goes out
        stage_transition(stage_run=run, to=StageStatus.IN_PROGRESS, actor=reviewer, now=now)
    enqueue_after_commit("approvals.notifications.author_told", decision_id=decision.pk)


OVERDUE_STEPS = {"reminded_at": "review.stage_reminded", "escalated_at": "review.stage_escalated"}


@transaction.atomic
def stage_overdue_step(*, stage_run: StageRun, step: str, now: dt.datetime, to: list[str]) -> bool:
    """Record that overdue ``stage_run`` was reminded (``reminded_at``) or escalated (``escalated_at``).

    Compare-and-set: only the call that set the time returns True (and writes the audit event, naming
    who was told), so two workers never mail one step twice.
    """
    if step not in OVERDUE_STEPS:
        raise ValueError(step)
    changed = StageRun.objects.filter(
        pk=stage_run.pk, status=StageStatus.IN_PROGRESS, deadline=stage_run.deadline, **{f"{step}__isnull": True}
    ).update(**{step: now})
    if not changed:
        return False
    setattr(stage_run, step, now)
    event_record(
        actor=None,
        action=OVERDUE_STEPS[step],
        obj=stage_run,
        content_hash=stage_run.round.content_hash,
        changes={"deadline": stage_run.deadline, "round": stage_run.round_id, "stage": stage_run.stage.name, "to": to},
    )
    return True


@receiver(post_retimed, dispatch_uid="approvals.deadlines_follow_post")
def _deadlines_follow_post(*, post: Post, actor: User | None, **kwargs: Any) -> None:
    stage_deadlines_recompute(post=post, actor=actor)


def stage_deadlines_recompute(*, post: Post, actor: User | None, now: dt.datetime | None = None) -> list[StageRun]:
    """Give the post's open stages the deadline their rule gives at the post's time now; returns those changed.

    Runs in the transaction that moved the post. A deadline moved into the future may be reminded of
    and escalated again. Each change is audited on its stage.
    """
    now = now or timezone.now()
    runs = rows_lock(
        StageRun.objects.filter(round__post=post, status=StageStatus.IN_PROGRESS)
        .filter(
            Q(round__status=RoundStatus.IN_PROGRESS, stage__after_publication=False)
            | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True)
        )
        .order_by("pk"),
        related=("stage", "round"),
    )
    changed = []
    for run in runs:
        run.round.post = post
        deadline = _deadline(stage_run=run, start=run.started_at or now, now=now)
        if deadline == run.deadline:
            continue
        old = run.deadline
        run.deadline = deadline
        fields = ["deadline"]
        if deadline > now:
            run.reminded_at = run.escalated_at = None
            fields += ["reminded_at", "escalated_at"]
        run.save(update_fields=fields)
        event_record(
            actor=actor,
            action="review.deadline_changed",
            obj=run,
            content_hash=run.round.content_hash,
            changes={"deadline": [old, deadline], "round": run.round_id, "stage": run.stage.name, "reason": "moved"},
        )
        changed.append(run)
    return changed


@receiver(post_blocked, dispatch_uid="approvals.cancel_on_block")
def _cancel_review_on_block(*, post: Post, actor: User | None, reason: str, **kwargs: Any) -> None:
    for review_round in rows_lock(ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).order_by("pk")):
        round_transition(review_round=review_round, to=RoundStatus.CANCELLED, actor=actor)


@receiver(post_status_changed, dispatch_uid="approvals.recertify_due_follows_status")
def _recertify_due_follow_status(*, post: Post, old_status: str, **kwargs: Any) -> None:
    """A post that goes live falls due for re-certification; one that stops being live does not."""
    if old_status in LIVE or post.status in LIVE:
        post.recertify_due_at = recertification_due_refresh(post_ids=[post.pk]).get(post.pk)


def recertification_due_refresh(*, post_ids: Iterable[int]) -> dict[int, dt.datetime | None]:
    """Store when each post falls due for re-certification (`Post.recertify_due_at`); returns the stored moments.

    The moment is the post's `approvals.expiry.Certification.recertify_at` while the post is live
    evergreen content, else None. Every service that changes what it rests on (the post's status,
    content or approval, a "Keep", the chain's months) calls this in its transaction, so the
    reviewers' list of due posts reads an index instead of computing it for every live post.
    Two queries and one update for the posts whose moment changed.
    """
    posts = list(Post.objects.filter(pk__in=list(post_ids)).only("pk", "status", "content_type", "recertify_due_at"))
    live = [post.pk for post in posts if post.status in LIVE and post.content_type in EVERGREEN]
    certifications = certifications_of(live) if live else {}
    changed = []
    for post in posts:
        certification = certifications.get(post.pk)
        due = certification.recertify_at if certification else None
        if post.recertify_due_at != due:
            post.recertify_due_at = due
            changed.append(post)
    Post.objects.bulk_update(changed, ["recertify_due_at"])
    return {post.pk: post.recertify_due_at for post in posts}


RECERTIFY_REFRESH_BATCH = 1000


def _recertify_due_refresh_chain(*, chain: ReviewChain) -> None:
    """Store the due moments anew of the live evergreen posts whose approval ``chain`` gave (its months changed)."""
    post_ids = sorted(
        set(
            ReviewRound.objects.filter(
                chain=chain,
                status=RoundStatus.APPROVED,
                content_hash=F("post__approved_hash"),
                post__status__in=LIVE,
                post__content_type__in=EVERGREEN,
            ).values_list("post_id", flat=True)
        )
    )
    for start in range(0, len(post_ids), RECERTIFY_REFRESH_BATCH):
        recertification_due_refresh(post_ids=post_ids[start : start + RECERTIFY_REFRESH_BATCH])


@receiver(post_withdrawn, dispatch_uid="approvals.cancel_on_withdraw")
def _cancel_review_on_withdraw(*, post: Post, actor: User, reason: str, **kwargs: Any) -> None:
    """A withdrawn post needs no review: its open round is cancelled (audited by `round_transition`)."""
    for review_round in rows_lock(ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).order_by("pk")):
        round_transition(review_round=review_round, to=RoundStatus.CANCELLED, actor=actor)


@receiver(post_content_changed, dispatch_uid="approvals.restart_review")
def _restart_review_on_change(
    *, post: Post, revision: Revision, actor: User, previous_status: str, **kwargs: Any
) -> None:
    """An edit after submission supersedes the open round and starts again from the first stage."""
    superseded = False
    for review_round in rows_lock(ReviewRound.objects.filter(post=post, status=RoundStatus.IN_PROGRESS).order_by("pk")):
        round_transition(review_round=review_round, to=RoundStatus.SUPERSEDED, actor=actor)
        superseded = True
    if post.approved_hash:
        post.approved_hash = ""
        post.save(update_fields=["approved_hash", "updated_at"])
        if post.status in LIVE:
            post.recertify_due_at = recertification_due_refresh(post_ids=[post.pk]).get(post.pk)
    if superseded or previous_status in {PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.BLOCKED}:
        if post.status == PostStatus.IN_REVIEW:
            _round_open(post=post, actor=actor)
        else:
            post_transition(post=post, to=PostStatus.IN_REVIEW, actor=actor, reason="content changed: review restarts")
            _round_open(post=post, actor=actor)


@transaction.atomic
def post_chain_set(*, post: Post, chain: ReviewChain, actor: User) -> PostChain:
    """Give one post a chain of its own (Governance, before it is submitted)."""
    post = post_lock(post.pk)
    if CHANGE_CHAIN not in ApprovalPolicy(actor).actions(post):
        raise PermissionDenied(_("Only Governance may change a post's chain, before it is submitted."))
    _chain_active_check(chain=chain)
    previous = PostChain.objects.filter(post=post).values_list("chain__name", flat=True).first()
    setting, _created = PostChain.objects.update_or_create(post=post, defaults={"chain": chain})
    event_record(
        actor=actor, action="review.post_chain_set", obj=post, changes={"chain": chain.name, "previous": previous}
    )
    return setting


@transaction.atomic
def campaign_chain_set(*, campaign: Campaign, chain: ReviewChain, actor: User) -> CampaignChain:
    """Set the chain a campaign's posts go through by default."""
    if not (actor.has_perm("approvals.change_campaignchain") or actor.has_perm("posts.change_campaign", campaign)):
        raise PermissionDenied(_("You may not change this campaign's review chain."))
    _chain_active_check(chain=chain)
    previous = CampaignChain.objects.filter(campaign=campaign).values_list("chain__name", flat=True).first()
    setting, _created = CampaignChain.objects.update_or_create(campaign=campaign, defaults={"chain": chain})
    event_record(
        actor=actor,
        action="review.campaign_chain_set",
        obj=campaign,
        changes={"chain": chain.name, "previous": previous},
    )
    return setting


def _chain_active_check(*, chain: ReviewChain) -> None:
    # An inactive chain opens no rounds for crises or as the default; nobody picks it by hand either.
    if not ReviewChain.objects.filter(pk=chain.pk, active=True).exists():
        raise ValidationError(
            _("“%(chain)s” is not active: choose one of the active review chains.") % {"chain": chain.display_name},
            code="inactive_chain",
        )


# Chains ---------------------------------------------------------------------------------------

CHAIN_FIELDS = (
    "name",
    "description",
    "is_default",
    "is_expedited",
    "active",
    "approval_valid_days",
    "recertify_months",
)
# A position no chain reaches: a stage that moves parks here first, so two stages can swap places.
_PARKED_POSITION = 30_000


@dataclass(frozen=True)
class StageSpec:
    """One stage as `chain_save` writes it; ``stage`` is the stored stage it changes, None for a new one."""

    position: int
    name: str
    group: Group
    rule: str = ApprovalRule.ANY
    required_approvals: int = 1
    turnaround: dt.timedelta = dt.timedelta(hours=48)
    must_acknowledge_findings: bool = False
    checks_claims: bool = False
    after_publication: bool = False
    blocking_comments_resolved: bool = False
    stage: ReviewStage | None = None


STAGE_FIELDS = (
    "position",
    "name",
    "group",
    "rule",
    "required_approvals",
    "turnaround",
    "must_acknowledge_findings",
    "checks_claims",
    "after_publication",
    "blocking_comments_resolved",
)


def stages_summary(stages: Iterable[ReviewStage]) -> list[dict[str, Any]]:
    """Return ``stages`` in position order as plain values, as the audit trail records them."""
    return [
        {
            "position": stage.position,
            "name": stage.name,
            "group": stage.group.name,
            "rule": stage.rule,
            "required_approvals": stage.required_approvals,
            "turnaround_hours": stage.turnaround.total_seconds() / 3600,
            "must_acknowledge_findings": stage.must_acknowledge_findings,
            "checks_claims": stage.checks_claims,
            "after_publication": stage.after_publication,
            "blocking_comments_resolved": stage.blocking_comments_resolved,
        }
        for stage in sorted(stages, key=lambda stage: stage.position)
    ]


def _stages_after(
    *, chain: ReviewChain, stages: Sequence[StageSpec], remove: Iterable[ReviewStage]
) -> tuple[list[ReviewStage], list[ReviewStage]]:
    """Return (the chain's stages as they would be after the save, unsaved; the stored stages to remove)."""
    stored = {stage.pk: stage for stage in chain.stages.select_related("group")} if chain.pk else {}
    removed = [stored[stage.pk] for stage in remove if stage.pk in stored]
    result = {pk: stage for pk, stage in stored.items() if pk not in {stage.pk for stage in removed}}
    new: list[ReviewStage] = []
    for spec in stages:
        if spec.stage is not None and spec.stage.pk not in result:
            continue  # removed in the same save, or not this chain's
        stage = ReviewStage(chain=chain) if spec.stage is None else ReviewStage(pk=spec.stage.pk, chain=chain)
        for field in STAGE_FIELDS:
            setattr(stage, field, getattr(spec, field))
        if spec.stage is None:
            new.append(stage)
        else:
            result[spec.stage.pk] = stage
    return [*result.values(), *new], removed


def chain_problems(
    *, chain: ReviewChain, stages: Sequence[StageSpec] = (), remove: Iterable[ReviewStage] = ()
) -> list[str]:
    """Return why `chain_save` would refuse this chain with these stage changes, or [] if it would save it."""
    problems: list[str] = []
    after, removed = _stages_after(chain=chain, stages=stages, remove=remove)
    for stage in removed:
        if stage.runs.exists():
            problems.append(
                _("The stage “%(stage)s” has decided posts; it stays (deactivate the chain to stop using it).")
                % {"stage": stage.display_name}
            )
    positions = [stage.position for stage in after]
    if len(positions) != len(set(positions)):
        problems.append(_("Each stage needs a position of its own."))
    if after and all(stage.after_publication for stage in after):
        problems.append(_("At least one stage must review before publishing."))
    if not chain.is_expedited and any(stage.after_publication for stage in after):
        problems.append(_("Only an expedited chain may review after publishing."))
    for stage in after:
        try:
            stage.full_clean(exclude=["chain"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            problems.extend(f"{stage.display_name}: {message}" for message in error.messages)
    return problems


def _chain_values(chain: ReviewChain) -> dict[str, Any]:
    return {field: getattr(chain, field) for field in CHAIN_FIELDS}


@transaction.atomic
def chain_save(
    *,
    chain: ReviewChain,
    actor: User,
    stages: Sequence[StageSpec] = (),
    remove: Iterable[ReviewStage] = (),
) -> ReviewChain:
    """Save ``chain`` as given, create or change ``stages`` and delete ``remove``; returns the saved chain.

    Validates the whole chain first (`chain_problems`, then the model's constraints), writes the
    stages so that they may swap positions, and records one audit event: the whole chain when it
    is new, else each field and the stage list before and after. Stages not named stay as they are.
    """
    creating = chain.pk is None
    if not actor.has_perm("approvals.add_reviewchain" if creating else "approvals.change_reviewchain"):
        raise PermissionDenied(_("You may not change review chains."))
    remove = list(remove)
    if creating:
        before_values: dict[str, Any] = {}
        before_stages: list[dict[str, Any]] = []
    else:
        stored = row_lock(ReviewChain, chain.pk)
        before_values = _chain_values(stored)
        before_stages = stages_summary(stored.stages.select_related("group"))
    problems = chain_problems(chain=chain, stages=stages, remove=remove)
    if problems:
        raise ValidationError(problems)
    chain.full_clean()
    chain.save()
    after, removed = _stages_after(chain=chain, stages=stages, remove=remove)
    ReviewStage.objects.filter(pk__in=[stage.pk for stage in removed]).delete()
    stored_positions = dict(chain.stages.values_list("pk", "position"))
    moving = [stage for stage in after if stage.pk and stored_positions.get(stage.pk) != stage.position]
    for index, stage in enumerate(moving):
        ReviewStage.objects.filter(pk=stage.pk).update(position=_PARKED_POSITION + index)
    for stage in sorted(after, key=lambda stage: stage.position):
        stage.save()
    after_stages = stages_summary(chain.stages.select_related("group"))
    if creating:
        changes: dict[str, Any] = {**_chain_values(chain), "stages": after_stages}
    else:
        after_values = _chain_values(chain)
        changes = {
            field: [before_values[field], after_values[field]]
            for field in CHAIN_FIELDS
            if before_values[field] != after_values[field]
        }
        if before_stages != after_stages:
            changes["stages"] = [before_stages, after_stages]
    if "recertify_months" in changes and not creating:
        _recertify_due_refresh_chain(chain=chain)
    if creating or changes:
        event_record(
            actor=actor,
            action="review.chain_created" if creating else "review.chain_changed",
            obj=chain,
            changes=changes,
        )
    return chain


def chain_delete_problems(*, chain: ReviewChain) -> list[str]:
    """Return why `chain_delete` would refuse to delete ``chain``, or [] if it may go."""
    problems: list[str] = []
    in_review = _names(
        Post.objects.filter(
            pk__in=ReviewRound.objects.filter(chain=chain, status=RoundStatus.IN_PROGRESS).values("post_id")
        ).order_by("pk")
    )
    if in_review:
        problems.append(
            _("“%(chain)s” is reviewing posts now (%(posts)s): deactivate it instead.")
            % {"chain": chain.display_name, "posts": in_review}
        )
    elif ReviewRound.objects.filter(chain=chain).exists():
        problems.append(
            _("“%(chain)s” has reviewed posts; their decisions point at it: deactivate it instead.")
            % {"chain": chain.display_name}
        )
    campaigns = _names(Campaign.objects.filter(review_settings__chain=chain).order_by("pk"))
    if campaigns:
        problems.append(
            _("Campaigns use “%(chain)s” (%(campaigns)s): choose another chain for them first.")
            % {"chain": chain.display_name, "campaigns": campaigns}
        )
    posts = _names(Post.objects.filter(review_settings__chain=chain).order_by("pk"))
    if posts:
        problems.append(
            _("Posts use “%(chain)s” (%(posts)s): choose another chain for them first.")
            % {"chain": chain.display_name, "posts": posts}
        )
    return problems


def _names(rows: Any, limit: int = 5) -> str:
    """Return the first ``limit`` rows' names, joined ("" for none); "…" says there are more."""
    shown = [str(row) for row in rows[: limit + 1]]
    return ", ".join(shown[:limit]) + (", …" if len(shown) > limit else "")


@transaction.atomic
def chain_delete(*, chain: ReviewChain, actor: User) -> None:
    """Delete ``chain`` and its stages, recording what it was; refuse a chain in use or with history.

    Rounds, campaigns and posts point at chains (``on_delete=PROTECT``): the refusal says which,
    before the database would.
    """
    if not actor.has_perm("approvals.delete_reviewchain"):
        raise PermissionDenied(_("You may not delete review chains."))
    chain = row_lock(ReviewChain, chain.pk)
    problems = chain_delete_problems(chain=chain)
    if problems:
        raise ValidationError(problems)
    event_record(
        actor=actor,
        action="review.chain_deleted",
        obj=chain,
        changes={**_chain_values(chain), "stages": stages_summary(chain.stages.select_related("group"))},
    )
    chain.delete()
