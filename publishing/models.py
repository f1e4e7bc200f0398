"""Publications (one post on one account), their attempts, and takedowns.

The tables keep their names from when these models lived in posts (migration 0001).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from posts.models import Account, Post


class DeletionStatus(models.TextChoices):
    DELETED = "deleted", _("Deleted on the platform")
    NOT_ALLOWED = "not_allowed", _("The platform does not allow deletion")
    NO_RECORD = "no_record", _("Nothing known to delete")
    FAILED = "failed", _("Deletion failed")


class TakedownCause(models.TextChoices):
    CONSENT_ENDED = "consent_ended", _("Consent ended")
    REVIEW_REJECTED = "review_rejected", _("Rejected by review after publication")
    RECERTIFICATION_WITHDRAWN = "recertification_withdrawn", _("Withdrawn at re-certification")


# Causes a reviewer gives (with a comment), not a consent: one open item per target among them.
REVIEW_CAUSES = ("review_rejected", "recertification_withdrawn")


class TakedownItem(models.Model):
    """A publication that must come down: its consent ended, or a review stage rejected it after publication."""

    # Its audit events are filed under the label it had in posts (audit.models.object_type_of).
    audit_object_type = "posts.takedownitem"

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="takedowns")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    cause = models.CharField(_("cause"), max_length=30, choices=TakedownCause.choices)
    # Set exactly when the cause is an ended consent (the constraint ``takedown_consent_for_its_cause``).
    consent = models.ForeignKey(
        "consent.ConsentRecord",
        verbose_name=_("consent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="takedowns",
    )
    url = models.URLField(_("published at"), blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    comment = models.TextField(_("reviewer's comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("taken down at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The last "Delete on platform": when, by whom, what came of it, and the platform's answer as proof.
    deletion_status = models.CharField(
        _("deletion on the platform"), max_length=20, choices=DeletionStatus.choices, blank=True
    )
    deletion_at = models.DateTimeField(_("deletion tried at"), null=True, blank=True)
    deletion_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deletion tried by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deletion_response = models.TextField(_("platform's answer"), blank=True)
    deletion_note = models.TextField(_("deletion note"), blank=True)

    class Meta:
        db_table = "posts_takedownitem"
        verbose_name = _("takedown")
        verbose_name_plural = _("takedowns")
        ordering = ["confirmed_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["post", "account", "consent"], name="takedown_unique_target"),
            # One open review takedown per target: a post rejected again after going out again gets a new one.
            models.UniqueConstraint(
                fields=["post", "account"],
                condition=Q(cause__in=REVIEW_CAUSES, confirmed_at__isnull=True),
                name="takedown_unique_open_review_target",
            ),
            models.CheckConstraint(
                condition=Q(cause="consent_ended", consent__isnull=False)
                | Q(cause__in=REVIEW_CAUSES, consent__isnull=True),
                name="takedown_consent_for_its_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} @ {self.account}"


class PublicationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CLAIMED = "claimed", _("Claimed")
    SENT = "sent", _("Sent")
    CONFIRMED = "confirmed", _("Confirmed")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    BLOCKED = "blocked", _("Blocked")
    OVERDUE = "overdue", _("Overdue")


def publication_key_default() -> str:
    return uuid.uuid4().hex


class Publication(models.Model):
    """One post on one account: where its sending stands, and what went out."""

    # Its audit events are filed under the label it had in posts (audit.models.object_type_of).
    audit_object_type = "posts.publication"

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="publications")
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="publications"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PublicationStatus.choices, default=PublicationStatus.PENDING
    )
    due_at = models.DateTimeField(_("due"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    attempt_limit = models.PositiveIntegerField(
        _("attempt limit"), default=6, help_text=_("Calls allowed before publishing gives up.")
    )
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    lease_token = models.CharField(_("lease token"), max_length=32, blank=True)
    key = models.CharField(
        _("idempotency key"),
        max_length=32,
        unique=True,
        default=publication_key_default,
        editable=False,
        help_text=_("Sent with every call and used to look the post up when an outcome is unknown."),
    )
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    external_id = models.CharField(_("external id"), max_length=500, blank=True)
    url = models.CharField(_("link to the live post"), max_length=2000, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "posts_publication"
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["post", "account"], name="publication_unique_target"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="publication_due_idx"),
            # The Publishing page's order: a page of the oldest stuck ones without sorting them all.
            models.Index(fields=["status", "due_at", "id"], name="publication_attention_idx"),
            # The Publishing page's "edited while going out": the last 30 days' confirmed ones, newest first.
            models.Index(
                fields=["-published_at", "id"], condition=Q(status="confirmed"), name="publication_confirmed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} @ {self.account}"


class AttemptOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    TRANSIENT = "transient", _("Temporary error")
    PERMANENT = "permanent", _("Permanent error")
    UNKNOWN = "unknown", _("Outcome unknown")
    BLOCKED = "blocked", _("Blocked by a gate")
    RECONCILED = "reconciled", _("Found on the platform")


class PublicationAttempt(models.Model):
    """One try to publish (or to find) a publication on its platform."""

    # Its audit events are filed under the label it had in posts (audit.models.object_type_of).
    audit_object_type = "posts.publicationattempt"

    publication = models.ForeignKey(
        Publication, verbose_name=_("publication"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=AttemptOutcome.choices)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)

    class Meta:
        db_table = "posts_publicationattempt"
        verbose_name = _("publication attempt")
        verbose_name_plural = _("publication attempts")
        ordering = ["publication", "started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.publication} {self.outcome}"
