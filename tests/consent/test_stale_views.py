"""No lost update in the consent registry: person edits, verification and revocation refuse stale forms."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.versions import StaleVersion, version_of
from consent import views as consent_views
from consent.models import ConsentRecord, ConsentState, Subject
from consent.services import consent_revoke, consent_verify, subject_update

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hidden_version(page: Any, action: str) -> str:
    form = page.text[page.text.index(f'action="{action}"') :]
    marker = 'name="version" value="'
    return form[form.index(marker) + len(marker) :].split('"', 1)[0]


@pytest.fixture
def named_officer(officer: Any) -> Any:
    officer.first_name, officer.last_name = "Sabine", "Weiß"
    officer.save()
    return officer


@pytest.fixture
def subject(subject_factory: Any) -> Subject:
    return subject_factory()


def test_stale_person_edit_is_refused_with_409_and_the_input_kept(
    named_officer: Any, officer2: Any, subject: Subject
) -> None:
    client = client_for(officer2)
    page = client.get(reverse("consent:subject_edit", args=[subject.pk]))
    seen = page.context["version"]
    assert f'name="version" value="{seen}"' in page.text
    subject_update(subject=subject, actor=named_officer, data={"display_name": "Anna Ö."})

    response = client.post(
        reverse("consent:subject_edit", args=[subject.pk]),
        {
            "display_name": "Anna Örtel-Şahin",
            "reference": subject.reference,
            "version": seen,
            "confirm_irreversible": "yes",
        },
    )

    assert response.status_code == 409
    subject.refresh_from_db()
    assert subject.display_name == "Anna Ö."
    assert "This person&#x27;s details were changed by Sabine Weiß at" in response.text
    assert response.context["form"]["display_name"].value() == "Anna Örtel-Şahin"
    (change,) = response.context["stale"].changes
    assert change.new == "Anna Ö."
    # Saving again, on the version shown with the conflict, stores the user's input.
    again = client.post(
        reverse("consent:subject_edit", args=[subject.pk]),
        {
            "display_name": "Anna Örtel-Şahin",
            "reference": subject.reference,
            "version": response.context["version"],
            "confirm_irreversible": "yes",
        },
    )
    assert again.status_code == 302
    subject.refresh_from_db()
    assert subject.display_name == "Anna Örtel-Şahin"


def test_current_person_edit_is_stored(officer: Any, subject: Subject) -> None:
    client = client_for(officer)
    seen = client.get(reverse("consent:subject_edit", args=[subject.pk])).context["version"]
    response = client.post(
        reverse("consent:subject_edit", args=[subject.pk]),
        {"display_name": "Anna E.", "reference": subject.reference, "version": seen, "confirm_irreversible": "yes"},
    )
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.display_name == "Anna E."


def test_verify_after_a_revocation_is_refused_as_stale(
    officer2: Any, named_officer: Any, subject: Subject, record_factory: Any, governance: Any
) -> None:
    record = record_factory(subject, verify=False)
    client = client_for(officer2)
    detail = client.get(reverse("consent:record_detail", args=[record.pk]))
    seen = hidden_version(detail, reverse("consent:record_verify", args=[record.pk]))
    consent_revoke(record=record, actor=named_officer, received_via="letter", reason="Möchte nicht mehr")
    events = AuditEvent.objects.count()

    response = client.post(
        reverse("consent:record_verify", args=[record.pk]), {"version": seen, "confirm_irreversible": "yes"}
    )

    assert response.status_code == 409
    record.refresh_from_db()
    assert record.verified_at is None
    assert AuditEvent.objects.count() == events
    assert "This consent was changed by Sabine Weiß at" in response.text
    assert [change.label for change in response.context["stale"].changes] == ["Revocation"]


def test_stale_revocation_is_refused_with_409_and_the_input_kept(
    officer2: Any, subject: Subject, record_factory: Any, officer: Any
) -> None:
    # officer2 verified it; a third officer opens the page, then someone else's change lands first.
    record = record_factory(subject, verify=False)
    client = client_for(officer2)
    detail = client.get(reverse("consent:record_detail", args=[record.pk]))
    seen = hidden_version(detail, reverse("consent:record_revoke", args=[record.pk]))
    consent_verify(record=record, actor=officer2)

    response = client.post(
        reverse("consent:record_revoke", args=[record.pk]),
        {
            "received_via": "phone",
            "reason": "Anruf der Tochter, 14:20",
            "received_at": "",
            "version": seen,
            "confirm_irreversible": "yes",
        },
    )

    assert response.status_code == 409
    record.refresh_from_db()
    assert record.revoked_at is None
    assert response.context["revoke_form"]["reason"].value() == "Anruf der Tochter, 14:20"
    assert "Anruf der Tochter, 14:20" in response.text
    assert "This consent was changed by consent2 at" in response.text
    again = client.post(
        reverse("consent:record_revoke", args=[record.pk]),
        {
            "received_via": "phone",
            "reason": "Anruf der Tochter",
            "version": response.context["version"],
            "confirm_irreversible": "yes",
        },
    )
    assert again.status_code == 302
    record.refresh_from_db()
    assert record.state == ConsentState.REVOKED


def test_a_change_after_the_views_look_is_refused_by_the_service_under_its_lock_with_409(
    officer: Any, officer2: Any, subject: Subject, record_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The colleague's verification lands after the view's unlocked version look passed and before
    the revocation takes the row lock: the service refuses the save, the view answers 409 as for any
    stale form (who, when, what), nothing of the revocation is written and the officer's input is kept."""
    officer2.first_name, officer2.last_name = "Jörg", "Bäcker"
    officer2.save()
    record = record_factory(subject, verify=False)
    client = client_for(officer)
    detail = client.get(reverse("consent:record_detail", args=[record.pk]))
    seen = hidden_version(detail, reverse("consent:record_revoke", args=[record.pk]))
    revoke = consent_views.consent_revoke

    def revoke_after_the_colleague(**kwargs: Any) -> ConsentRecord:
        consent_verify(record=ConsentRecord.objects.get(pk=record.pk), actor=officer2)
        return revoke(**kwargs)

    monkeypatch.setattr(consent_views, "consent_revoke", revoke_after_the_colleague)
    events = AuditEvent.objects.count()
    reason = "Anruf der Tochter (030 1234567), 14:20 – bitte sofort stoppen ‏"

    response = client.post(
        reverse("consent:record_revoke", args=[record.pk]),
        {"received_via": "phone", "reason": reason, "received_at": "", "version": seen, "confirm_irreversible": "yes"},
    )

    assert response.status_code == 409
    record.refresh_from_db()
    assert record.revoked_at is None and record.verified_at is not None
    verified = AuditEvent.objects.for_object(record).order_by("-seq").first()
    assert verified is not None and verified.action == "consent.verified"
    assert AuditEvent.objects.count() == events + 1  # the colleague's verification, nothing of the revocation
    stale = response.context["stale"]
    assert "This consent was changed by Jörg Bäcker at" in response.text
    assert stale.when == verified.created_at
    assert [change.label for change in stale.changes] == ["Verification"]
    assert response.context["record"].verified_at is not None  # the record as it is now
    assert response.context["revoke_form"]["reason"].value() == reason
    assert "Anruf der Tochter (030 1234567), 14:20" in response.text
    assert response.context["version"] == version_of(model=ConsentRecord, pk=record.pk)

    monkeypatch.setattr(consent_views, "consent_revoke", revoke)
    again = client.post(
        reverse("consent:record_revoke", args=[record.pk]),
        {
            "received_via": "phone",
            "reason": reason,
            "received_at": "",
            "version": response.context["version"],
            "confirm_irreversible": "yes",
        },
    )
    assert again.status_code == 302
    record.refresh_from_db()
    assert record.state == ConsentState.REVOKED


def test_reading_the_signed_form_does_not_make_a_form_stale(
    officer2: Any, officer: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject)
    client = client_for(officer2)
    detail = client.get(reverse("consent:record_detail", args=[record.pk]))
    seen = hidden_version(detail, reverse("consent:record_revoke", args=[record.pk]))
    assert client_for(officer).get(reverse("consent:document", args=[record.pk])).status_code == 200
    response = client.post(
        reverse("consent:record_revoke", args=[record.pk]),
        {"received_via": "letter", "version": seen, "confirm_irreversible": "yes"},
    )
    assert response.status_code == 302


def test_consent_services_check_the_version(officer2: Any, subject: Subject, record_factory: Any) -> None:
    record = record_factory(subject, verify=False)
    seen = version_of(model=ConsentRecord, pk=record.pk)
    consent_verify(record=record, actor=officer2, expected_version=seen)
    with pytest.raises(StaleVersion):
        consent_revoke(record=record, actor=officer2, received_via="letter", expected_version=seen)
    record.refresh_from_db()
    assert record.revoked_at is None
    consent_revoke(record=record, actor=officer2, received_via="letter", expected_version=None)  # internal callers
    record.refresh_from_db()
    assert record.revoked_at is not None
