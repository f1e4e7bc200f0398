import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from posts.models import Campaign, Post, Revision


class ReviewChain(models.Model):
    """An ordered list of review stages: the template that each review round runs."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(
        _("default chain"), default=False, help_text=_("Used for campaigns that name no chain.")
    )
    is_expedited = models.BooleanField(
        _("expedited"), default=False, help_text=_("For crisis posts: short turnaround, some review after publishing.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("review chain")
        verbose_name_plural = _("review chains")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="chain_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalRule(models.TextChoices):
    ANY = "any", _("Any one member")
    COUNT = "count", _("A number of members")
    ALL_ASSIGNED = "all_assigned", _("All assigned reviewers")


class ReviewStage(models.Model):
    """One step of a chain, decided by members of one group."""

    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=100)
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="review_stages")
    rule = models.CharField(_("approval rule"), max_length=20, choices=ApprovalRule.choices, default=ApprovalRule.ANY)
    required_approvals = models.PositiveSmallIntegerField(
        _("approvals needed"), default=1, validators=[MinValueValidator(1)], help_text=_("For the rule “a number”.")
    )
    turnaround = models.DurationField(_("turnaround time"), default=dt.timedelta(hours=48))
    must_acknowledge_findings = models.BooleanField(
        _("must acknowledge findings"),
        default=False,
        help_text=_("Approving needs a tick for every finding (Legal)."),
    )
    after_publication = models.BooleanField(
        _("reviews after publishing"),
        default=False,
        help_text=_("Expedited chains only: this stage reviews within its turnaround after the post went out."),
    )

    class Meta:
        verbose_name = _("review stage")
        verbose_name_plural = _("review stages")
        ordering = ["chain", "position"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "position"], name="stage_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}: {self.position}. {self.name}"


class CampaignChain(models.Model):
    """The review chain a campaign's posts go through by default."""

    campaign = models.OneToOneField(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="review_settings"
    )
    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("campaign review chain")
        verbose_name_plural = _("campaign review chains")

    def __str__(self) -> str:
        return f"{self.campaign} → {self.chain}"


class PostChain(models.Model):
    """A chain Governance chose for one post instead of its campaign's."""

    post = models.OneToOneField(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="review_settings")
    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("post review chain")
        verbose_name_plural = _("post review chains")

    def __str__(self) -> str:
        return f"{self.post} → {self.chain}"


class RoundStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")
    CANCELLED = "cancelled", _("Cancelled")


class ReviewRound(models.Model):
    """One run of a chain over one frozen revision of a post."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="review_rounds")
    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="rounds")
    revision = models.ForeignKey(
        Revision, verbose_name=_("revision"), on_delete=models.PROTECT, related_name="review_rounds"
    )
    content_hash = models.CharField(_("content hash"), max_length=64)
    status = models.CharField(
        _("status"), max_length=20, choices=RoundStatus.choices, default=RoundStatus.IN_PROGRESS, db_index=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("review round")
        verbose_name_plural = _("review rounds")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post"], condition=Q(status="in_progress"), name="round_one_in_progress_per_post"
            ),
            models.CheckConstraint(condition=Q(status__in=RoundStatus.values), name="round_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.post} · {self.chain} · {self.get_status_display()}"


class StageStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    IN_PROGRESS = "in_progress", _("In progress")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")


class StageRun(models.Model):
    """The state of one stage within one round."""

    round = models.ForeignKey(ReviewRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="stage_runs")
    stage = models.ForeignKey(ReviewStage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(
        _("status"), max_length=20, choices=StageStatus.choices, default=StageStatus.WAITING, db_index=True
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    # Set once the overdue stage was escalated to its whole group (after the reminder and the deputies).
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("stage run")
        verbose_name_plural = _("stage runs")
        ordering = ["round", "stage__position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "stage"], name="stagerun_unique_stage"),
            models.CheckConstraint(condition=Q(status__in=StageStatus.values), name="stagerun_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.round.post} · {self.stage.name} · {self.get_status_display()}"


class Verdict(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REQUEST_CHANGES = "request_changes", _("Request changes")
    REJECT = "reject", _("Reject")


class DecisionQuerySet(models.QuerySet["Decision"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Decisions are immutable.")


class Decision(models.Model):
    """One reviewer's verdict on one stage of one round, bound to the content it saw."""

    stage_run = models.ForeignKey(StageRun, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="review_decisions"
    )
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64)
    acknowledged_findings = models.JSONField(_("acknowledged findings"), default=list, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["stage_run", "reviewer"], name="decision_one_per_reviewer"),
            models.CheckConstraint(
                condition=Q(verdict="approve") | ~Q(comment=""), name="decision_comment_unless_approve"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} · {self.get_verdict_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Decisions are immutable.")
        super().save(*args, **kwargs)
