"""Every write to subjects and consent records. Views, admin and tasks call these."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.erasure import KeyOwner, Personal, key_erase
from audit.services import event_record
from consent.documents import document_clean
from consent.erasure import subject_owner
from consent.export import subject_export_zip
from consent.fhir import consent_resource
from consent.fhir import subject_bundle as fhir_subject_bundle
from consent.fhir import subject_records as fhir_subject_records
from consent.law import minor_consent_ends_on, years_after
from consent.models import (
    ADULT_AGE,
    EXPIRING_SOON,
    ConsentRecord,
    ConsentSigner,
    CopyGivenHow,
    ReceivedVia,
    SignerRole,
    Subject,
    consent_day,
    private_storage,
)
from consent.policy import (
    CHANGE_SUBJECT,
    ERASE_SUBJECT,
    EXPORT_FHIR,
    EXPORT_SUBJECT,
    RECORD,
    REGISTER_SUBJECT,
    REVOKE,
    VERIFY,
    VIEW_DOCUMENT,
    ConsentPolicy,
)
from consent.signals import consent_lapsed, consent_revoked, subject_erasing
from consent.stale import record_version_check, subject_version_check
from consent.withdrawal_check import withdrawal_check_of
from core.locks import row_lock
from people.models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from people.models import User

SUBJECT_FIELDS = ("display_name", "reference", "date_of_birth", "deceased_on")
RECORD_FIELDS = (
    "media_kinds",
    "description",
    "disclosing_organisation",
    "recipients",
    "all_platforms",
    "platforms",
    "purposes",
    "expires_on",
    "expiry_event",
    "signed_on",
    "states_right_to_revoke",
    "states_no_conditioning",
    "states_redisclosure",
    "is_remunerated",
    "states_remuneration",
    "notes",
    "copy_given_on",
    "copy_given_how",
)


# The record fields that may describe or name a person: sealed in events (audit.erasure, docs/erasure.md).
PERSONAL_RECORD_FIELDS = frozenset({"description", "expiry_event", "notes"})


def _personal(name: str, value: Any) -> Any:
    return Personal(value) if name in PERSONAL_RECORD_FIELDS else value


@dataclass(frozen=True)
class SignerSpec:
    role: str
    name: str
    authority: str = ""


def _require(actor: User, action: str, message: str) -> None:
    if actor is None or not ConsentPolicy(actor).may(action):
        raise PermissionDenied(message)


# Subjects -----------------------------------------------------------------------------------


@transaction.atomic
def subject_create(*, actor: User, data: dict[str, Any]) -> Subject:
    """Register a person who may appear in content; returns them."""
    _require(actor, REGISTER_SUBJECT, _("You may not register people."))
    unknown = set(data) - set(SUBJECT_FIELDS)
    if unknown:
        raise ValueError(f"not subject fields: {sorted(unknown)}")
    subject = Subject(created_by=actor, **data)
    subject.display_name = subject.display_name.strip()
    subject.reference = subject.reference.strip()
    subject.full_clean()
    subject.save()
    event_record(actor=actor, action="subject.created", obj=subject, changes={"reference": Personal(subject.reference)})
    return subject


@transaction.atomic
def subject_update(
    *, subject: Subject, actor: User, data: dict[str, Any], expected_version: int | None = None
) -> Subject:
    """Change a subject's details; returns them. A form opened on an older version is refused."""
    _require(actor, CHANGE_SUBJECT, _("You may not change people's details."))
    subject = row_lock(Subject, subject.pk)
    subject_version_check(subject=subject, expected=expected_version)
    if subject.erased_at is not None:
        raise ValidationError(_("This person's personal data was erased; their details cannot be changed."))
    changes = {}
    for name, value in data.items():
        if name not in SUBJECT_FIELDS:
            raise ValueError(f"{name} is not a subject field")
        if getattr(subject, name) != value:
            changes[name] = Personal([getattr(subject, name), value])
            setattr(subject, name, value)
    if changes:
        subject.full_clean()
        subject.save(update_fields=list(changes))
        if "date_of_birth" in changes:
            # The 18th birthday moved: the daily job works out (and announces) the re-consent afresh.
            ConsentRecord.objects.filter(subject=subject).update(reconsent_due_on=None, reconsent_noticed_at=None)
        event_record(actor=actor, action="subject.changed", obj=subject, changes=changes)
    return subject


