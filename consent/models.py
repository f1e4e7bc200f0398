"""Subjects and their written consent to appear in the hospital's social media.

The consent record follows the core elements of a HIPAA authorisation (45 CFR 164.508(c)):
what may be shown, who discloses it to whom, for which purposes, until when, who signed with
which authority, and the statements the form must contain. GDPR Art. 7/9 adds that consent to
use health data is explicit and as easy to withdraw as to give; KUG §22 that images of a minor
need the guardian (and, from about eight, the child) and of a deceased person the relatives for
ten years after death. Revocation is stored, never deleted.
"""

import datetime as dt
import os
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.i18n import default_names_register, display_name
from core.inputs import date_in_range

EXPIRING_SOON = dt.timedelta(days=30)
# KUG §22: from about eight a child's own consent is needed beside the guardian's.
MINOR_OWN_CONSENT_AGE = 8
ADULT_AGE = 18
# The form reference printed on each consent form: what a person types to withdraw online, and the
# consent's FHIR identifier. Crockford's alphabet: no I, L, O or U to misread.
FORM_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FORM_REFERENCE_PREFIX = "RC-"


def form_reference_new() -> str:
    """Return a fresh random form reference such as ``RC-7K3M-Q9TD`` (40 random bits)."""
    chars = "".join(secrets.choice(FORM_REFERENCE_ALPHABET) for _ in range(8))
    return f"{FORM_REFERENCE_PREFIX}{chars[:4]}-{chars[4:]}"


def consent_day(when: dt.datetime) -> dt.date:
    """Return the calendar day of ``when`` in the hospital's zone: consent dates are hospital days."""
    return when.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


# The recipients every record starts with: stored in English, shown in the reader's language
# (core.i18n.display_name) while a record keeps it; typed recipients are shown as typed.
DEFAULT_RECIPIENTS = gettext_noop("The public, through the listed social media accounts")
default_names_register([DEFAULT_RECIPIENTS])


class PrivateStorage(FileSystemStorage):
    """Signed forms live outside MEDIA_ROOT and have no public URL."""

    # Read the setting on every use (not cached), so a changed PRIVATE_MEDIA_ROOT always applies.
    @property
    def base_location(self) -> str | os.PathLike[str]:
        location: str | os.PathLike[str] = settings.PRIVATE_MEDIA_ROOT
        return location

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Consent documents have no URL; use the permission-checked download view.")


def private_storage() -> PrivateStorage:
    return PrivateStorage()


# The values match posts.models.Platform and posts.models.Purpose (consent sits below posts
# and cannot import them; tests/consent/test_gate.py keeps them equal).
class ConsentPlatform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X"
    YOUTUBE = "youtube", "YouTube"
    TIKTOK = "tiktok", "TikTok"
    WEBHOOK = "webhook", _("Webhook")
    OUTBOX = "outbox", _("Outbox (folder)")


class ConsentPurpose(models.TextChoices):
    EDUCATION = "education", _("Education")
    MARKETING = "marketing", _("Marketing")
    FUNDRAISING = "fundraising", _("Fundraising")
    RECRUITING = "recruiting", _("Recruiting")
    CRISIS = "crisis", _("Crisis")


class MediaKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    NAME = "name", _("Name")
    QUOTE = "quote", _("Quote")
    CONDITION = "condition", _("Condition or diagnosis")
    STORY = "story", _("Story")


class SignerRole(models.TextChoices):
    SUBJECT = "subject", _("The person themselves")
    GUARDIAN = "guardian", _("Parent or legal guardian")
    REPRESENTATIVE = "representative", _("Personal representative")
    RELATIVE = "relative", _("Relative of a deceased person")


