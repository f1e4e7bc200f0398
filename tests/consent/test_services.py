import datetime as dt
import io
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import ConsentRecord, ConsentState
from consent.notifications import expiry_reminder_send
from consent.services import (
    SignerSpec,
    consent_expiries_process,
    consent_expiry_reminders_send,
    consent_fhir_export,
    consent_record_create,
    consent_revoke,
    consent_verify,
    document_open,
)
from consent.signals import consent_lapsed, consent_revoked
from people import roles
from people.models import User
from tests.conftest import IMAGES, role_group
from tests.consent.conftest import pdf

pytestmark = pytest.mark.django_db


def record_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "media_kinds": ["photo"],
        "description": "Foto auf der Station, ohne Namen",
        "disclosing_organisation": "Klinikum Nord",
        "all_platforms": True,
        "purposes": ["education"],
        "signed_on": timezone.localdate() - dt.timedelta(days=1),
        "copy_given_on": timezone.localdate() - dt.timedelta(days=1),
        "copy_given_how": "handed_over",
        "expires_on": timezone.localdate() + dt.timedelta(days=300),
        "states_right_to_revoke": True,
        "states_no_conditioning": True,
        "states_redisclosure": True,
    }
    data.update(overrides)
    return data


def test_recorded_consent_is_pending_until_another_officer_verifies(
    officer: Any, officer2: Any, subject_factory: Any
) -> None:
    record = consent_record_create(
        actor=officer,
        subject=subject_factory(),
        data=record_data(),
        signers=[SignerSpec("subject", "Anna")],
        document=pdf(),
        document_name="a.pdf",
    )
    assert record.state == ConsentState.PENDING

    with pytest.raises(ValidationError):
        consent_verify(record=record, actor=officer)
    consent_verify(record=record, actor=officer2)

    record.refresh_from_db()
    assert record.state == ConsentState.ACTIVE
    assert record.verified_by == officer2
    events = AuditEvent.objects.filter(object_type="consent.consentrecord", object_id=str(record.pk))
    assert list(events.values_list("action", flat=True)) == [
        "consent.verified",
        "consent.recorded",
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expires_on": None, "expiry_event": ""}, "expiry"),
        ({"states_redisclosure": False}, "statements"),
        ({"is_remunerated": True}, "remuneration"),
        ({"media_kinds": []}, "media_kinds"),
        ({"all_platforms": False, "platforms": []}, "platforms"),
        ({"signed_on": timezone.localdate() + dt.timedelta(days=3)}, "signed_on"),
    ],
)
def test_incomplete_consent_is_refused_and_nothing_stored(
    officer: Any, subject_factory: Any, overrides: dict[str, Any], field: str, settings: Any
) -> None:
    with pytest.raises(ValidationError):
        consent_record_create(
            actor=officer,
            subject=subject_factory(),
            data=record_data(**overrides),
            signers=[SignerSpec("subject", "Anna")],
            document=pdf(),
            document_name="a.pdf",
        )
    assert ConsentRecord.objects.count() == 0
    assert not list(settings.PRIVATE_MEDIA_ROOT.rglob("*.*")) if settings.PRIVATE_MEDIA_ROOT.exists() else True


def test_representative_must_state_authority(officer: Any, subject_factory: Any) -> None:
    with pytest.raises(ValidationError):
        consent_record_create(
            actor=officer,
            subject=subject_factory(),
            data=record_data(),
            signers=[SignerSpec("guardian", "Mother", authority="")],
            document=pdf(),
            document_name="a.pdf",
        )


@pytest.mark.parametrize("name", ["not_an_image.jpg", "truncated.jpg", "bomb_30000x30000.png"])
def test_bad_documents_are_refused(officer: Any, subject_factory: Any, name: str) -> None:
    with pytest.raises(ValidationError), (IMAGES / name).open("rb") as handle:
        consent_record_create(
            actor=officer,
            subject=subject_factory(),
            data=record_data(),
            signers=[SignerSpec("subject", "Anna")],
            document=handle,
            document_name=name,
        )
    assert ConsentRecord.objects.count() == 0


