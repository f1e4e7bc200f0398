"""E-mails of the review workflow: each event is mailed at most once (`core.mail.mail_once`)."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, RoundStatus, StageRun, StageStatus
from approvals.policy import ApprovalPolicy
from approvals.services import stage_overdue_step
from core.mail import mail_once
from core.site import site_url
from people.models import User
from people.selectors import deputies_of
from posts.notifications import author_and_communications


def review_path(post_id: int) -> str:
    """Return the path of a post's review page, at its decision form."""
    return reverse("approvals:review", args=[post_id]) + "#decision"


def _links(post_id: int) -> dict[str, str]:
    return {"review_url": site_url(review_path(post_id))}


def deciders(stage_run: StageRun) -> list[User]:
    """Return the people who may decide this stage now."""
    members = User.objects.filter(groups=stage_run.stage.group, is_active=True).order_by("pk")
    return [user for user in members if not ApprovalPolicy(user).decide_refusal(stage_run)]


def stage_reached(*, stage_run_id: int) -> int:
    """Tell a stage's members that a post is waiting for them; returns mails sent."""
    stage_run = StageRun.objects.select_related("round__post__campaign", "stage").get(pk=stage_run_id)
    if stage_run.status != StageStatus.IN_PROGRESS:
        return 0
    return mail_once(
        key=f"stage_reached:{stage_run.pk}",
        recipients=deciders(stage_run),
        template="approvals/email/stage_reached",
        context=_mail_context(stage_run),
        url=review_path(stage_run.round.post_id),
    )


def author_told(*, decision_id: int) -> int:
    """Tell the author that their post was approved, sent back or rejected."""
    decision = Decision.objects.select_related("stage_run__round__post__author", "reviewer").get(pk=decision_id)
    review_round = decision.stage_run.round
    if review_round.status == RoundStatus.IN_PROGRESS:
        return 0
    key, status = f"author:{review_round.pk}:{review_round.status}", review_round.get_status_display()
    return mail_once(
        key=key,
        recipients=[review_round.post.author],
        template="approvals/email/author_told",
        context={
            "decision": decision,
            "round": review_round,
            "post": review_round.post,
            "status": status,
            **_links(review_round.post_id),
        },
        url=review_path(review_round.post_id),
    )


def after_publication_told(*, decision_id: int, withdrawn: bool = False, takedowns: int = 0) -> int:
    """Tell the author and Communications that a stage after publication rejected a post or asked for changes.

    Once per stage (its outcome is final). The subject names the post by number only: titles
    may carry a patient's name. Returns mails sent.
    """
    decision = Decision.objects.select_related("stage_run__round__post", "stage_run__stage", "reviewer").get(
        pk=decision_id
    )
    stage_run, post = decision.stage_run, decision.stage_run.round.post
    return mail_once(
        key=f"after_publication:{stage_run.pk}",
        recipients=author_and_communications(post),
        template="approvals/email/after_publication",
        context={
            "decision": decision,
            "stage_run": stage_run,
            "post": post,
            "status": stage_run.get_status_display(),
            "rejected": stage_run.status == StageStatus.REJECTED,
            "withdrawn": withdrawn,
            "takedowns": takedowns,
            "path": site_url(reverse("posts:post_detail", args=[post.pk])),
            "takedowns_path": site_url(reverse("publishing:publishing") + "#takedowns"),
            **_links(post.pk),
        },
        url=review_path(post.pk),
    )


def _open_overdue(now: dt.datetime) -> QuerySet[StageRun]:
    return StageRun.objects.select_related("round__post__campaign", "round__post__author", "stage__group").filter(
        Q(round__status=RoundStatus.IN_PROGRESS) | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True),
        status=StageStatus.IN_PROGRESS,
        deadline__lt=now,
    )


def _mail_context(stage_run: StageRun) -> dict[str, Any]:
    return {
        "stage_run": stage_run,
        "post": stage_run.round.post,
        # The review page's decision form, absolute (mails are read outside Rounds).
        "path": site_url(review_path(stage_run.round.post_id)),
        **_links(stage_run.round.post_id),
    }


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind, then escalate, every stage whose deadline passed; each step once per stage and deadline.

    First step (the deadline passed): the stage's deciders are reminded; for each of them away on a
    deputy period, their deputy is told the stage was escalated to them (if the deputy may decide it
    by their own groups). Second step (``ROUNDS_REVIEW_ESCALATE_AFTER`` later, or at once when every
    decider is away): the whole group of the stage is told. Returns mails sent.
    """
    now = now or timezone.now()
    after: dt.timedelta = settings.ROUNDS_REVIEW_ESCALATE_AFTER
    sent = 0
    for stage_run in _open_overdue(now):
        stamp = stage_run.deadline.isoformat() if stage_run.deadline else ""
        people = deciders(stage_run)
        away = deputies_of(users=people, now=now)
        present = [user for user in people if user.pk not in away]
        if stage_run.reminded_at is None:
            deputies = _deputies_who_may_decide(stage_run, away=away, people=people)
            told = [user.username for user in present] + [deputy.username for deputy, _absent in deputies]
            if not stage_overdue_step(stage_run=stage_run, step="reminded_at", now=now, to=told):
                continue
            context = _mail_context(stage_run)
            sent += mail_once(
                key=f"reminder:{stage_run.pk}:{stamp}",
                recipients=present,
                template="approvals/email/reminder",
                context=context,
                url=review_path(stage_run.round.post_id),
            )
            for deputy, absent in deputies:
                sent += mail_once(
                    key=f"deputy:{stage_run.pk}:{stamp}:{deputy.pk}",
                    recipients=[deputy],
                    template="approvals/email/deputy_escalation",
                    context={**context, "absent": absent},
                    url=review_path(stage_run.round.post_id),
                )
        due = stage_run.reminded_at is not None and (now >= stage_run.reminded_at + after or not present)
        if stage_run.escalated_at is None and due:
            group = group_members(stage_run)
            if not stage_overdue_step(
                stage_run=stage_run, step="escalated_at", now=now, to=[user.username for user in group]
            ):
                continue
            sent += mail_once(
                key=f"escalation:{stage_run.pk}:{stamp}",
                recipients=group,
                template="approvals/email/group_escalation",
                context=_mail_context(stage_run),
                url=review_path(stage_run.round.post_id),
            )
    return sent


def _deputies_who_may_decide(
    stage_run: StageRun, *, away: dict[int, list[User]], people: list[User]
) -> list[tuple[User, User]]:
    """Return (deputy, absent reviewer) pairs whose deputy may decide ``stage_run`` by their own groups."""
    names = {user.pk: user for user in people}
    pairs: list[tuple[User, User]] = []
    seen: set[int] = set()
    for absent_pk, deputies in away.items():
        for deputy in deputies:
            if deputy.pk in seen or deputy.pk in away:
                continue
            if not ApprovalPolicy(deputy).decide_refusal(stage_run):
                pairs.append((deputy, names[absent_pk]))
                seen.add(deputy.pk)
    return pairs


# Who may not decide for independence's sake is not asked by the escalation either.
_BARRED = frozenset(
    {"author", "submitter", "wrote_revision", "declared_crisis", "already_decided", "decided_other_stage"}
)


def group_members(stage_run: StageRun) -> list[User]:
    """Return every active member of the stage's group not barred from deciding it (assigned or not)."""
    members = User.objects.filter(groups=stage_run.stage.group, is_active=True).order_by("pk")
    return [user for user in members if ApprovalPolicy(user).decide_refusal(stage_run) not in _BARRED]