# Consent records ----------------------------------------------------------------------------


def _signers_clean(signers: Sequence[SignerSpec]) -> None:
    if not signers:
        raise ValidationError(_("Name at least one person who signed."), code="no_signer")
    for signer in signers:
        if signer.role not in SignerRole.values:
            raise ValidationError(_("Unknown signer role."), code="signer_role")
        if not signer.name.strip():
            raise ValidationError(_("Every signer needs a name."), code="signer_name")
        if signer.role != SignerRole.SUBJECT and not signer.authority.strip():
            raise ValidationError(
                _("%(name)s signed for someone else: give their authority or relationship.") % {"name": signer.name},
                code="signer_authority",
            )


@transaction.atomic
def consent_record_create(
    *,
    actor: User,
    subject: Subject,
    data: dict[str, Any],
    signers: Sequence[SignerSpec],
    document: IO[bytes] | UploadedFile,
    document_name: str,
    withdrawal_born: dt.date | None = None,
) -> ConsentRecord:
    """Record a signed consent form (pending verification by another consent officer); returns it.

    ``withdrawal_born``, the person's birth date, is kept only as the check for online withdrawal
    (consent.withdrawal_check), never in clear.
    """
    _require(actor, RECORD, _("You may not record consent."))
    if subject.erased_at is not None:
        raise ValidationError(_("This person's personal data was erased; register them again to record consent."))
    unknown = set(data) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"not consent fields: {sorted(unknown)}")
    _signers_clean(signers)
    clean = document_clean(document)
    record = ConsentRecord(subject=subject, recorded_by=actor, **data)
    record.document_name = (document_name or "consent")[:200]
    record.document_type = clean.content_type
    record.document_checksum = clean.checksum
    if record.all_platforms:
        record.platforms = []
    if not record.media_kinds:
        raise ValidationError({"media_kinds": _("Choose what of the person may be shown.")})
    if not record.purposes:
        raise ValidationError({"purposes": _("Choose at least one purpose.")})
    if not record.all_platforms and not record.platforms:
        raise ValidationError({"platforms": _("Choose the platforms, or all platforms.")})
    if record.expires_on is not None and record.expires_on < record.signed_on:
        raise ValidationError({"expires_on": _("The consent cannot expire before it was signed.")})
    if record.signed_on > consent_day(timezone.now()):
        raise ValidationError({"signed_on": _("The signing date is in the future.")})
    record.description = record.description.strip()
    _copy_given_clean(record=record, given_on=record.copy_given_on, how=record.copy_given_how)
    if withdrawal_born is not None:
        if withdrawal_born > consent_day(timezone.now()):
            raise ValidationError({"withdrawal_born": _("The date of birth is in the future.")})
        record.withdrawal_check = withdrawal_check_of(reference=record.form_reference, born=withdrawal_born)
    record.full_clean(exclude=["document"])
    record.document.save(f"{clean.checksum[:16]}.{clean.extension}", ContentFile(clean.content), save=False)
    record.save()
    ConsentSigner.objects.bulk_create(
        ConsentSigner(record=record, role=s.role, name=s.name.strip(), authority=s.authority.strip()) for s in signers
    )
    event_record(
        actor=actor,
        action="consent.recorded",
        obj=record,
        content_hash=record.document_checksum,
        changes={
            "subject": subject.pk,
            **{name: _personal(name, getattr(record, name)) for name in RECORD_FIELDS if name != "notes"},
            "signers": Personal([[s.role, s.name, s.authority] for s in signers]),
            # Whether the scanned form's original carried a location (removed; the place is never kept).
            "document_had_location": clean.had_location,
            "online_withdrawal_check": bool(record.withdrawal_check),
        },
    )
    return record


