"""The consent registry pages: recording with a signed form, four-eyes verification, revocation,
search and filters, query counts, and who may fetch a signed form (and who may not)."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.erasure import Opener
from audit.models import AuditEvent
from audit.versions import version_of
from consent import policy
from consent.models import ConsentRecord, ConsentState, Subject
from consent.selectors import RegistryPanel, registry_panel_register
from consent.services import consent_revoke
from people import roles
from tests.conftest import make_user
from tests.consent.conftest import PDF_BYTES

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def upload(name: str = "signed form.pdf", content: bytes = PDF_BYTES, content_type: str = "application/pdf") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def opened(obj: Any) -> dict[str, int]:
    """Return the hidden ``version`` field of a form opened on ``obj`` now."""
    return {"version": version_of(model=type(obj), pk=obj.pk)}


def record_post(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "media_kinds": ["photo", "name", "story"],
        "description": "Photos on the ward, first name, her recovery story",
        "disclosing_organisation": "Rounds Hospital",
        "recipients": "The public, through the listed social media accounts",
        "platform_scope": "listed",
        "platforms": ["facebook", "instagram"],
        "purposes": ["education"],
        "signed_on": (today - dt.timedelta(days=2)).isoformat(),
        "expires_on": (today + dt.timedelta(days=365)).isoformat(),
        "expiry_event": "",
        "states_right_to_revoke": "on",
        "states_no_conditioning": "on",
        "states_redisclosure": "on",
        "signer1_role": "subject",
        "signer1_name": "Anna Example",
        "signer1_authority": "",
        "signer2_role": "",
        "signer2_name": "",
        "signer2_authority": "",
        "signer3_role": "",
        "signer3_name": "",
        "signer3_authority": "",
        "copy_given_how": "handed_over",
        "copy_given_on": (today - dt.timedelta(days=2)).isoformat(),
        "notes": "",
        "document": upload(),
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def private_files() -> list[Path]:
    return [path for path in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if path.is_file()]


@pytest.fixture
def subject(subject_factory: Any) -> Subject:
    return subject_factory(display_name="Anna Example", reference="CASE-0042")


# Who may open the registry ------------------------------------------------------------------


def test_editor_viewer_and_reviewer_get_403_on_every_registry_page(
    editor: Any, viewer: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject)
    reviewer = make_user("medical", roles.MEDICAL_REVIEWER)
    pages = [
        reverse("consent:registry"),
        reverse("consent:subject_create"),
        reverse("consent:subject_detail", args=[subject.pk]),
        reverse("consent:subject_edit", args=[subject.pk]),
        reverse("consent:record_create", args=[subject.pk]),
        reverse("consent:record_detail", args=[record.pk]),
    ]
    for user in (editor, viewer, reviewer):
        client = client_for(user)
        for url in pages:
            assert client.get(url).status_code == 403, (user.username, url)
        assert client.post(reverse("consent:record_verify", args=[record.pk])).status_code == 403
        revoke = client.post(
            reverse("consent:record_revoke", args=[record.pk]),
            {"received_via": "letter", "confirm_irreversible": "yes"},
        )
        assert revoke.status_code == 403
    record.refresh_from_db()
    assert record.revoked_at is None


def test_anonymous_visitors_are_sent_to_log_in(client: Client, subject: Subject, record_factory: Any) -> None:
    record = record_factory(subject)
    for url in (
        reverse("consent:registry"),
        reverse("consent:record_detail", args=[record.pk]),
        reverse("consent:document", args=[record.pk]),
        reverse("consent:fhir", args=[record.pk]),
        reverse("consent:subject_fhir", args=[subject.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_nav_shows_consent_to_officers_only(officer: Any, governance: Any, editor: Any) -> None:
    link = f'href="{reverse("consent:registry")}"'
    assert link in client_for(officer).get(reverse("consent:registry")).text
    assert client_for(governance).get(reverse("consent:registry")).status_code == 403
    assert link not in client_for(governance).get(reverse("posts:calendar")).text
    assert link not in client_for(editor).get(reverse("posts:calendar")).text


# Registering people and recording consent ---------------------------------------------------


def test_officer_registers_a_person(officer: Any) -> None:
    client = client_for(officer)
    page = client.get(reverse("consent:subject_create"))
    assert page.status_code == 200
    assert 'for="id_display_name"' in page.text
    response = client.post(
        reverse("consent:subject_create"),
        {"display_name": "  Ben Minor ", "reference": "CASE-7", "date_of_birth": "2014-03-01", "deceased_on": ""},
    )
    subject = Subject.objects.get(reference="CASE-7")
    assert response.status_code == 302
    assert response["Location"] == reverse("consent:subject_detail", args=[subject.pk])
    assert subject.display_name == "Ben Minor"
    assert subject.date_of_birth == dt.date(2014, 3, 1)
    assert subject.created_by == officer


def test_duplicate_reference_is_refused_with_a_message(officer: Any, subject: Subject) -> None:
    response = client_for(officer).post(
        reverse("consent:subject_create"), {"display_name": "Someone else", "reference": "CASE-0042"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reference"]
    assert Subject.objects.count() == 1


def test_officer_edits_a_person(officer: Any, subject: Subject) -> None:
    client = client_for(officer)
    assert client.get(reverse("consent:subject_edit", args=[subject.pk])).context["form"].initial["reference"] == (
        "CASE-0042"
    )
    response = client.post(
        reverse("consent:subject_edit", args=[subject.pk]),
        {"display_name": "Anna E.", "reference": "CASE-0042", "deceased_on": "2024-01-05", **opened(subject)},
    )
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.display_name == "Anna E."
    assert subject.deceased_on == dt.date(2024, 1, 5)


def test_record_form_offers_every_required_statement_with_its_legal_wording(officer: Any, subject: Subject) -> None:
    page = client_for(officer).get(reverse("consent:record_create", args=[subject.pk]))
    assert page.status_code == 200
    text = page.text
    assert "164.508(c)(2)(i)" in text and "164.508(c)(2)(ii)" in text and "164.508(c)(2)(iii)" in text
    assert 'enctype="multipart/form-data"' in text
    assert ">Record consent</button>" in text
    form = page.context["form"]
    assert form["disclosing_organisation"].value() == settings.ROUNDS_ORGANISATION_NAME
    # Every visible field has a label pointing at it (checkbox groups use a legend).
    for field in form.visible_fields():
        if not field.use_fieldset:
            assert f'for="{field.id_for_label}"' in text, field.name


def test_officer_records_consent_with_a_pdf_and_it_waits_for_verification(officer: Any, subject: Subject) -> None:
    client = client_for(officer)
    response = client.post(reverse("consent:record_create", args=[subject.pk]), record_post())
    record = ConsentRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("consent:record_detail", args=[record.pk])
    assert record.subject == subject
    assert record.recorded_by == officer
    assert record.state == ConsentState.PENDING
    assert record.media_kinds == ["photo", "name", "story"]
    assert record.platforms == ["facebook", "instagram"] and not record.all_platforms
    assert record.purposes == ["education"]
    assert record.document_name == "signed form.pdf"
    assert record.document_type == "application/pdf"
    assert [(s.role, s.name) for s in record.signers.all()] == [("subject", "Anna Example")]
    # Stored in private storage, not below the public media root.
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / record.document.name
    assert stored.read_bytes() == PDF_BYTES
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.pdf"))
    assert AuditEvent.objects.filter(action="consent.recorded", object_id=str(record.pk)).exists()


def test_all_platforms_and_an_expiry_event_are_stored(officer: Any, subject: Subject) -> None:
    client_for(officer).post(
        reverse("consent:record_create", args=[subject.pk]),
        record_post(platform_scope="all", platforms=None, expires_on="", expiry_event="End of the 2026 campaign"),
    )
    record = ConsentRecord.objects.get()
    assert record.all_platforms and record.platforms == []
    assert record.expires_on is None and record.expiry_event == "End of the 2026 campaign"


def test_minor_is_recorded_with_child_and_guardian(officer: Any, subject_factory: Any) -> None:
    child = subject_factory(display_name="Ben", date_of_birth=timezone.localdate() - dt.timedelta(days=365 * 12))
    client_for(officer).post(
        reverse("consent:record_create", args=[child.pk]),
        record_post(
            signer1_name="Ben",
            signer2_role="guardian",
            signer2_name="Clara Parent",
            signer2_authority="mother",
        ),
    )
    record = ConsentRecord.objects.get()
    assert [(s.role, s.name, s.authority) for s in record.signers.all()] == [
        ("subject", "Ben", ""),
        ("guardian", "Clara Parent", "mother"),
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"states_redisclosure": None}, "states_redisclosure"),
        ({"states_right_to_revoke": None}, "states_right_to_revoke"),
        ({"expires_on": "", "expiry_event": ""}, "expires_on"),
        ({"media_kinds": None}, "media_kinds"),
        ({"purposes": None}, "purposes"),
        ({"platforms": None}, "platforms"),
        ({"is_remunerated": "on"}, "states_remuneration"),
        ({"signer1_role": "guardian", "signer1_authority": ""}, "signer1_authority"),
        ({"signer1_name": ""}, "signer1_name"),
        ({"signer2_role": "relative"}, "signer2_name"),
        ({"signed_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()}, "signed_on"),
        ({"expires_on": "2000-01-01"}, "expires_on"),
        ({"document": None}, "document"),
        ({"document": upload("form.txt", b"just some text", "text/plain")}, "document"),
        ({"document": upload("broken.pdf", b"%PDF-1.4 no end marker", "application/pdf")}, "document"),
    ],
)
def test_bad_record_input_shows_a_clear_error_and_stores_nothing(
    officer: Any, subject: Subject, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(officer).post(reverse("consent:record_create", args=[subject.pk]), record_post(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert "Nothing was saved" in response.text
    assert ConsentRecord.objects.count() == 0
    assert private_files() == []


# Verification and revocation ----------------------------------------------------------------


def test_recorder_cannot_verify_and_a_second_officer_can(officer: Any, officer2: Any, subject: Subject) -> None:
    client_for(officer).post(reverse("consent:record_create", args=[subject.pk]), record_post())
    record = ConsentRecord.objects.get()
    detail = reverse("consent:record_detail", args=[record.pk])
    verify = reverse("consent:record_verify", args=[record.pk])

    own_page = client_for(officer).get(detail)
    assert own_page.status_code == 200
    assert ">Verify</button>" not in own_page.text
    assert "another Consent officer must verify" in own_page.text
    assert client_for(officer).post(verify, opened(record)).status_code == 403
    record.refresh_from_db()
    assert record.verified_at is None

    second = client_for(officer2)
    page = second.get(detail)
    assert ">Verify</button>" in page.text
    assert 'data-consent-state="pending"' in page.text
    response = second.post(verify, opened(record))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.verified_by == officer2
    assert record.state == ConsentState.ACTIVE
    after = second.get(detail)
    assert 'data-consent-state="active"' in after.text
    assert ">Verify</button>" not in after.text
    # Verifying twice is refused, politely.
    assert second.post(verify, opened(record)).status_code == 403


def test_verify_and_revoke_only_accept_post(officer2: Any, subject: Subject, record_factory: Any) -> None:
    record = record_factory(subject, verify=False)
    client = client_for(officer2)
    assert client.get(reverse("consent:record_verify", args=[record.pk])).status_code == 405
    assert client.get(reverse("consent:record_revoke", args=[record.pk])).status_code == 405


def test_officer_revokes_consent_with_how_and_why(officer2: Any, subject: Subject, record_factory: Any) -> None:
    record = record_factory(subject)
    client = client_for(officer2)
    page = client.get(reverse("consent:record_detail", args=[record.pk]))
    assert ">Revoke consent</button>" in page.text
    response = client.post(
        reverse("consent:record_revoke", args=[record.pk]),
        {
            "received_via": "email",
            "reason": "Changed her mind",
            "received_at": "",
            **opened(record),
            "confirm_irreversible": "yes",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == ConsentState.REVOKED
    assert record.revoked_by == officer2
    assert record.revocation_received_via == "email"
    assert record.revocation_reason == "Changed her mind"
    after = client.get(reverse("consent:record_detail", args=[record.pk]))
    assert 'data-consent-state="revoked"' in after.text
    assert ">Revoke consent</button>" not in after.text
    assert "Changed her mind" in after.text


def test_revocation_received_earlier_is_stored_in_the_users_zone(
    officer2: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject)
    yesterday = timezone.localtime(timezone.now() - dt.timedelta(days=1)).replace(hour=9, minute=30)
    client_for(officer2).post(
        reverse("consent:record_revoke", args=[record.pk]),
        {
            "received_via": "letter",
            "received_at": yesterday.strftime("%Y-%m-%dT%H:%M"),
            **opened(record),
            "confirm_irreversible": "yes",
        },
    )
    record.refresh_from_db()
    assert record.revoked_at == yesterday.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    "data",
    [
        {"received_via": "", "reason": "x"},
        {"received_via": "pigeon"},
        {"received_via": "letter", "received_at": "2999-01-01T10:00"},
    ],
)
def test_bad_revocation_is_refused_and_nothing_changes(
    officer2: Any, subject: Subject, record_factory: Any, data: dict[str, str]
) -> None:
    record = record_factory(subject)
    response = client_for(officer2).post(
        reverse("consent:record_revoke", args=[record.pk]), {**data, **opened(record), "confirm_irreversible": "yes"}
    )
    assert response.status_code == 400
    assert response.context["revoke_form"].errors
    record.refresh_from_db()
    assert record.revoked_at is None


# Search, filters and query counts -----------------------------------------------------------


@pytest.fixture
def mixed_registry(subject_factory: Any, record_factory: Any, officer2: Any) -> dict[str, ConsentRecord]:
    today = timezone.localdate()
    records = {
        "pending": record_factory(subject_factory(display_name="Paula Pending", reference="P-1"), verify=False),
        "active": record_factory(subject_factory(display_name="Arno Active", reference="A-1")),
        "expiring_soon": record_factory(
            subject_factory(display_name="Eva Soon", reference="E-1"), expires_on=today + dt.timedelta(days=10)
        ),
        "expired": record_factory(
            subject_factory(display_name="Otto Old", reference="O-1"),
            signed_on=today - dt.timedelta(days=400),
            expires_on=today - dt.timedelta(days=5),
        ),
        "revoked": record_factory(subject_factory(display_name="Rita Revoked", reference="R-1")),
    }
    consent_revoke(record=records["revoked"], actor=officer2, received_via="letter")
    return records


def listed_subjects(response: Any) -> list[str]:
    assert response.status_code == 200
    return [row["subject"].reference for row in response.context["rows"]]


@pytest.mark.parametrize("state", ["pending", "active", "expiring_soon", "expired", "revoked"])
def test_state_filter_lists_only_records_in_that_state(
    officer: Any, mixed_registry: dict[str, ConsentRecord], state: str
) -> None:
    response = client_for(officer).get(reverse("consent:registry"), {"state": state})
    rows = response.context["rows"]
    assert [row["subject"].pk for row in rows] == [mixed_registry[state].subject_id]
    assert [record.pk for record, _state in rows[0]["records"]] == [mixed_registry[state].pk]
    assert f'data-consent-state="{state}"' in response.text
    counts = {value: count for value, _label, count in response.context["state_filters"]}
    assert counts == {"pending": 1, "active": 1, "expiring_soon": 1, "expired": 1, "revoked": 1}


def test_expiring_soon_quick_filter_is_a_link(officer: Any, mixed_registry: dict[str, ConsentRecord]) -> None:
    page = client_for(officer).get(reverse("consent:registry"))
    assert 'href="?state=expiring_soon"' in page.text
    assert sorted(listed_subjects(page)) == ["A-1", "E-1", "O-1", "P-1", "R-1"]


def test_search_by_name_or_reference(officer: Any, mixed_registry: dict[str, ConsentRecord]) -> None:
    client = client_for(officer)
    assert listed_subjects(client.get(reverse("consent:registry"), {"q": "eva"})) == ["E-1"]
    assert listed_subjects(client.get(reverse("consent:registry"), {"q": "r-1"})) == ["R-1"]
    assert listed_subjects(client.get(reverse("consent:registry"), {"q": "paula", "state": "revoked"})) == []
    assert listed_subjects(client.get(reverse("consent:registry"), {"q": "rita", "state": "revoked"})) == ["R-1"]
    assert "Nobody matches" in client.get(reverse("consent:registry"), {"q": "zzz"}).text


def test_unknown_state_is_ignored_not_an_error(officer: Any, mixed_registry: dict[str, ConsentRecord]) -> None:
    assert len(listed_subjects(client_for(officer).get(reverse("consent:registry"), {"state": "bogus"}))) == 5


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_registry_query_count_does_not_grow_with_records(
    officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    client = client_for(officer)
    record_factory(subject_factory())
    url = reverse("consent:registry")
    one = (_queries(client, url), _queries(client, url, {"state": "active"}), _queries(client, url, {"q": "Pat"}))
    for _ in range(49):
        record_factory(subject_factory())
    many = (_queries(client, url), _queries(client, url, {"state": "active"}), _queries(client, url, {"q": "Pat"}))
    assert one == many
    assert len(client.get(url).context["rows"]) == 50


def test_subject_page_query_count_does_not_grow_with_records(
    officer: Any, subject: Subject, record_factory: Any
) -> None:
    client = client_for(officer)
    record_factory(subject)
    url = reverse("consent:subject_detail", args=[subject.pk])
    one = _queries(client, url)
    for _ in range(49):
        record_factory(subject)
    assert _queries(client, url) == one
    assert len(client.get(url).context["records"]) == 50


def test_subject_page_shows_records_signers_and_the_posts_hook(
    officer: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject, verify=False)
    seen: list[Any] = []

    def provider(user: Any, subject: Subject, records: Any) -> RegistryPanel:
        seen.append((user, subject, list(records)))
        items = [{"url": "/posts/1/", "label": "HOOKED post", "note": "scheduled"}]
        return RegistryPanel(template_name="consent/_panel_links.html", context={"title": "Posts", "items": items})

    registry_panel_register("test-hook", provider)
    try:
        page = client_for(officer).get(reverse("consent:subject_detail", args=[subject.pk]))
    finally:
        from consent import selectors

        selectors._panel_providers.pop("test-hook")
    assert page.status_code == 200
    assert seen == [(officer, subject, [record])]
    assert "data-registry-panels" in page.text
    assert '<a href="/posts/1/">HOOKED post</a>' in page.text
    assert 'data-consent-state="pending"' in page.text
    assert "Anna Example" in page.text and "The person themselves" in page.text
    assert ">Record consent</a>" in page.text


def test_record_page_warns_when_a_minors_guardian_is_missing(
    officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    from consent.services import SignerSpec

    child = subject_factory(date_of_birth=timezone.localdate() - dt.timedelta(days=365 * 10))
    record = record_factory(child, signers=[SignerSpec("subject", "Kid")])
    page = client_for(officer).get(reverse("consent:record_detail", args=[record.pk]))
    assert "must be signed by a parent or guardian" in page.text


# Signed forms: who may download them --------------------------------------------------------


def test_officer_downloads_the_signed_form_as_a_private_attachment_and_it_is_audited(
    officer: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject)
    response = client_for(officer).get(reverse("consent:document", args=[record.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="form.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    events = AuditEvent.objects.filter(action="consent.document_viewed", object_id=str(record.pk))
    assert [event.actor for event in events] == [officer]


def test_document_access_matrix(
    officer: Any, governance: Any, editor: Any, viewer: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject)
    reviewer = make_user("legal", roles.LEGAL_REVIEWER)
    url = reverse("consent:document", args=[record.pk])
    # Issue 13: neither Governance nor an Editor reads a signed form (nor learns the record exists).
    expected = {officer: 200, governance: 404, editor: 404, viewer: 404, reviewer: 404}
    for user, status in expected.items():
        assert client_for(user).get(url).status_code == status, user.username
    # Only the successful download was audited.
    viewed = AuditEvent.objects.filter(action="consent.document_viewed", object_id=str(record.pk))
    assert sorted(event.actor.username for event in viewed) == ["consent"]


def test_each_document_download_and_fhir_export_is_one_audit_event_with_actor_record_and_request_id(
    officer: Any, officer2: Any, subject: Subject, record_factory: Any
) -> None:
    governance = officer2  # a second officer (Governance exported before issue 13)
    record = record_factory(subject)
    other = record_factory(subject)
    before = AuditEvent.objects.count()
    officer_client, governance_client = client_for(officer), client_for(governance)

    document = officer_client.get(reverse("consent:document", args=[record.pk]), headers={"X-Request-ID": "req-doc-1"})
    exported = governance_client.get(reverse("consent:fhir", args=[record.pk]), headers={"X-Request-ID": "req-fhir-2"})
    officer_client.get(reverse("consent:fhir", args=[other.pk]), headers={"X-Request-ID": "req-fhir-3"})

    assert (document.status_code, exported.status_code) == (200, 200)
    new = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    opened = Opener()  # the record's name is sealed in each event (docs/erasure.md)
    assert [(e.action, e.actor, e.object_type, e.object_id, opened.changes(e)) for e in new] == [
        ("consent.document_viewed", officer, "consent.consentrecord", str(record.pk), {"request_id": "req-doc-1"}),
        ("consent.fhir_exported", governance, "consent.consentrecord", str(record.pk), {"request_id": "req-fhir-2"}),
        ("consent.fhir_exported", officer, "consent.consentrecord", str(other.pk), {"request_id": "req-fhir-3"}),
    ]
    # Reading is not a change: a form opened before the export is not stale after it.
    assert version_of(model=ConsentRecord, pk=record.pk) < new[1].seq


def test_a_refused_fhir_export_writes_no_audit_event(viewer: Any, subject: Subject, record_factory: Any) -> None:
    record = record_factory(subject)
    before = AuditEvent.objects.count()

    assert client_for(viewer).get(reverse("consent:fhir", args=[record.pk])).status_code == 404
    assert AuditEvent.objects.count() == before


def test_a_rule_registered_by_posts_lets_a_reviewer_read_the_form(
    subject: Subject, record_factory: Any, viewer: Any
) -> None:
    record = record_factory(subject)
    reviewer = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    policy.document_access_register("test-reviewer", lambda user, rec: user.pk == reviewer.pk and rec.pk == record.pk)
    try:
        assert client_for(reviewer).get(reverse("consent:document", args=[record.pk])).status_code == 200
        assert client_for(viewer).get(reverse("consent:document", args=[record.pk])).status_code == 404
    finally:
        policy._document_rules.pop("test-reviewer")


def test_guessing_ids_reveals_nothing(officer: Any, viewer: Any, subject: Subject, record_factory: Any) -> None:
    record = record_factory(subject)
    missing = record.pk + 1000
    outsider = client_for(viewer)
    # The same answer whether the record exists or not.
    assert outsider.get(reverse("consent:document", args=[record.pk])).status_code == 404
    assert outsider.get(reverse("consent:document", args=[missing])).status_code == 404
    assert outsider.get(reverse("consent:fhir", args=[record.pk])).status_code == 404
    assert outsider.get(reverse("consent:fhir", args=[missing])).status_code == 404
    assert client_for(officer).get(reverse("consent:document", args=[missing])).status_code == 404
    assert client_for(officer).get(f"/consent/{record.pk}/document/../../").status_code == 404


def test_signed_form_is_not_reachable_through_the_media_url(
    officer: Any, governance: Any, subject: Subject, record_factory: Any
) -> None:
    record = record_factory(subject)
    name = record.document.name
    assert (Path(settings.PRIVATE_MEDIA_ROOT) / name).is_file()
    assert not (Path(settings.MEDIA_ROOT) / name).exists()
    for user in (officer, governance):
        client = client_for(user)
        assert client.get(f"/{settings.MEDIA_URL}{name}").status_code == 404
        assert client.get(f"/{settings.MEDIA_URL}../private/{name}").status_code == 404
    with pytest.raises(ValueError, match="no URL"):
        record.document.url  # noqa: B018


def test_consent_schedules_are_declared_and_run_without_arguments(subject: Subject, record_factory: Any) -> None:
    from django.utils.module_loading import import_string

    from calendar_project.schedules import SCHEDULES

    assert SCHEDULES["consent-expiries"] == ("consent.services.consent_expiries_process", 60)
    assert SCHEDULES["consent-expiry-reminders"] == ("consent.services.consent_expiry_reminders_send", 60 * 24)
    record_factory(subject, expires_on=timezone.localdate() + dt.timedelta(days=5))
    assert import_string(SCHEDULES["consent-expiries"][0])() == 0
    assert import_string(SCHEDULES["consent-expiry-reminders"][0])() == 1
