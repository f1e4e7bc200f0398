"""E-mails of the review workflow: each event is mailed at most once (`core.mail.mail_once`)."""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, RoundStatus, StageRun, StageStatus
from approvals.policy import ApprovalPolicy
from core.mail import mail_once
from core.site import site_url
from people.models import User
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
        context={"stage_run": stage_run, "post": stage_run.round.post, **_links(stage_run.round.post_id)},
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


def reminders_send() -> int:
    """Remind the members of every stage whose deadline passed; once per stage. Returns mails sent."""
    sent = 0
    overdue = StageRun.objects.select_related("round__post__campaign", "stage").filter(
        Q(round__status=RoundStatus.IN_PROGRESS) | Q(round__status=RoundStatus.APPROVED, stage__after_publication=True),
        status=StageStatus.IN_PROGRESS,
        deadline__lt=timezone.now(),
    )
    for stage_run in overdue:
        sent += mail_once(
            key=f"reminder:{stage_run.pk}",
            recipients=deciders(stage_run),
            template="approvals/email/reminder",
            context={"stage_run": stage_run, "post": stage_run.round.post, **_links(stage_run.round.post_id)},
            url=review_path(stage_run.round.post_id),
        )
    return sent