def test_incomplete_pdf_is_refused(officer: Any, subject_factory: Any) -> None:
    with pytest.raises(ValidationError):
        consent_record_create(
            actor=officer,
            subject=subject_factory(),
            data=record_data(),
            signers=[SignerSpec("subject", "Anna")],
            document=io.BytesIO(b"%PDF-1.4\nhalf a file"),
            document_name="a.pdf",
        )


def test_scanned_form_is_stored_privately_without_metadata(officer: Any, subject_factory: Any, settings: Any) -> None:
    from PIL import Image

    with (IMAGES / "photo_exif_gps_orientation6.jpg").open("rb") as handle:
        record = consent_record_create(
            actor=officer,
            subject=subject_factory(),
            data=record_data(),
            signers=[SignerSpec("subject", "Anna")],
            document=handle,
            document_name="scan.jpg",
        )

    path = settings.PRIVATE_MEDIA_ROOT / record.document.name
    assert path.exists()
    assert not str(path).startswith(str(settings.MEDIA_ROOT))
    with Image.open(path) as image:
        assert not image.getexif()
    with pytest.raises(ValueError):
        record.document.url  # noqa: B018
    # The scan's original carried a GPS position: the upload's audit event records the fact, not the place.
    event = AuditEvent.objects.get(action="consent.recorded", object_id=str(record.pk))
    assert event.changes["document_had_location"] is True
    assert not {key for key in event.changes if "gps" in key.lower() or "latitude" in key.lower()}


def test_a_scan_or_pdf_without_location_is_recorded_as_such(officer: Any, subject_factory: Any) -> None:
    with (IMAGES / "landscape_1200x628.webp").open("rb") as handle:
        scan = consent_record_create(
            actor=officer,
            subject=subject_factory(),
            data=record_data(),
            signers=[SignerSpec("subject", "Anna")],
            document=handle,
            document_name="scan.webp",
        )
    form = consent_record_create(
        actor=officer,
        subject=subject_factory(),
        data=record_data(),
        signers=[SignerSpec("subject", "Anna")],
        document=pdf(),
        document_name="a.pdf",
    )
    for record in (scan, form):
        event = AuditEvent.objects.get(action="consent.recorded", object_id=str(record.pk))
        assert event.changes["document_had_location"] is False


def test_revocation_signals_in_the_same_transaction_and_is_audited(
    officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory())
    seen = []

    def receiver(sender: Any, record: ConsentRecord, actor: Any, **kwargs: Any) -> None:
        seen.append((record.pk, record.revoked_at is not None, actor.pk))

    consent_revoked.connect(receiver, dispatch_uid="test-revoke")
    try:
        consent_revoke(record=record, actor=officer, received_via="letter", reason="Changed her mind")
    finally:
        consent_revoked.disconnect(dispatch_uid="test-revoke")

    record.refresh_from_db()
    assert seen == [(record.pk, True, officer.pk)]
    assert record.state == ConsentState.REVOKED
    event = AuditEvent.objects.filter(action="consent.revoked").get()
    assert event.changes["received_via"] == "letter"
    with pytest.raises(ValidationError):
        consent_revoke(record=record, actor=officer, received_via="letter")


def test_editor_may_not_record_verify_or_revoke(editor: Any, subject_factory: Any, record_factory: Any) -> None:
    record = record_factory(subject_factory(), verify=False)
    with pytest.raises(PermissionDenied):
        consent_verify(record=record, actor=editor)
    with pytest.raises(PermissionDenied):
        consent_revoke(record=record, actor=editor, received_via="email")
    with pytest.raises(PermissionDenied):
        consent_record_create(
            actor=editor,
            subject=record.subject,
            data=record_data(),
            signers=[SignerSpec("subject", "Anna")],
            document=pdf(),
            document_name="a.pdf",
        )


