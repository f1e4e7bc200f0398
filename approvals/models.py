import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals import names  # noqa: F401  (registers the seeded chains' and stages' names for display)
from core.i18n import display_name
from posts.models import Account, Campaign, Claim, Post, Revision
from posts.patient_data import IMAGE_FACE


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
    approval_valid_days = models.PositiveSmallIntegerField(
        _("approval valid for (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How long an approval stays valid before publishing; empty: no limit."),
    )
    recertify_months = models.PositiveSmallIntegerField(
        _("re-certify evergreen posts every (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How often published evergreen posts (education) are re-certified; empty: never."),
    )

    class Meta:
        verbose_name = _("review chain")
        verbose_name_plural = _("review chains: stages and turnarounds")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="chain_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """Return the name in the active language if it is a seeded one, else as typed."""
        return display_name(self.name)

    @property
    def display_description(self) -> str:
        """Return the description in the active language if it is a seeded one, else as typed."""
        return display_name(self.description)


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
    checks_claims = models.BooleanField(
        _("checks claims"),
        default=False,
        help_text=_("Approving needs every claim's source checked by this stage's reviewer (Medical)."),
    )
    after_publication = models.BooleanField(
        _("reviews after publishing"),
        default=False,
        help_text=_("Expedited chains only: this stage reviews within its turnaround after the post went out."),
    )
    blocking_comments_resolved = models.BooleanField(
        _("blocking comments must be resolved"),
        default=False,
        help_text=_("Approving needs every blocking comment this stage's reviewers raised on the post resolved."),
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

    @property
    def display_name(self) -> str:
        """Return the name in the active language if it is a seeded one, else as typed."""
        return display_name(self.name)


class CampaignChain(models.Model):
    """The review chain a campaign's posts go through by default."""

    campaign = models.OneToOneField(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="review_settings"
    )
    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("chain chosen for a campaign")
        verbose_name_plural = _("chain chosen per campaign")

    def __str__(self) -> str:
        return f"{self.campaign} → {self.chain}"


