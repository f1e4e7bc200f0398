"""The compliance archive's jobs, the retention rules, legal holds and the purge reports.

Audit events are never purged: the trail is append-only and hash-chained (audit.models), so no
record kind below names them, and a purge only ever adds events to it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consent.models import Subject
from posts.models import Campaign, Post


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    # The file went when its retention ended (RecordKind.ARCHIVE_FILE); the row stays as the record.
    PURGED = "purged", _("file purged")


# The moves of an archive job, as data: archive.job_move is the one function that makes them.
ARCHIVE_MOVES: dict[str, frozenset[str]] = {
    ArchiveStatus.QUEUED: frozenset({ArchiveStatus.RUNNING, ArchiveStatus.FAILED}),
    ArchiveStatus.RUNNING: frozenset({ArchiveStatus.DONE, ArchiveStatus.FAILED}),
    ArchiveStatus.DONE: frozenset({ArchiveStatus.PURGED}),
    ArchiveStatus.FAILED: frozenset(),
    ArchiveStatus.PURGED: frozenset(),
}


class ArchiveJob(models.Model):
    """One export of all evidence for a campaign or a period, written as a ZIP in private storage."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="archive_jobs",
        null=True,
        blank=True,
    )
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.QUEUED)
    done = models.PositiveIntegerField(_("posts written"), default=0)
    total = models.PositiveIntegerField(_("posts to write"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    purged_at = models.DateTimeField(_("file purged"), null=True, blank=True)

    class Meta:
        verbose_name = _("archive")
        verbose_name_plural = _("archives")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ArchiveStatus.values), name="evidence_archivejob_status_valid"
            ),
            # A campaign, or a period with both ends in order: never both, never neither.
            models.CheckConstraint(
                condition=(Q(campaign__isnull=False) & Q(date_from__isnull=True) & Q(date_to__isnull=True))
                | (
                    Q(campaign__isnull=True)
                    & Q(date_from__isnull=False)
                    & Q(date_to__isnull=False)
                    & Q(date_from__lte=models.F("date_to"))
                ),
                name="evidence_archivejob_one_scope",
            ),
        ]

    def __str__(self) -> str:
        label = _("Archive")  # outside the f-string: xgettext does not read inside one
        return f"{label} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status != ArchiveStatus.QUEUED and self.status != ArchiveStatus.RUNNING

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else (100 if self.finished else 0)


class RecordKind(models.TextChoices):
    # The signed form's file: HIPAA 164.530(j)(2) keeps an authorization six years from its last
    # effective date; the default's ten years also cover German limitation periods (BGB 199(2)
    # reaches thirty for injury to life or body; a hospital may lengthen the rule).
    CONSENT_DOCUMENT = "consent_document", _("signed consent forms (after the consent ended)")
    # The uploaded photos and videos (and their thumbnails) of posts that reached an end.
    POST_MEDIA = "post_media", _("media of withdrawn, rejected or published posts")
    # A finished compliance archive's ZIP: a copy, rebuilt on demand while the records exist.
    ARCHIVE_FILE = "archive_file", _("compliance archive files")


class RetentionUnit(models.TextChoices):
    DAYS = "days", _("days")
    YEARS = "years", _("years")