def test_expiry_cascade_runs_once_per_record(subject_factory: Any, record_factory: Any) -> None:
    expired = record_factory(
        subject_factory(),
        signed_on=timezone.localdate() - dt.timedelta(days=100),
        expires_on=timezone.localdate() - dt.timedelta(days=1),
    )
    record_factory(subject_factory())
    lapsed = []

    def receiver(sender: Any, record: ConsentRecord, **kwargs: Any) -> None:
        lapsed.append(record.pk)

    consent_lapsed.connect(receiver, dispatch_uid="test-lapse")
    try:
        assert consent_expiries_process() == 1
        assert consent_expiries_process() == 0
    finally:
        consent_lapsed.disconnect(dispatch_uid="test-lapse")

    assert lapsed == [expired.pk]
    assert AuditEvent.objects.filter(action="consent.expired", object_id=str(expired.pk)).count() == 1


def test_expiry_reminder_mailed_once_after_commit(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record_factory(subject_factory(display_name="Anna"), expires_on=timezone.localdate() + dt.timedelta(days=20))
    record_factory(subject_factory(), expires_on=timezone.localdate() + dt.timedelta(days=200))

    with django_capture_on_commit_callbacks(execute=True):
        assert consent_expiry_reminders_send() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert consent_expiry_reminders_send() == 0

    assert sorted(message.to[0] for message in mail.outbox) == sorted([officer.email, officer2.email])
    # The person is named in the body only: a subject line travels through every mail server and inbox list.
    assert all("Anna" in message.body and "Anna" not in message.subject for message in mail.outbox)


def test_an_expiry_reminder_delivered_twice_is_mailed_once_from_its_templates(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"
    officer2.language = "de"
    officer2.save()
    expires = dt.date(2027, 1, 31)
    record = record_factory(subject_factory(display_name="Zoë Müller-Şahin"), expires_on=expires)

    assert expiry_reminder_send(record=record) == 2
    assert expiry_reminder_send(record=record) == 0  # the same reminder again: a retried callback, a second worker

    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects[officer.email] == "A consent expires on 31 January 2027"
    assert subjects[officer2.email] == "Eine Einwilligung läuft am 31. Januar 2027 ab"  # German for who reads it
    assert all("Zoë Müller-Şahin" in message.body and "Müller" not in message.subject for message in mail.outbox)
    assert all(message.body.rstrip().endswith("— Rounds") for message in mail.outbox)
    mail.outbox.clear()

    # The consent's expiry moved: a reminder of the new date is a new event.
    ConsentRecord.objects.filter(pk=record.pk).update(expires_on=expires + dt.timedelta(days=90))
    record.refresh_from_db()
    assert expiry_reminder_send(record=record) == 2


def test_governance_may_not_verify_or_revoke_consent(
    governance: Any, officer2: Any, subject_factory: Any, record_factory: Any
) -> None:
    """Issue 13: Governance verified consent records; SPEC section 1 gives that to a Consent officer."""
    record = record_factory(subject_factory(), verify=False)
    with pytest.raises(PermissionDenied):
        consent_verify(record=record, actor=governance)
    with pytest.raises(PermissionDenied):
        consent_revoke(record=record, actor=governance, received_via="letter")
    record.refresh_from_db()
    assert record.verified_at is None and record.revoked_at is None
    # Governance who is also a Consent officer verifies as one.
    governance.groups.add(role_group(roles.CONSENT_OFFICER))
    assert consent_verify(record=record, actor=User.objects.get(pk=governance.pk)).verified_by == governance


def test_the_document_and_export_services_ask_the_policy(
    editor: Any, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory())
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        document_open(record=record, actor=editor)
    with pytest.raises(PermissionDenied):
        consent_fhir_export(record=record, actor=editor, document_url="https://rounds.example/consent/1/document/")
    assert AuditEvent.objects.count() == before
    document_open(record=record, actor=officer).close()
    assert (
        consent_fhir_export(record=record, actor=officer, document_url="https://x.example/d")["resourceType"]
        == "Consent"
    )
