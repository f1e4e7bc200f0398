"""E-mails of the review workflow: each event is mailed at most once (a unique Notification row)."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from approvals.models import Decision, Notification, RoundStatus, StageRun, StageStatus
from approvals.policy import decide_refusal
from people.models import User


def _claim(key: str, recipients: list[str]) -> bool:
    # The unique key makes a second delivery of the same task a no-op.
    try:
        with transaction.atomic():
            Notification.objects.create(key=key, recipients=recipients)
    except IntegrityError:
        return False
    return True


def _send(*, key: str, users: Iterable[User], template: str, context: dict[str, object]) -> int:
    people = [user for user in users if user.email and user.is_active]
    if not people or not _claim(key, sorted(user.email for user in people)):
        return 0
    messages = []
    for user in people:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = render_to_string(f"approvals/email/{template}_subject.txt", {**context, "user": user}).strip()
            body = render_to_string(f"approvals/email/{template}.txt", {**context, "user": user})
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return get_connection().send_messages(messages) or 0


def deciders(stage_run: StageRun) -> list[User]:
    """Return the people who may decide this stage now."""
    members = User.objects.filter(groups=stage_run.stage.group, is_active=True).order_by("pk")
    return [user for user in members if not decide_refusal(user=user, stage_run=stage_run)]


def stage_reached(*, stage_run_id: int) -> int:
    """Tell a stage's members that a post is waiting for them; returns mails sent."""
    stage_run = StageRun.objects.select_related("round__post__campaign", "stage").get(pk=stage_run_id)
    if stage_run.status != StageStatus.IN_PROGRESS:
        return 0
    return _send(
        key=f"stage_reached:{stage_run.pk}",
        users=deciders(stage_run),
        template="stage_reached",
        context={"stage_run": stage_run, "post": stage_run.round.post},
    )


def author_told(*, decision_id: int) -> int:
    """Tell the author that their post was approved, sent back or rejected."""
    decision = Decision.objects.select_related("stage_run__round__post__author", "reviewer").get(pk=decision_id)
    review_round = decision.stage_run.round
    stage_run = decision.stage_run
    if stage_run.stage.after_publication:
        # The round approved long ago (and said so): this is the stage's own outcome, once per stage.
        key, status = f"author:{review_round.pk}:after:{stage_run.pk}", stage_run.get_status_display()
    elif review_round.status == RoundStatus.IN_PROGRESS:
        return 0
    else:
        key, status = f"author:{review_round.pk}:{review_round.status}", review_round.get_status_display()
    return _send(
        key=key,
        users=[review_round.post.author],
        template="author_told",
        context={"decision": decision, "round": review_round, "post": review_round.post, "status": status},
    )


def reminders_send() -> int:
    """Remind the members of every stage whose deadline passed; once per stage. Returns mails sent."""
    sent = 0
    overdue = StageRun.objects.select_related("round__post__campaign", "stage").filter(
        Q(round__status=RoundStatus.IN_PROGRESS) | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True),
        status=StageStatus.IN_PROGRESS,
        deadline__lt=timezone.now(),
    )
    for stage_run in overdue:
        sent += _send(
            key=f"reminder:{stage_run.pk}",
            users=deciders(stage_run),
            template="reminder",
            context={"stage_run": stage_run, "post": stage_run.round.post},
        )
    return sent