class ReceivedVia(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Telephone (confirmed in writing)")
    PORTAL = "portal", _("Patient portal")
    ONLINE = "online", _("Online withdrawal form")


class CopyGivenHow(models.TextChoices):
    """How the signer received their copy of the signed form (45 CFR 164.508(c)(4))."""

    HANDED_OVER = "handed_over", _("Handed over in person")
    POST = "post", _("By post")
    EMAIL = "email", _("By e-mail")
    PORTAL = "portal", _("Through the patient portal")


# What a record stored before the description was required says instead (migration consent_law_2026).
DESCRIPTION_NOT_RECORDED = "(not recorded before 2026-12: see the signed form)"


class ConsentState(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    ACTIVE = "active", _("Active")
    EXPIRING_SOON = "expiring_soon", _("Expiring soon")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class Subject(models.Model):
    """A person who appears in content. Holds the minimum needed to match them to consent."""

    display_name = models.CharField(_("name or pseudonym"), max_length=200)
    reference = models.CharField(
        _("internal reference"),
        max_length=100,
        unique=True,
        help_text=_("The hospital's reference for this person, e.g. a case number. Not shown publicly."),
    )
    date_of_birth = models.DateField(
        _("date of birth"),
        null=True,
        blank=True,
        validators=[date_in_range],
        help_text=_("Only for minors: decides whose signature is needed."),
    )
    deceased_on = models.DateField(_("date of death"), null=True, blank=True, validators=[date_in_range])
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="subjects_created",
        null=True,
    )
    # Set by consent.services.subject_erase: the name, dates and signers are blanked, the key gone.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["display_name", "pk"]
        permissions = [
            ("erase_subject", _("Can erase a person's personal data")),
            ("export_subject", _("Can export everything stored about a person")),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.reference})"

    def age_on(self, day: dt.date) -> int | None:
        """Return the subject's age in whole years on ``day``, or None without a birth date."""
        born = self.date_of_birth
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class ConsentRecordQuerySet(models.QuerySet["ConsentRecord"]):
    def active_at(self, when: dt.datetime) -> "ConsentRecordQuerySet":
        day = consent_day(when)
        return self.filter(verified_at__isnull=False, revoked_at__isnull=True, signed_on__lte=day).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=day)
        )

    def with_state(self, state: str, *, now: dt.datetime | None = None) -> "ConsentRecordQuerySet":
        """Filter by the derived state of :meth:`ConsentRecord.state_at`."""
        now = now or timezone.now()
        today = consent_day(now)
        if state == ConsentState.REVOKED:
            return self.filter(revoked_at__isnull=False)
        live = self.filter(revoked_at__isnull=True)
        if state == ConsentState.PENDING:
            return live.filter(verified_at__isnull=True)
        verified = live.filter(verified_at__isnull=False)
        if state == ConsentState.EXPIRED:
            return verified.filter(expires_on__lt=today)
        if state == ConsentState.EXPIRING_SOON:
            return verified.filter(expires_on__gte=today, expires_on__lte=today + EXPIRING_SOON)
        if state == ConsentState.ACTIVE:
            return verified.filter(Q(expires_on__isnull=True) | Q(expires_on__gt=today + EXPIRING_SOON))
        raise ValueError(f"unknown consent state {state!r}")