class RetentionRule(models.Model):
    """How long one kind of record is kept after its end; Governance edits it in the admin."""

    kind = models.CharField(_("kind of record"), max_length=30, choices=RecordKind.choices, unique=True)
    keep_for = models.PositiveIntegerField(_("keep for"))
    unit = models.CharField(_("unit"), max_length=5, choices=RetentionUnit.choices, default=RetentionUnit.YEARS)
    active = models.BooleanField(
        _("purge when due"), default=True, help_text=_("Off: nothing of this kind is purged, whatever its age.")
    )
    basis = models.TextField(_("why this long"), blank=True, help_text=_("The law or policy the period follows."))
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RecordKind.values), name="evidence_retentionrule_kind_valid"),
            models.CheckConstraint(
                condition=Q(unit__in=RetentionUnit.values), name="evidence_retentionrule_unit_valid"
            ),
            # At least a day: a zero rule would purge a record on the day it ended.
            models.CheckConstraint(condition=Q(keep_for__gte=1), name="evidence_retentionrule_keep_for_positive"),
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class LegalHold(models.Model):
    """A hold on a campaign, a post or a consent subject: while placed, nothing under it is purged."""

    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="legal_holds",
        null=True,
        blank=True,
    )
    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="legal_holds", null=True, blank=True
    )
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="legal_holds", null=True, blank=True
    )
    reason = models.TextField(_("reason"), max_length=2000)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(campaign__isnull=False) & Q(post__isnull=True) & Q(subject__isnull=True))
                | (Q(campaign__isnull=True) & Q(post__isnull=False) & Q(subject__isnull=True))
                | (Q(campaign__isnull=True) & Q(post__isnull=True) & Q(subject__isnull=False)),
                name="evidence_legalhold_one_target",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, released_by__isnull=True)
                | Q(released_at__isnull=False, released_by__isnull=False),
                name="evidence_legalhold_release_complete",
            ),
        ]

    def __str__(self) -> str:
        label = _("Legal hold")  # outside the f-string: xgettext does not read inside one
        return f"{label} #{self.pk}"

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def target_label(self) -> str:
        """Name what is held without personal data: the subject by its reference only."""
        # Each word looked up outside an f-string: xgettext does not read inside one.
        number: int | None
        if self.campaign_id is not None:
            label, number = _("campaign"), self.campaign_id
        elif self.post_id is not None:
            label, number = _("post"), self.post_id
        else:
            label, number = _("subject"), self.subject_id
        return f"{label} #{number}"


class PurgeReport(models.Model):
    """What one purge run removed and what it kept because of a hold: ids, kinds, reasons; no personal data."""

    ran_at = models.DateTimeField(_("ran at"))
    ran_by = models.CharField(_("run by"), max_length=200)
    dry_run = models.BooleanField(_("dry run"), default=False)
    counts = models.JSONField(_("purged per kind"), default=dict)
    held_counts = models.JSONField(_("kept under a hold per kind"), default=dict)
    # [{"kind", "id", "reason", "ended"}], and [{"kind", "id", "holds": [hold ids]}].
    purged = models.JSONField(_("purged"), default=list)
    held = models.JSONField(_("kept under a hold"), default=list)

    class Meta:
        verbose_name = _("purge report")
        verbose_name_plural = _("purge reports")
        ordering = ["-ran_at", "-pk"]

    def __str__(self) -> str:
        label = _("Purge report")  # outside the f-string: xgettext does not read inside one
        return f"{label} #{self.pk}"

    @property
    def purged_total(self) -> int:
        """Return how many files the run purged (from ``counts``: a list need not load ``purged``)."""
        return sum(self.counts.values())

    @property
    def held_total(self) -> int:
        """Return how many files a hold kept (from ``held_counts``)."""
        return sum(self.held_counts.values())


class PurgedRecord(models.Model):
    """The mark a purged file leaves: which record's file went, when, and the SHA-256 it had."""

    kind = models.CharField(_("kind of record"), max_length=30, choices=RecordKind.choices)
    object_id = models.PositiveBigIntegerField(_("record id"))
    sha256 = models.CharField(_("SHA-256 of what was deleted"), max_length=64, blank=True)
    report = models.ForeignKey(PurgeReport, verbose_name=_("report"), on_delete=models.PROTECT, related_name="records")
    purged_at = models.DateTimeField(_("purged"))

    class Meta:
        verbose_name = _("purged record")
        verbose_name_plural = _("purged records")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="evidence_purgedrecord_once"),
            models.CheckConstraint(condition=Q(kind__in=RecordKind.values), name="evidence_purgedrecord_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id}"