def _copy_given_clean(*, record: ConsentRecord, given_on: dt.date | None, how: str) -> None:
    if given_on is None and not how:
        return
    if given_on is None:
        raise ValidationError({"copy_given_on": _("Give the day the signer received their copy.")})
    if how not in CopyGivenHow.values:
        raise ValidationError({"copy_given_how": _("Say how the signer received their copy.")})
    if given_on < record.signed_on:
        raise ValidationError({"copy_given_on": _("The copy cannot be given before the form was signed.")})
    if given_on > consent_day(timezone.now()):
        raise ValidationError({"copy_given_on": _("The day the copy was given is in the future.")})


@transaction.atomic
def consent_copy_given_record(
    *, record: ConsentRecord, actor: User, given_on: dt.date, how: str, expected_version: int | None = None
) -> ConsentRecord:
    """Record that the signer was given a copy of the signed form (45 CFR 164.508(c)(4)); returns the record."""
    _require(actor, RECORD, _("You may not record consent."))
    record = row_lock(ConsentRecord, record.pk)
    record_version_check(record=record, expected=expected_version)
    if record.copy_given_on is not None:
        raise ValidationError(_("The copy given to the signer is already recorded."))
    _copy_given_clean(record=record, given_on=given_on, how=how)
    record.copy_given_on = given_on
    record.copy_given_how = how
    record.full_clean(exclude=["document"])
    record.save(update_fields=["copy_given_on", "copy_given_how"])
    event_record(
        actor=actor,
        action="consent.copy_given",
        obj=record,
        content_hash=record.document_checksum,
        changes={"copy_given_on": given_on, "copy_given_how": how},
    )
    return record


@transaction.atomic
def consent_verify(*, record: ConsentRecord, actor: User, expected_version: int | None = None) -> ConsentRecord:
    """Confirm, as a second consent officer, that the form matches the record; returns it."""
    _require(actor, VERIFY, _("You may not verify consent."))
    record = row_lock(ConsentRecord, record.pk)
    record_version_check(record=record, expected=expected_version)
    if record.recorded_by_id == actor.pk:
        raise ValidationError(_("Someone other than the person who recorded this consent must verify it."))
    if record.revoked_at is not None:
        raise ValidationError(_("A revoked consent cannot be verified."))
    if record.verified_at is not None:
        raise ValidationError(_("This consent is already verified."))
    if record.copy_given_on is None:
        # 164.508(c)(4): a valid authorisation includes that the signer got a copy; check it before use.
        raise ValidationError(
            _("Record first that the signer was given a copy of the signed form (Record copy given), then verify."),
            code="copy_not_given",
        )
    record.verified_at = timezone.now()
    record.verified_by = actor
    record.save(update_fields=["verified_at", "verified_by"])
    event_record(actor=actor, action="consent.verified", obj=record, content_hash=record.document_checksum)
    return record


