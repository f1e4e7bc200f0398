"""The admin for subjects and consent records: a staff Consent officer's, readable, verifiable through the
policy, never edited; Governance has no consent pages there (issue 13)."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from consent.models import ConsentRecord, ConsentState, Subject
from consent.services import SignerSpec, consent_record_create
from people import roles
from tests.conftest import make_user
from tests.consent.conftest import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def governance(db: None) -> Any:
    """The consent office's admin user (the tests' name predates issue 13, when Governance held consent)."""
    return make_user("consent_admin", roles.CONSENT_OFFICER, is_staff=True)


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_governance_without_the_consent_role_has_no_consent_admin(subject_factory: Any, record_factory: Any) -> None:
    board = make_user("board", roles.GOVERNANCE, is_staff=True)
    record = record_factory(subject_factory(display_name="Anna", reference="CASE-1"))
    client = admin_client(board)
    for url in (
        reverse("admin:consent_subject_changelist"),
        reverse("admin:consent_consentrecord_changelist"),
        reverse("admin:consent_consentrecord_change", args=[record.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("consent:document", args=[record.pk])).status_code == 404
    assert client.get(reverse("consent:fhir", args=[record.pk])).status_code == 404


def test_a_staff_consent_officer_opens_the_changelists_and_a_read_only_record(
    governance: Any, subject_factory: Any, record_factory: Any
) -> None:
    assert not governance.is_superuser
    record = record_factory(subject_factory(display_name="Anna", reference="CASE-1"))
    client = admin_client(governance)
    for url in (
        reverse("admin:consent_subject_changelist"),
        reverse("admin:consent_consentrecord_changelist"),
        reverse("admin:consent_subject_change", args=[record.subject_id]),
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("admin:consent_consentrecord_change", args=[record.pk]))
    assert page.status_code == 200
    assert "CASE-1" in page.text
    assert reverse("consent:document", args=[record.pk]) in page.text
    assert reverse("consent:record_detail", args=[record.pk]) in page.text
    assert 'name="media_kinds"' not in page.text  # nothing editable
    assert "The person themselves" in page.text  # the signer inline


def test_records_cannot_be_added_changed_or_deleted_in_the_admin(
    governance: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory())
    client = admin_client(governance)
    assert client.get(reverse("admin:consent_consentrecord_add")).status_code == 403
    assert client.get(reverse("admin:consent_consentrecord_delete", args=[record.pk])).status_code == 403
    response = client.post(
        reverse("admin:consent_consentrecord_change", args=[record.pk]), {"purposes": '["marketing"]'}
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.purposes == ["education"]


def test_consent_officer_without_staff_status_has_no_admin(officer: Any) -> None:
    response = admin_client(officer).get(reverse("admin:consent_consentrecord_changelist"))
    assert response.status_code == 302


def test_state_filter_in_the_changelist(governance: Any, subject_factory: Any, record_factory: Any) -> None:
    pending = record_factory(subject_factory(), verify=False)
    record_factory(subject_factory())
    response = admin_client(governance).get(reverse("admin:consent_consentrecord_changelist"), {"state": "pending"})
    assert [row.pk for row in response.context["cl"].result_list] == [pending.pk]


def test_verify_action_uses_the_service_and_the_policy(
    governance: Any, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    by_officer = record_factory(subject_factory(), verify=False)
    by_governance = consent_record_create(
        actor=governance,
        subject=subject_factory(),
        data={
            "media_kinds": ["photo"],
            "description": "Foto vom Infotag",
            "copy_given_on": by_officer.signed_on,
            "copy_given_how": "post",
            "disclosing_organisation": "Rounds Hospital",
            "all_platforms": True,
            "purposes": ["education"],
            "signed_on": by_officer.signed_on,
            "expires_on": by_officer.expires_on,
            "states_right_to_revoke": True,
            "states_no_conditioning": True,
            "states_redisclosure": True,
        },
        signers=[SignerSpec("subject", "Someone")],
        document=pdf(),
        document_name="g.pdf",
    )
    response = admin_client(governance).post(
        reverse("admin:consent_consentrecord_changelist"),
        {"action": "verify", "_selected_action": [by_officer.pk, by_governance.pk]},
    )
    assert response.status_code == 302
    by_officer.refresh_from_db()
    by_governance.refresh_from_db()
    assert by_officer.state == ConsentState.ACTIVE and by_officer.verified_by == governance
    # Four eyes: whoever recorded a consent never verifies it, in the admin too.
    assert by_governance.state == ConsentState.PENDING
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("1 consent verified" in text for text in texts)
    assert any("Not verified" in text for text in texts)
    assert AuditEvent.objects.filter(action="consent.verified", object_id=str(by_officer.pk)).count() == 1


def test_subject_added_in_the_admin_goes_through_the_service(governance: Any) -> None:
    response = admin_client(governance).post(
        reverse("admin:consent_subject_add"), {"display_name": " Dora ", "reference": "CASE-77"}
    )
    assert response.status_code == 302
    subject = Subject.objects.get(reference="CASE-77")
    assert subject.display_name == "Dora"
    assert subject.created_by == governance
    assert AuditEvent.objects.filter(action="subject.created", object_id=str(subject.pk)).exists()
    assert admin_client(governance).get(reverse("admin:consent_subject_delete", args=[subject.pk])).status_code == 403


def test_record_changelist_query_count_does_not_grow(
    governance: Any, subject_factory: Any, record_factory: Any
) -> None:
    client = admin_client(governance)
    url = reverse("admin:consent_consentrecord_changelist")
    record_factory(subject_factory())

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for _ in range(20):
        record_factory(subject_factory())
    assert count() == one
    assert ConsentRecord.objects.count() == 21