class PostChain(models.Model):
    """A chain Governance chose for one post instead of its campaign's."""

    post = models.OneToOneField(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="review_settings")
    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("chain override for one post")
        verbose_name_plural = _("chain overrides for single posts")

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
        indexes = [
            # The inbox walks the open stages in deadline order (approvals.selectors.DeadlineWalk).
            models.Index(
                fields=["deadline", "id"], condition=Q(status="in_progress"), name="stagerun_open_deadline_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.post} · {self.stage.name} · {self.get_status_display()}"


class Verdict(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REQUEST_CHANGES = "request_changes", _("Request changes")
    REJECT = "reject", _("Reject")


class Confirmation(models.TextChoices):
    """How the signer showed it was them when signing (from allauth's authentication records)."""

    PASSWORD = "password", _("password")
    TOTP = "totp", _("authenticator app code")
    SECURITY_KEY = "webauthn", _("security key or passkey")
    RECOVERY_CODE = "recovery_code", _("recovery code")
    CODE = "code", _("code sent by e-mail")
    SIGN_IN = "sign_in", _("recent sign-in")
    NOT_RECORDED = "", _("not recorded")


class DecisionQuerySet(models.QuerySet["Decision"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Decisions are immutable.")


def finding_named(key: str) -> str:
    """Return a finding's key (`approvals.services.findings_keyed`) as its reader calls it: "visible face 2"."""
    _scope, _sep, rest = key.partition(":")
    code, _sep, number = rest.partition(":")
    if code == IMAGE_FACE:
        words = _("visible face %(number)s")
    elif code.startswith("image_"):
        words = _("image finding %(number)s")
    elif code.startswith("patient_data_"):
        words = _("patient data in the text %(number)s")
    else:
        words = _("finding %(number)s")
    return str(words) % {"number": number or "1"}


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
    # {finding key: the reviewer's reason} for the acknowledged findings given one (a face: why it may be shown).
    acknowledgement_reasons = models.JSONField(_("reasons for acknowledging"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    # The signature's manifestation (21 CFR 11.50): who signed as they were named then, in which
    # zone they signed (the time itself is created_at, in UTC), in which role, and how they confirmed.
    signer_name = models.CharField(_("printed name"), max_length=300, blank=True)
    signer_time_zone = models.CharField(_("signer's time zone"), max_length=64, blank=True)
    signer_role = models.CharField(_("signed as"), max_length=150, blank=True)
    confirmation = models.CharField(
        _("confirmed by"), max_length=20, choices=Confirmation.choices, default=Confirmation.NOT_RECORDED, blank=True
    )

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

    def reasons_shown(self) -> list[tuple[str, str]]:
        """Return (which finding, the reviewer's reason) for each finding acknowledged with a reason."""
        return [
            (finding_named(key), str(reason)) for key, reason in sorted(self.acknowledgement_reasons.items()) if reason
        ]


class AnchorKind(models.TextChoices):
    BODY = "body", _("Text")
    MEDIA = "media", _("Image")
    TARGET = "target", _("Text for one account")


class ReviewComment(models.Model):
    """A thread's first comment, anchored to a passage of the text, an image or one account's own text.

    The anchor is kept as the reviewer saw it on ``revision`` (a quote with a little context either
    side and its offsets, after the W3C Web Annotation TextQuoteSelector); where the passage stands
    in later revisions is found on read (`approvals.comments.anchor_locate`), never stored.
    """

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="review_comments")
    revision = models.ForeignKey(
        Revision, verbose_name=_("written on revision"), on_delete=models.PROTECT, related_name="review_comments"
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("raised for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_comments",
        help_text=_("The review group its author raised it for; empty for an editor's comment."),
    )
    anchor_kind = models.CharField(_("anchored to"), max_length=10, choices=AnchorKind.choices)
    media_checksum = models.CharField(_("image checksum"), max_length=64, blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_comments",
    )
    quote = models.TextField(_("quoted passage"), blank=True)
    prefix = models.CharField(_("text before the passage"), max_length=64, blank=True)
    suffix = models.CharField(_("text after the passage"), max_length=64, blank=True)
    start = models.PositiveIntegerField(_("start offset"), default=0)
    end = models.PositiveIntegerField(_("end offset"), default=0)
    text = models.TextField(_("comment"))
    blocking = models.BooleanField(_("blocking"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="review_comments"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["post", "resolved_at"], name="reviewcomment_post_open_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(anchor_kind__in=AnchorKind.values), name="reviewcomment_kind_valid"),
            models.CheckConstraint(
                condition=(
                    Q(anchor_kind=AnchorKind.BODY, media_checksum="", account__isnull=True)
                    | Q(anchor_kind=AnchorKind.MEDIA, account__isnull=True) & ~Q(media_checksum="")
                    | Q(anchor_kind=AnchorKind.TARGET, media_checksum="", account__isnull=False)
                ),
                name="reviewcomment_anchor_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(anchor_kind=AnchorKind.MEDIA) | ~Q(quote=""), name="reviewcomment_text_anchor_quoted"
            ),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="reviewcomment_offsets_ordered"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True)
                | Q(resolved_at__isnull=False, resolved_by__isnull=False),
                name="reviewcomment_resolved_by_and_at",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="reviewcomment_text_not_empty"),
            # Who resolves a blocking comment depends on the group it was raised for.
            models.CheckConstraint(
                condition=Q(blocking=False) | Q(group__isnull=False), name="reviewcomment_blocking_has_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} · {self.quote[:40] or self.get_anchor_kind_display()}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class ReviewCommentReply(models.Model):
    """One answer in a comment's thread."""

    comment = models.ForeignKey(
        ReviewComment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="review_comment_replies",
    )
    text = models.TextField(_("reply"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reply to a review comment")
        verbose_name_plural = _("replies to review comments")
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="reviewcommentreply_text_not_empty")]

    def __str__(self) -> str:
        return f"{self.author} · {self.text[:40]}"


class ClaimCheckQuerySet(models.QuerySet["ClaimCheck"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Source checks are immutable.")


class ClaimCheck(models.Model):
    """A medical reviewer's "source checked" on one claim of one content hash (approvals.claims).

    It counts only while the post's content is the content it was made on: any new revision, even
    one that leaves this claim as it was, needs the source checked again.
    """

    claim = models.ForeignKey(
        Claim,
        verbose_name=_("claim"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="checks",
        help_text=_("Empty once the editor removed the claim; the digest still names what was checked."),
    )
    stage_run = models.ForeignKey(
        StageRun, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="claim_checks"
    )
    content_hash = models.CharField(_("content hash"), max_length=64, db_index=True)
    claim_hash = models.CharField(_("claim hash"), max_length=64)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("checked by"), on_delete=models.PROTECT, related_name="claim_checks"
    )
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)

    objects = ClaimCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("source check")
        verbose_name_plural = _("source checks")
        ordering = ["checked_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "content_hash"], name="claimcheck_one_per_content"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_hash[:12]} · {self.checked_by}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Source checks are immutable.")
        super().save(*args, **kwargs)


class RecertificationOutcome(models.TextChoices):
    KEEP = "keep", _("Keep")
    REVISE = "revise", _("Revise")
    WITHDRAW = "withdraw", _("Withdraw")


class RecertificationQuerySet(models.QuerySet["Recertification"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Re-certifications are immutable.")


class Recertification(models.Model):
    """One reviewer's answer to "is this published evergreen post still right?", signed with a reason."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="recertifications")
    chain = models.ForeignKey(ReviewChain, verbose_name=_("chain"), on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="recertifications"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=RecertificationOutcome.choices)
    reason = models.TextField(_("reason"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = RecertificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-certification")
        verbose_name_plural = _("re-certifications")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="recertification_reason_required"),
            models.CheckConstraint(
                condition=Q(outcome__in=RecertificationOutcome.values), name="recertification_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} · {self.get_outcome_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Re-certifications are immutable.")
        super().save(*args, **kwargs)