class ConsentRecord(models.Model):
    """One signed authorisation for one subject. Its scope never changes after verification."""

    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="consent_records"
    )
    form_reference = models.CharField(
        _("form reference"),
        max_length=20,
        unique=True,
        default=form_reference_new,
        editable=False,
        help_text=_("Printed on the consent form; the person gives it to withdraw online."),
    )
    # 164.508(c)(1)(i): a specific and meaningful description of the information.
    media_kinds = models.JSONField(_("may show"), default=list, help_text=_("What of the person may be shown."))
    description = models.TextField(_("description of what may be shown"))
    # 164.508(c)(1)(ii)-(iii): who discloses, to whom.
    disclosing_organisation = models.CharField(_("disclosed by"), max_length=200)
    recipients = models.CharField(_("recipients"), max_length=300, default=DEFAULT_RECIPIENTS)
    all_platforms = models.BooleanField(_("all platforms"), default=False)
    platforms = models.JSONField(_("platforms"), default=list, blank=True)
    # 164.508(c)(1)(iv): purposes.
    purposes = models.JSONField(_("purposes"), default=list)
    # 164.508(c)(1)(v): an expiration date or event.
    expires_on = models.DateField(_("expires on"), null=True, blank=True, validators=[date_in_range])
    expiry_event = models.CharField(_("expiry event"), max_length=300, blank=True)
    # 164.508(c)(1)(vi): signature and date; a representative's authority.
    signed_on = models.DateField(_("signed on"), validators=[date_in_range])
    # 164.508(c)(2): the statements the form must contain.
    states_right_to_revoke = models.BooleanField(_("form states the right to revoke in writing and how"))
    states_no_conditioning = models.BooleanField(_("form states that treatment does not depend on signing"))
    states_redisclosure = models.BooleanField(_("form states that published information may be redisclosed"))
    is_remunerated = models.BooleanField(_("the hospital is paid for this use"), default=False)
    states_remuneration = models.BooleanField(_("form states the remuneration"), default=False)
    document = models.FileField(_("signed form"), storage=private_storage, upload_to="consent/%Y/%m/")
    document_name = models.CharField(_("file name"), max_length=200)
    document_type = models.CharField(_("file type"), max_length=50)
    document_checksum = models.CharField(_("SHA-256"), max_length=64)
    notes = models.TextField(_("notes"), blank=True)
    # 164.508(c)(4): the signer must be given a copy of the signed authorisation.
    copy_given_on = models.DateField(
        _("copy given to the signer on"), null=True, blank=True, validators=[date_in_range]
    )
    copy_given_how = models.CharField(_("copy given how"), max_length=20, choices=CopyGivenHow.choices, blank=True)

    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, validators=[date_in_range])
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, validators=[date_in_range])
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revocation recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    revocation_received_via = models.CharField(
        _("revocation received via"), max_length=20, choices=ReceivedVia.choices, blank=True
    )
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)
    # GDPR Art. 7(3): the person withdraws online with the form reference and their date of birth.
    # The birth date is kept only as this keyed hash (consent.withdrawal.withdrawal_check_of), never in clear.
    withdrawal_check = models.CharField(_("withdrawal check"), max_length=64, blank=True, editable=False, default="")
    # Set once the expiry cascade and the 30-day reminder have run (at most once each).
    expiry_processed_at = models.DateTimeField(_("expiry processed at"), null=True, blank=True, editable=False)
    expiry_reminded_at = models.DateTimeField(_("expiry reminder sent at"), null=True, blank=True, editable=False)
    # Set by the daily re-consent job for a consent signed while the person was a minor: their 18th
    # birthday, from which it no longer covers new posts, and when officers were told (at most once).
    reconsent_due_on = models.DateField(_("re-consent needed from"), null=True, blank=True, editable=False)
    reconsent_noticed_at = models.DateTimeField(_("re-consent notice sent at"), null=True, blank=True, editable=False)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-signed_on", "-pk"]
        permissions = [
            ("verify_consentrecord", _("Can verify consent records")),
            ("revoke_consentrecord", _("Can revoke consent records")),
            ("view_consent_document", _("Can read signed consent forms")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="consent_has_expiry",
                violation_error_message=_("Give an expiry date or an expiry event."),
            ),
            models.CheckConstraint(
                condition=Q(states_right_to_revoke=True, states_no_conditioning=True, states_redisclosure=True),
                name="consent_required_statements",
                violation_error_message=_("The signed form must contain every required statement."),
            ),
            models.CheckConstraint(
                condition=Q(is_remunerated=False) | Q(states_remuneration=True),
                name="consent_states_remuneration",
                violation_error_message=_("A paid use must be stated on the form."),
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_received_via=""),
                name="consent_revocation_how",
                violation_error_message=_("Say how the revocation was received."),
            ),
            models.CheckConstraint(
                condition=~Q(description=""),
                name="consent_has_description",
                violation_error_message=_("Describe what may be shown, as specifically as the signed form."),
            ),
            models.CheckConstraint(
                condition=Q(copy_given_on__isnull=True, copy_given_how="")
                | Q(copy_given_on__isnull=False, copy_given_how__in=CopyGivenHow.values),
                name="consent_copy_given_how",
                violation_error_message=_("Give both the day and the way the signer received their copy."),
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=models.F("recorded_by")),
                name="consent_four_eyes",
                violation_error_message=_("The person who recorded a consent may not verify it."),
            ),
        ]
        indexes = [models.Index(fields=["expires_on"], name="consent_expires_idx")]

    def __str__(self) -> str:
        return _("Consent of %(subject)s signed %(date)s") % {
            "subject": self.subject.display_name,
            "date": self.signed_on,
        }

    @property
    def recipients_display(self) -> str:
        """Return the recipients in the active language if they are the default wording, else as typed."""
        return display_name(self.recipients)

    def state_at(self, when: dt.datetime | None = None) -> str:
        """Return the record's state (ConsentState) at ``when`` (default now)."""
        when = when or timezone.now()
        if self.revoked_at is not None:
            return ConsentState.REVOKED
        if self.verified_at is None:
            return ConsentState.PENDING
        day = consent_day(when)
        if self.expires_on is not None and self.expires_on < day:
            return ConsentState.EXPIRED
        if self.expires_on is not None and self.expires_on <= day + EXPIRING_SOON:
            return ConsentState.EXPIRING_SOON
        return ConsentState.ACTIVE

    @property
    def state(self) -> str:
        return self.state_at()

    def get_state_display(self) -> str:
        return str(ConsentState(self.state).label)


class ConsentSigner(models.Model):
    """One signature on a consent form: the subject, a guardian, a representative or a relative."""

    record = models.ForeignKey(
        ConsentRecord, verbose_name=_("consent record"), on_delete=models.CASCADE, related_name="signers"
    )
    role = models.CharField(_("signed as"), max_length=20, choices=SignerRole.choices)
    name = models.CharField(_("name"), max_length=200)
    authority = models.CharField(
        _("authority or relationship"),
        max_length=200,
        blank=True,
        help_text=_("For anyone but the person themselves: why they may sign (e.g. mother, court-appointed guardian)."),
    )

    class Meta:
        verbose_name = _("signer")
        verbose_name_plural = _("signers")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role="subject") | ~Q(authority=""),
                name="consent_signer_authority",
                violation_error_message=_("A representative must state their authority or relationship."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"