@transaction.atomic
def consent_revoke(
    *,
    record: ConsentRecord,
    actor: User,
    received_via: str,
    reason: str = "",
    received_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> ConsentRecord:
    """Record a revocation and stop, in this transaction, everything not yet published that uses it."""
    _require(actor, REVOKE, _("You may not revoke consent."))
    return revocation_apply(
        record=record,
        actor=actor,
        received_via=received_via,
        reason=reason,
        received_at=received_at,
        expected_version=expected_version,
    )


def revocation_apply(
    *,
    record: ConsentRecord,
    actor: "User | str",
    received_via: str,
    reason: str = "",
    received_at: dt.datetime | None = None,
    expected_version: int | None = None,
    audit: dict[str, Any] | None = None,
) -> ConsentRecord:
    """Revoke ``record`` and run the cascade, whoever asked; callers check who may (officer or online withdrawal).

    ``actor`` is the officer, or the name of the channel (e.g. "online withdrawal") when no user acts;
    ``audit`` adds to the event's changes. Must run inside the caller's transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("revocation_apply must run inside a transaction")
    record = row_lock(ConsentRecord, record.pk)
    record_version_check(record=record, expected=expected_version)
    if record.revoked_at is not None:
        raise ValidationError(_("This consent is already revoked."), code="already_revoked")
    record.revoked_at = received_at or timezone.now()
    if record.revoked_at > timezone.now():
        raise ValidationError(_("A revocation cannot be received in the future."))
    user = actor if isinstance(actor, User) else None
    record.revoked_by = user
    record.revocation_received_via = received_via
    record.revocation_reason = reason.strip()
    record.full_clean(exclude=["document"])
    record.save(update_fields=["revoked_at", "revoked_by", "revocation_received_via", "revocation_reason"])
    event_record(
        actor=actor,
        action="consent.revoked",
        obj=record,
        content_hash=record.document_checksum,
        changes={
            "received_via": received_via,
            "reason": Personal(record.revocation_reason),
            "revoked_at": record.revoked_at,
            **(audit or {}),
        },
    )
    # Receivers take a user or None (the system): an online withdrawal blocks posts as the system.
    consent_revoked.send(sender=ConsentRecord, record=record, actor=user)
    return record


def consent_expiries_process(*, now: dt.datetime | None = None) -> int:
    """Apply the cascade to every consent whose expiry date has passed; returns how many. Runs at most once each."""
    now = now or timezone.now()
    today = consent_day(now)
    ids = list(
        ConsentRecord.objects.filter(
            expires_on__lt=today, expiry_processed_at__isnull=True, revoked_at__isnull=True
        ).values_list("pk", flat=True)
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            # Compare-and-set: a second worker finds nothing to claim.
            claimed = ConsentRecord.objects.filter(pk=pk, expiry_processed_at__isnull=True).update(
                expiry_processed_at=now
            )
            if not claimed:
                continue
            record = ConsentRecord.objects.select_related("subject").get(pk=pk)
            event_record(actor=None, action="consent.expired", obj=record, content_hash=record.document_checksum)
            consent_lapsed.send(sender=ConsentRecord, record=record)
            done += 1
    return done


def consent_expiry_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Mail consent officers once about each verified consent that expires within 30 days; returns mails sent."""
    from consent.notifications import expiry_reminder_send

    now = now or timezone.now()
    today = consent_day(now)
    ids = list(
        ConsentRecord.objects.filter(
            expires_on__gte=today,
            expires_on__lte=today + EXPIRING_SOON,
            expiry_reminded_at__isnull=True,
            revoked_at__isnull=True,
            verified_at__isnull=False,
        ).values_list("pk", flat=True)
    )
    sent = 0
    for pk in ids:
        with transaction.atomic():
            if not ConsentRecord.objects.filter(pk=pk, expiry_reminded_at__isnull=True).update(expiry_reminded_at=now):
                continue
            record = ConsentRecord.objects.select_related("subject").get(pk=pk)
            event_record(actor=None, action="consent.expiry_reminded", obj=record)
            transaction.on_commit(partial(expiry_reminder_send, record=record))
            sent += 1
    return sent


def consent_reconsent_notices_send(*, now: dt.datetime | None = None) -> int:
    """Tell consent officers once about each consent signed for a minor who turns 18 soon; returns notices made.

    Daily. A verified, unrevoked consent signed while the person was a minor stops covering new posts
    on their 18th birthday (consent.gate); ``ROUNDS_RECONSENT_NOTICE_DAYS`` before it, the record is
    stamped with that day (the home page's "Re-consent needed" lists it until a new consent signed as
    an adult is verified) and officers get a notice. Running twice notices nobody twice.
    """
    from consent.notifications import reconsent_notice_send

    now = now or timezone.now()
    today = consent_day(now)
    horizon = today + dt.timedelta(days=settings.ROUNDS_RECONSENT_NOTICE_DAYS)
    candidates = (
        ConsentRecord.objects.filter(
            reconsent_noticed_at__isnull=True,
            revoked_at__isnull=True,
            verified_at__isnull=False,
            subject__deceased_on__isnull=True,
            subject__date_of_birth__isnull=False,
            subject__date_of_birth__lte=years_after(horizon, -ADULT_AGE),
        )
        .select_related("subject")
        .order_by("pk")
    )
    due = {}
    for record in candidates:
        adult = minor_consent_ends_on(date_of_birth=record.subject.date_of_birth, signed_on=record.signed_on)
        if adult is None or adult > horizon:
            continue
        if record.expires_on is not None and record.expires_on < max(adult, today):
            continue  # it ends before it would need renewing
        renewed = ConsentRecord.objects.filter(
            subject_id=record.subject_id, revoked_at__isnull=True, verified_at__isnull=False, signed_on__gte=adult
        ).exists()
        if not renewed:
            due[record.pk] = adult
    sent = 0
    for pk, adult in due.items():
        with transaction.atomic():
            # Compare-and-set: a second worker (or a second run) finds nothing to claim.
            claimed = ConsentRecord.objects.filter(pk=pk, reconsent_noticed_at__isnull=True).update(
                reconsent_due_on=adult, reconsent_noticed_at=now
            )
            if not claimed:
                continue
            record = ConsentRecord.objects.select_related("subject").get(pk=pk)
            event_record(actor=None, action="consent.reconsent_due", obj=record, changes={"turns_18_on": adult})
            transaction.on_commit(partial(reconsent_notice_send, record=record))
            sent += 1
    return sent


def document_open(*, record: ConsentRecord, actor: User, request_id: str = "") -> FieldFile:
    """Open the signed form for ``actor`` if ConsentPolicy lets them read it, and audit the view."""
    if VIEW_DOCUMENT not in ConsentPolicy(actor).actions(record):
        raise PermissionDenied(_("You may not read this signed consent form."))
    event_record(
        actor=actor,
        action="consent.document_viewed",
        obj=record,
        changes={"request_id": request_id} if request_id else {},
        content_hash=record.document_checksum,
    )
    # A FileField reads back as a FieldFile; django-stubs types the attribute as Any.
    return cast(FieldFile, record.document).open("rb")


def consent_fhir_export(
    *, record: ConsentRecord, actor: "User | AnonymousUser", document_url: str, request_id: str = ""
) -> dict[str, Any]:
    """Return the record as an HL7 FHIR R4 Consent resource for ``actor`` if ConsentPolicy lets them export
    it, and audit the export: it carries health data out of Rounds."""
    if EXPORT_FHIR not in ConsentPolicy(actor).actions(record):
        raise PermissionDenied(_("You may not export this consent."))
    event_record(
        actor=actor,
        action="consent.fhir_exported",
        obj=record,
        changes={"request_id": request_id} if request_id else {},
        content_hash=record.document_checksum,
    )
    return consent_resource(record, document_url=document_url)


def consent_fhir_bundle_export(
    *,
    subject: Subject,
    actor: "User | AnonymousUser",
    document_url: Callable[[ConsentRecord], str],
    request_id: str = "",
) -> dict[str, Any]:
    """Return ``subject``'s consent records that ``actor`` may export as one FHIR R4 Bundle, and audit
    each record's export as the single export does (``consent.fhir_exported``, naming the bundle).

    Consent officers get every record (an empty Bundle for a person without one); anyone else only
    the records ConsentPolicy lets them export, and is refused if that is none."""
    policy = ConsentPolicy(actor)
    records = [record for record in fhir_subject_records(subject) if EXPORT_FHIR in policy.actions(record)]
    if not records and not policy.may_open_registry:
        raise PermissionDenied(_("You may not export this person's consents."))
    now = timezone.now()
    with transaction.atomic():
        for record in records:
            changes: dict[str, Any] = {"bundle_of_subject": subject.pk}
            if request_id:
                changes["request_id"] = request_id
            event_record(
                actor=actor,
                action="consent.fhir_exported",
                obj=record,
                changes=changes,
                content_hash=record.document_checksum,
            )
    return fhir_subject_bundle(subject, now=now, records=records, document_url=document_url)


# Erasure and access (GDPR Art. 17 and 15; docs/erasure.md) -----------------------------------

ERASED_MARK = "[erased]"


@transaction.atomic
def subject_erase(*, subject: Subject, actor: User, reason: str, received_via: str = ReceivedVia.LETTER) -> Subject:
    """Erase a person's personal data, keeping the audit chain whole; returns the blanked subject.

    Every unrevoked consent is revoked first with the usual cascade (unpublished posts blocked,
    published ones listed for takedown); then the texts naming them are redacted (receivers of
    ``subject_erasing``), their erasure keys deleted (the sealed event data becomes unreadable,
    no hashed byte changes), their name, dates, signers, notes and signed forms removed.
    """
    _require(actor, ERASE_SUBJECT, _("You may not erase people's personal data."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the personal data is erased (e.g. the request's date).")})
    if received_via not in ReceivedVia.values:
        raise ValidationError({"received_via": _("Say how the request was received.")})
    subject = row_lock(Subject, subject.pk)
    if subject.erased_at is not None:
        raise ValidationError(_("This person's personal data was already erased."))
    records = list(ConsentRecord.objects.filter(subject=subject).order_by("pk"))
    for record in records:
        if record.revoked_at is None:
            consent_revoke(record=record, actor=actor, received_via=received_via)
    signers = list(ConsentSigner.objects.filter(record__subject=subject))
    names = [subject.display_name, subject.reference, *(signer.name for signer in signers)]
    owners: list[KeyOwner] = [subject_owner(subject.pk)]
    for _receiver, found in subject_erasing.send(sender=Subject, subject=subject, names=names, actor=actor):
        owners.extend(cast("list[KeyOwner]", found or []))
    now = timezone.now()
    key_erase(owners=owners, actor_repr=_actor_name(actor), when=now)
    documents = [record.document.name for record in records if record.document]
    ConsentSigner.objects.filter(pk__in=[signer.pk for signer in signers]).update(name=ERASED_MARK)
    ConsentSigner.objects.filter(pk__in=[signer.pk for signer in signers]).exclude(authority="").update(
        authority=ERASED_MARK
    )
    # update(): the blanked rows no longer pass the form's checks (a file, a reason), by design.
    ConsentRecord.objects.filter(subject=subject).update(
        description=ERASED_MARK, notes="", revocation_reason="", document="", document_name=""
    )
    ConsentRecord.objects.filter(subject=subject, expires_on__isnull=False).update(expiry_event="")
    ConsentRecord.objects.filter(subject=subject, expires_on__isnull=True).update(expiry_event=ERASED_MARK)
    subject.display_name = _erased_name(subject.pk)
    subject.reference = f"erased-{subject.pk}"
    subject.date_of_birth = None
    subject.deceased_on = None
    subject.erased_at = now
    subject.save(update_fields=["display_name", "reference", "date_of_birth", "deceased_on", "erased_at"])
    transaction.on_commit(partial(_documents_delete, documents))
    event_record(
        actor=actor,
        action="subject.erased",
        obj=subject,
        changes={"reason": reason, "records": [record.pk for record in records], "keys": len(owners)},
    )
    return subject


def _erased_name(pk: int) -> str:
    # Stored, so in the instance's default language's neutral form; shown as stored.
    return f"Erased person #{pk}"


def _actor_name(actor: User) -> str:
    return actor.get_full_name() or actor.get_username()


def _documents_delete(names: list[str]) -> None:
    storage = private_storage()
    for name in names:
        if name and storage.exists(name):
            storage.delete(name)


def subject_export(*, subject: Subject, actor: User | str, request_id: str = "") -> bytes:
    """Return everything stored about ``subject`` (GDPR Art. 15) as a ZIP of JSON and PDF; audited.

    ``actor`` is a user (who needs the permission) or the name of a management command (run by
    whoever holds the server).
    """
    if not isinstance(actor, str):
        _require(actor, EXPORT_SUBJECT, _("You may not export people's personal data."))
    content, data = subject_export_zip(subject)
    event_record(
        actor=actor,
        action="subject.exported",
        obj=subject,
        changes={"records": len(data["consent_records"]), **({"request_id": request_id} if request_id else {})},
    )
    return content
