"""GET /consent/<id>/fhir.json: an HL7 FHIR R4 Consent resource, checked against the R4 element list;
GET /consent/people/<id>/fhir.json: a person's Consents as one R4 Bundle.

The element names and cardinalities below are copied from the R4 (4.0.1) definition of Consent,
https://hl7.org/fhir/R4/consent.html, and of the data types it uses. Every export is also parsed
by the ``fhir.resources`` R4B models (``r4``): R4B (4.3.0) left Consent and Bundle as they were in
R4 (the R4B change list touches neither), so its pydantic models are the R4 schema for them.
"""

import base64
import datetime as dt
import hashlib
import json
import re
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from pydantic import ValidationError

from audit.erasure import event_changes
from audit.models import AuditEvent
from consent import policy
from consent.fhir import consent_resource, entry_full_url, subject_bundle
from consent.services import SignerSpec, consent_revoke
from people import roles
from tests.conftest import make_user
from tests.consent.conftest import PDF_BYTES

pytestmark = pytest.mark.django_db

MANY = None  # upper cardinality "*"

# name: (min, max) for every element of Consent in R4 (plus resourceType, which JSON carries).
CONSENT_ELEMENTS: dict[str, tuple[int, int | None]] = {
    "resourceType": (1, 1),
    "id": (0, 1),
    "meta": (0, 1),
    "implicitRules": (0, 1),
    "language": (0, 1),
    "text": (0, 1),
    "contained": (0, MANY),
    "extension": (0, MANY),
    "modifierExtension": (0, MANY),
    "identifier": (0, MANY),
    "status": (1, 1),
    "scope": (1, 1),
    "category": (1, MANY),
    "patient": (0, 1),
    "dateTime": (0, 1),
    "performer": (0, MANY),
    "organization": (0, MANY),
    "sourceAttachment": (0, 1),
    "sourceReference": (0, 1),
    "policy": (0, MANY),
    "policyRule": (0, 1),
    "verification": (0, MANY),
    "provision": (0, 1),
}
VERIFICATION_ELEMENTS = {"id": (0, 1), "extension": (0, MANY), "modifierExtension": (0, MANY)} | {
    "verified": (1, 1),
    "verifiedWith": (0, 1),
    "verificationDate": (0, 1),
}
PROVISION_ELEMENTS = {
    "id": (0, 1),
    "extension": (0, MANY),
    "modifierExtension": (0, MANY),
    "type": (0, 1),
    "period": (0, 1),
    "actor": (0, MANY),
    "action": (0, MANY),
    "securityLabel": (0, MANY),
    "purpose": (0, MANY),
    "class": (0, MANY),
    "code": (0, MANY),
    "dataPeriod": (0, 1),
    "data": (0, MANY),
    "provision": (0, MANY),
}
POLICY_ELEMENTS = {"id": (0, 1), "extension": (0, MANY), "modifierExtension": (0, MANY)} | {
    "authority": (0, 1),
    "uri": (0, 1),
}
ACTOR_ELEMENTS = {"id": (0, 1), "extension": (0, MANY), "modifierExtension": (0, MANY)} | {
    "role": (1, 1),
    "reference": (1, 1),
}
ATTACHMENT_ELEMENTS = {
    "id": (0, 1),
    "extension": (0, MANY),
    "contentType": (0, 1),
    "language": (0, 1),
    "data": (0, 1),
    "url": (0, 1),
    "size": (0, 1),
    "hash": (0, 1),
    "title": (0, 1),
    "creation": (0, 1),
}
REFERENCE_ELEMENTS = {
    "id": (0, 1),
    "extension": (0, MANY),
    "reference": (0, 1),
    "type": (0, 1),
    "identifier": (0, 1),
    "display": (0, 1),
}
CODEABLE_CONCEPT_ELEMENTS = {"id": (0, 1), "extension": (0, MANY), "coding": (0, MANY), "text": (0, 1)}
CODING_ELEMENTS = {
    "id": (0, 1),
    "extension": (0, MANY),
    "system": (0, 1),
    "version": (0, 1),
    "code": (0, 1),
    "display": (0, 1),
    "userSelected": (0, 1),
}
PERIOD_ELEMENTS = {"id": (0, 1), "extension": (0, MANY), "start": (0, 1), "end": (0, 1)}
IDENTIFIER_ELEMENTS = {
    "id": (0, 1),
    "extension": (0, MANY),
    "use": (0, 1),
    "type": (0, 1),
    "system": (0, 1),
    "value": (0, 1),
    "period": (0, 1),
    "assigner": (0, 1),
}
CONSENT_STATUS = {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}
PROVISION_TYPE = {"deny", "permit"}
# R4 regular expressions for date and dateTime (https://hl7.org/fhir/R4/datatypes.html).
DATE = re.compile(
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$"
)
DATE_TIME = re.compile(
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
)


def check_elements(obj: dict[str, Any], allowed: dict[str, tuple[int, int | None]], where: str) -> None:
    """Fail on unknown elements, on cardinality violations and on empty values (R4 ele-1)."""
    assert isinstance(obj, dict), where
    unknown = set(obj) - set(allowed)
    assert not unknown, f"{where}: elements not in R4: {sorted(unknown)}"
    for name, (low, high) in allowed.items():
        value = obj.get(name)
        if value is None:
            assert low == 0, f"{where}.{name} is required"
            continue
        if high == 1:
            assert not isinstance(value, list), f"{where}.{name} is 0..1/1..1, not a list"
        else:
            assert isinstance(value, list), f"{where}.{name} is a list in JSON"
            assert len(value) >= max(low, 1), f"{where}.{name}: empty lists are not allowed"
        assert value not in ("", {}, []), f"{where}.{name} is empty"


def check_coding(coding: dict[str, Any], where: str) -> None:
    check_elements(coding, CODING_ELEMENTS, where)
    assert coding.get("system", "").startswith(("http://", "https://", "urn:")), f"{where}.system"
    assert coding.get("code"), f"{where}.code"
    assert not re.search(r"\s{2,}|^\s|\s$", coding["code"]), f"{where}.code has bad whitespace"


def check_concept(concept: dict[str, Any], where: str) -> None:
    check_elements(concept, CODEABLE_CONCEPT_ELEMENTS, where)
    assert concept.get("coding"), f"{where} has no coding"
    for n, coding in enumerate(concept["coding"]):
        check_coding(coding, f"{where}.coding[{n}]")


def check_reference(reference: dict[str, Any], where: str) -> None:
    check_elements(reference, REFERENCE_ELEMENTS, where)
    assert {"reference", "identifier", "display"} & set(reference), f"{where} points at nothing"
    if "identifier" in reference:
        check_elements(reference["identifier"], IDENTIFIER_ELEMENTS, f"{where}.identifier")


def check_extension(extension: dict[str, Any], where: str) -> None:
    assert extension.get("url", "").startswith(("http://", "https://")), f"{where}.url"
    values = [key for key in extension if key.startswith("value")]
    assert len(values) == 1, f"{where} needs exactly one value[x]"
    assert set(extension) <= {"id", "url", *values}


def validate_consent(resource: dict[str, Any]) -> None:
    """Check a Consent against the R4 structure, value sets used here and invariants ppc-1 and ppc-2."""
    check_elements(resource, CONSENT_ELEMENTS, "Consent")
    assert resource["resourceType"] == "Consent"
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource["id"])
    assert resource["status"] in CONSENT_STATUS
    check_concept(resource["scope"], "Consent.scope")
    for n, category in enumerate(resource["category"]):
        check_concept(category, f"Consent.category[{n}]")
    if "patient" in resource:
        check_reference(resource["patient"], "Consent.patient")
    assert DATE_TIME.match(resource["dateTime"]), resource["dateTime"]
    for n, performer in enumerate(resource.get("performer", [])):
        check_reference(performer, f"Consent.performer[{n}]")
    for n, organisation in enumerate(resource.get("organization", [])):
        check_reference(organisation, f"Consent.organization[{n}]")
    for n, extension in enumerate(resource.get("extension", [])):
        check_extension(extension, f"Consent.extension[{n}]")
    attachment = resource["sourceAttachment"]
    check_elements(attachment, ATTACHMENT_ELEMENTS, "Consent.sourceAttachment")
    if "hash" in attachment:
        assert len(base64.b64decode(attachment["hash"], validate=True)) == 20  # SHA-1, as R4 says
    if "size" in attachment:
        assert isinstance(attachment["size"], int) and attachment["size"] >= 0
    if "policyRule" in resource:
        check_concept(resource["policyRule"], "Consent.policyRule")
    for n, identifier in enumerate(resource.get("identifier", [])):
        check_elements(identifier, IDENTIFIER_ELEMENTS, f"Consent.identifier[{n}]")
    for n, basis in enumerate(resource.get("policy", [])):
        check_elements(basis, POLICY_ELEMENTS, f"Consent.policy[{n}]")
        assert basis.get("authority") or basis.get("uri"), f"Consent.policy[{n}] is empty"
        for key in ("authority", "uri"):
            assert basis.get(key, "https://").startswith("https://"), f"Consent.policy[{n}].{key}"
        for m, extension in enumerate(basis.get("extension", [])):
            check_extension(extension, f"Consent.policy[{n}].extension[{m}]")
    for n, verification in enumerate(resource.get("verification", [])):
        check_elements(verification, VERIFICATION_ELEMENTS, f"Consent.verification[{n}]")
        assert isinstance(verification["verified"], bool)
        for m, extension in enumerate(verification.get("extension", [])):
            check_extension(extension, f"Consent.verification[{n}].extension[{m}]")
        if "verificationDate" in verification:
            assert DATE_TIME.match(verification["verificationDate"])
    provision = resource["provision"]
    check_elements(provision, PROVISION_ELEMENTS, "Consent.provision")
    assert provision["type"] in PROVISION_TYPE
    check_elements(provision["period"], PERIOD_ELEMENTS, "Consent.provision.period")
    for bound in provision["period"].values():
        assert DATE_TIME.match(bound) and DATE.match(bound[:10])
    if "end" in provision["period"]:
        assert provision["period"]["start"] <= provision["period"]["end"]  # per-1
    for n, actor in enumerate(provision.get("actor", [])):
        check_elements(actor, ACTOR_ELEMENTS, f"Consent.provision.actor[{n}]")
        check_concept(actor["role"], f"Consent.provision.actor[{n}].role")
        check_reference(actor["reference"], f"Consent.provision.actor[{n}].reference")
    for n, action in enumerate(provision.get("action", [])):
        check_concept(action, f"Consent.provision.action[{n}]")
    for key in ("purpose", "class", "securityLabel"):
        for n, coding in enumerate(provision.get(key, [])):
            check_coding(coding, f"Consent.provision.{key}[{n}]")
    # ppc-1: either a policy or a policyRule.
    assert resource.get("policy") or resource.get("policyRule")
    # ppc-2: a privacy consent names its patient.
    scope_codes = {coding["code"] for coding in resource["scope"]["coding"]}
    if "patient-privacy" in scope_codes:
        assert resource.get("patient")
    r4(resource)


def r4(resource: dict[str, Any]) -> None:
    """Parse ``resource`` with the R4B pydantic models (unknown elements, types and invariants)."""
    model = {"Consent": Consent, "Bundle": Bundle}[resource["resourceType"]]
    assert model.model_config["extra"] == "forbid"  # an element R4 does not know is an error
    parsed = model.model_validate(resource)
    assert set(json.loads(parsed.model_dump_json(exclude_none=True))) == set(resource)


def extensions(obj: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [e for e in obj.get("extension", []) if e["url"].endswith(f"/StructureDefinition/{name}")]


def fetch(user: Any, record: Any) -> tuple[Any, dict[str, Any]]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("consent:fhir", args=[record.pk]))
    assert response.status_code == 200
    return response, json.loads(response.content)


def codes(concepts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(coding["system"], coding["code"]) for concept in concepts for coding in concept["coding"]]


def test_active_consent_exports_as_a_valid_r4_consent(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any
) -> None:
    subject = subject_factory(display_name="Anna Example", reference="CASE-9")
    record = record_factory(
        subject,
        media_kinds=["photo", "story"],
        all_platforms=False,
        platforms=["facebook", "instagram"],
        purposes=["education", "marketing"],
        disclosing_organisation="Rounds Hospital",
    )
    response, resource = fetch(officer, record)
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Cache-Control"] == "private, no-store"
    validate_consent(resource)

    assert resource["id"] == str(record.pk)
    assert resource["status"] == "active"
    assert codes([resource["scope"]]) == [("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")]
    assert codes(resource["category"]) == [("http://loinc.org", "59284-0")]
    # The patient is named by reference only, never by name.
    assert resource["patient"]["identifier"]["value"] == "CASE-9"
    assert "Anna" not in json.dumps(resource["patient"])
    # dateTime is the signing day, not the moment the officer recorded the form.
    assert resource["dateTime"] == record.signed_on.isoformat() != record.recorded_at.date().isoformat()
    assert resource["identifier"] == [
        {"use": "official", "system": "https://rounds.example.org/fhir/consent-form", "value": record.form_reference}
    ]
    assert re.fullmatch(r"RC-[0-9A-Z]{4}-[0-9A-Z]{4}", record.form_reference)
    assert resource["organization"] == [{"display": "Rounds Hospital"}]
    assert resource["verification"] == [
        {
            "extension": [
                {
                    "url": "https://rounds.example.org/fhir/StructureDefinition/consent-verified-by",
                    "valueReference": {
                        "type": "Practitioner",
                        "identifier": {"system": "https://rounds.example.org/fhir/staff-user", "value": "consent2"},
                        "display": str(officer2),
                    },
                }
            ],
            "verified": True,
            "verificationDate": record.verified_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        }
    ]
    # The legal bases: HIPAA, GDPR (Art. 9(2)(a) and 7) and, for a photo, KUG §22; policyRule stays.
    assert [(p["authority"], p["uri"]) for p in resource["policy"]] == [
        ("https://www.hhs.gov/hipaa", "https://www.ecfr.gov/current/title-45/section-164.508"),
        ("https://eur-lex.europa.eu", "https://eur-lex.europa.eu/eli/reg/2016/679/oj"),
        ("https://www.gesetze-im-internet.de", "https://www.gesetze-im-internet.de/kunsturhg/__22.html"),
    ]
    articles = [
        [c["code"] for c in extensions(p, "consent-legal-basis")[0]["valueCodeableConcept"]["coding"]]
        for p in resource["policy"]
    ]
    assert articles == [["hipaa-164.508"], ["gdpr-art-9-2-a", "gdpr-art-7"], ["kug-22"]]
    assert codes([resource["policyRule"]]) == [
        ("http://terminology.hl7.org/CodeSystem/consentpolicycodes", "hipaa-auth")
    ]
    # HIPAA 164.508(c)(2): the statements the form contains.
    statements = [e["valueCoding"]["code"] for e in extensions(resource, "consent-statement")]
    assert statements == ["right-to-revoke", "no-conditioning", "redisclosure"]
    assert [e["valueBoolean"] for e in extensions(resource, "consent-remunerated")] == [False]
    attachment = resource["sourceAttachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["title"] == "form.pdf"
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(PDF_BYTES).digest()).decode()
    assert attachment["size"] == len(PDF_BYTES)
    assert attachment["url"].endswith(reverse("consent:document", args=[record.pk]))

    provision = resource["provision"]
    assert provision["type"] == "permit"
    assert provision["period"] == {"start": record.signed_on.isoformat(), "end": record.expires_on.isoformat()}
    assert codes(provision["action"]) == [("http://terminology.hl7.org/CodeSystem/consentaction", "disclose")]
    assert "Facebook, Instagram" in provision["actor"][0]["reference"]["display"]
    assert [c["code"] for c in provision["class"]] == ["photo", "story"]
    purposes = {(c["system"], c["code"]) for c in provision["purpose"]}
    assert ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HMARKT") in purposes
    assert any(code == "education" for _system, code in purposes)
    platforms = [e["valueCode"] for e in resource["extension"] if e["url"].endswith("/consent-platform")]
    assert platforms == ["facebook", "instagram"]


def test_status_follows_the_consent_state(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any
) -> None:
    today = timezone.localdate()
    pending = record_factory(subject_factory(), verify=False)
    soon = record_factory(subject_factory(), expires_on=today + dt.timedelta(days=3))
    expired = record_factory(
        subject_factory(), signed_on=today - dt.timedelta(days=400), expires_on=today - dt.timedelta(days=1)
    )
    revoked = record_factory(subject_factory())
    consent_revoke(record=revoked, actor=officer2, received_via="letter", reason="moved away")
    expected = {pending: "draft", soon: "active", expired: "inactive", revoked: "inactive"}
    for record, status in expected.items():
        _response, resource = fetch(officer, record)
        validate_consent(resource)
        assert resource["status"] == status
    _response, pending_resource = fetch(officer, pending)
    assert pending_resource["verification"] == [{"verified": False}]
    _response, revoked_resource = fetch(officer, revoked)
    urls = {e["url"].rsplit("/", 1)[-1]: e for e in revoked_resource["extension"]}
    assert urls["consent-revocation-received-via"]["valueCode"] == "letter"
    assert DATE_TIME.match(urls["consent-revoked-at"]["valueDateTime"])


def test_expiry_event_minor_signers_and_all_platforms(officer: Any, subject_factory: Any, record_factory: Any) -> None:
    child = subject_factory(reference="KID-1", date_of_birth=timezone.localdate() - dt.timedelta(days=365 * 11))
    record = record_factory(
        child,
        expires_on=None,
        expiry_event="End of the children's ward campaign",
        signers=[SignerSpec("subject", "Ben"), SignerSpec("guardian", "Clara Parent", "mother")],
    )
    _response, resource = fetch(officer, record)
    validate_consent(resource)
    assert "end" not in resource["provision"]["period"]
    events = [e["valueString"] for e in resource["extension"] if e["url"].endswith("/consent-expiry-event")]
    assert events == ["End of the children's ward campaign"]
    assert not [e for e in resource["extension"] if e["url"].endswith("/consent-platform")]
    assert "all platforms" in resource["provision"]["actor"][0]["reference"]["display"]
    performers = resource["performer"]
    assert performers[0]["type"] == "Patient" and performers[0]["identifier"]["value"] == "KID-1"
    assert "Ben" not in json.dumps(performers[0])
    assert performers[1] == {"type": "RelatedPerson", "display": "Clara Parent (Parent or legal guardian: mother)"}


def test_missing_file_exports_without_hash(officer: Any, subject_factory: Any, record_factory: Any) -> None:
    record = record_factory(subject_factory())
    record.document.storage.delete(record.document.name)
    _response, resource = fetch(officer, record)
    validate_consent(resource)
    assert "hash" not in resource["sourceAttachment"]


def test_validator_rejects_what_r4_does_not_allow(officer: Any, subject_factory: Any, record_factory: Any) -> None:
    _response, resource = fetch(officer, record_factory(subject_factory()))
    for broken in (
        {**resource, "revokedAt": "2024-01-01"},
        {key: value for key, value in resource.items() if key != "status"},
        {**resource, "category": []},
        {**resource, "status": "revoked"},
        {**resource, "dateTime": "2024-01-01T10:00"},
        {key: value for key, value in resource.items() if key not in ("policy", "policyRule")},
        {**resource, "policy": [{"uri": "not a uri"}]},
        {**resource, "identifier": [{"system": "x", "value": "RC-1", "label": "form"}]},
        {**resource, "provision": {**resource["provision"], "type": "allow"}},
        {**resource, "scope": {"coding": [{"code": "patient-privacy"}]}},
    ):
        with pytest.raises(AssertionError):
            validate_consent(broken)


def test_export_is_refused_to_those_who_may_not_see_consent(
    viewer: Any, editor: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory())
    client = Client()
    client.force_login(viewer)
    assert client.get(reverse("consent:fhir", args=[record.pk])).status_code == 404
    # Issue 13: Editors link consent through the post editor's picker; the export (guardian names,
    # file names, revocation details) is the Consent officers'.
    client.force_login(editor)
    assert client.get(reverse("consent:fhir", args=[record.pk])).status_code == 404


def test_r4_models_reject_r5_elements_and_wrong_types(officer: Any, subject_factory: Any, record_factory: Any) -> None:
    """The R4 schema check is real: R5's verification.verifiedBy (why our verifier is an extension),
    a policy without its R4 shape or a text where a reference belongs are refused."""
    resource = consent_resource(record_factory(subject_factory()))
    r4(resource)
    officer_reference = extensions(resource["verification"][0], "consent-verified-by")[0]["valueReference"]
    for broken in (
        {**resource, "verification": [{"verified": True, "verifiedBy": officer_reference}]},
        {**resource, "policy": [{"uri": "https://example.org", "display": "GDPR"}]},
        {**resource, "patient": "CASE-1"},
        {**resource, "dateTime": "6 December 2026"},
        {**resource, "verification": [{"verificationDate": "2026-12-06"}]},
    ):
        with pytest.raises(ValidationError):
            Consent.model_validate(broken)


def test_deceased_person_with_relatives_and_remuneration(
    officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    today = timezone.localdate()
    subject = subject_factory(reference="MEM-1", deceased_on=today - dt.timedelta(days=30))
    record = record_factory(
        subject,
        signed_on=today - dt.timedelta(days=20),
        media_kinds=["quote", "story"],
        purposes=["marketing"],
        is_remunerated=True,
        states_remuneration=True,
        signers=[SignerSpec("relative", "Dora Widow", "spouse"), SignerSpec("relative", "Emil Son", "son")],
    )
    _response, resource = fetch(officer, record)
    validate_consent(resource)
    assert [p["display"] for p in resource["performer"]] == [
        "Dora Widow (Relative of a deceased person: spouse)",
        "Emil Son (Relative of a deceased person: son)",
    ]
    assert resource["dateTime"] == (today - dt.timedelta(days=20)).isoformat()
    statements = [e["valueCoding"]["code"] for e in extensions(resource, "consent-statement")]
    assert statements == ["right-to-revoke", "no-conditioning", "redisclosure", "remuneration"]
    assert [e["valueBoolean"] for e in extensions(resource, "consent-remunerated")] == [True]
    # No picture may be shown, so KUG §22 (a law about pictures) is not among the legal bases.
    assert [p["uri"] for p in resource["policy"]] == [
        "https://www.ecfr.gov/current/title-45/section-164.508",
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
    ]


def test_legal_bases_follow_the_setting(settings: Any, subject_factory: Any, record_factory: Any) -> None:
    record = record_factory(subject_factory(), media_kinds=["photo"])
    settings.ROUNDS_CONSENT_LEGAL_BASES = ["gdpr", "kug"]
    resource = consent_resource(record)
    validate_consent(resource)
    assert [p["uri"] for p in resource["policy"]] == [
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        "https://www.gesetze-im-internet.de/kunsturhg/__22.html",
    ]
    # Without HIPAA there is no HIPAA authorisation rule; policy alone satisfies ppc-1.
    assert "policyRule" not in resource
    settings.ROUNDS_CONSENT_LEGAL_BASES = ["hipaa"]
    resource = consent_resource(record)
    validate_consent(resource)
    assert [p["uri"] for p in resource["policy"]] == ["https://www.ecfr.gov/current/title-45/section-164.508"]
    assert "policyRule" in resource
    # A hospital naming only KUG names it even for a consent without pictures, so ppc-1 holds.
    settings.ROUNDS_CONSENT_LEGAL_BASES = ["kug"]
    quote_only = consent_resource(record_factory(subject_factory(), media_kinds=["quote"]))
    validate_consent(quote_only)
    assert [p["uri"] for p in quote_only["policy"]] == ["https://www.gesetze-im-internet.de/kunsturhg/__22.html"]
    for wrong in (["gdpr", "ccpa"], []):
        settings.ROUNDS_CONSENT_LEGAL_BASES = wrong
        with pytest.raises(ImproperlyConfigured, match="ROUNDS_CONSENT_LEGAL_BASES"):
            consent_resource(record)


def test_fhir_base_setting_names_our_systems(settings: Any, subject_factory: Any, record_factory: Any) -> None:
    settings.ROUNDS_FHIR_BASE = "https://fhir.klinikum-nord.example/"
    record = record_factory(subject_factory())
    resource = consent_resource(record)
    validate_consent(resource)
    assert resource["identifier"][0]["system"] == "https://fhir.klinikum-nord.example/consent-form"
    assert extensions(resource["verification"][0], "consent-verified-by")[0]["url"].startswith(
        "https://fhir.klinikum-nord.example/StructureDefinition/"
    )


def fetch_bundle(user: Any, subject: Any) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(reverse("consent:subject_fhir", args=[subject.pk]))


def test_subject_bundle_holds_all_of_a_persons_consents(
    officer: Any, officer2: Any, subject_factory: Any, record_factory: Any
) -> None:
    today = timezone.localdate()
    subject = subject_factory(reference="CASE-77", display_name="Fritz Example")
    child_consent = record_factory(
        subject,
        signed_on=today - dt.timedelta(days=300),
        signers=[SignerSpec("subject", "Fritz"), SignerSpec("guardian", "Gina Parent", "mother")],
    )
    current = record_factory(subject, signed_on=today - dt.timedelta(days=5))
    pending = record_factory(subject, verify=False, signed_on=today - dt.timedelta(days=1))
    consent_revoke(record=child_consent, actor=officer2, received_via="letter", reason="replaced")
    other = record_factory(subject_factory())
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    response = fetch_bundle(officer, subject)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Cache-Control"] == "private, no-store"
    bundle = json.loads(response.content)
    validate_bundle(bundle)
    assert bundle["type"] == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert [r["id"] for r in resources] == [str(child_consent.pk), str(current.pk), str(pending.pk)]
    assert [r["status"] for r in resources] == ["inactive", "active", "draft"]
    assert str(other.pk) not in {r["id"] for r in resources}
    assert {r["identifier"][0]["value"] for r in resources} == {
        child_consent.form_reference,
        current.form_reference,
        pending.form_reference,
    }
    assert "Fritz Example" not in response.content.decode()
    assert resources[1]["sourceAttachment"]["url"].endswith(reverse("consent:document", args=[current.pk]))
    # The same entry has the same fullUrl in every export.
    again = json.loads(fetch_bundle(officer, subject).content)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]
    assert bundle["entry"][0]["fullUrl"] == entry_full_url(child_consent)

    # Audited like the single export: one event per record, naming the bundle.
    events = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:3])
    assert [(e.action, e.object_id, e.changes["bundle_of_subject"]) for e in events] == [
        ("consent.fhir_exported", str(r.pk), subject.pk) for r in (child_consent, current, pending)
    ]
    assert {e.actor_id for e in events} == {officer.pk}


def test_subject_bundle_of_a_person_without_consent_is_empty(officer: Any, subject_factory: Any) -> None:
    subject = subject_factory()
    bundle = subject_bundle(subject, now=timezone.now())
    validate_bundle(bundle)
    assert "entry" not in bundle
    response = fetch_bundle(officer, subject)
    assert response.status_code == 200
    validate_bundle(json.loads(response.content))


def test_subject_bundle_is_refused_to_those_who_may_not_export(
    viewer: Any, editor: Any, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    subject = subject_factory()
    record_factory(subject)
    before = AuditEvent.objects.count()
    for user in (viewer, editor):
        assert fetch_bundle(user, subject).status_code == 404
    assert AuditEvent.objects.count() == before
    client = Client()
    client.force_login(officer)
    assert client.get(reverse("consent:subject_fhir", args=[999999])).status_code == 404


def test_person_page_links_the_bundle(officer: Any, subject_factory: Any) -> None:
    subject = subject_factory()
    client = Client()
    client.force_login(officer)
    page = client.get(reverse("consent:subject_detail", args=[subject.pk])).content.decode()
    assert f'href="{reverse("consent:subject_fhir", args=[subject.pk])}"' in page


def validate_bundle(bundle: dict[str, Any]) -> None:
    """A collection Bundle of Consents: R4 Bundle elements, each entry a valid Consent with a fullUrl."""
    assert set(bundle) <= {"resourceType", "id", "meta", "identifier", "type", "timestamp", "total", "entry"}
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert DATE_TIME.match(bundle["timestamp"]) and "T" in bundle["timestamp"]  # an instant
    check_elements(bundle["identifier"], IDENTIFIER_ELEMENTS, "Bundle.identifier")
    assert "total" not in bundle  # bdl-1: only for searchset and history
    full_urls = []
    for n, entry in enumerate(bundle.get("entry", [])):
        assert set(entry) == {"fullUrl", "resource"}, f"Bundle.entry[{n}]"
        assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", entry["fullUrl"])
        full_urls.append(entry["fullUrl"])
        validate_consent(entry["resource"])
    assert len(full_urls) == len(set(full_urls))  # bdl-7
    r4(bundle)


def test_a_reviewer_gets_only_the_consents_they_may_export(
    officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    subject = subject_factory()
    relied_on = record_factory(subject)
    record_factory(subject)  # another consent of the same person, no business of the reviewer's
    elsewhere = subject_factory()
    record_factory(elsewhere)
    reviewer = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    # The rule approvals registers: a reviewer deciding a post reads the consents it relies on.
    policy.document_access_register("test-reviewer", lambda user, rec: user.pk == reviewer.pk and rec == relied_on)
    try:
        client = Client()
        client.force_login(reviewer)
        response = client.get(reverse("consent:subject_fhir", args=[subject.pk]), headers={"X-Request-ID": "req-b-1"})
        assert response.status_code == 200
        bundle = json.loads(response.content)
        validate_bundle(bundle)
        assert [entry["resource"]["id"] for entry in bundle["entry"]] == [str(relied_on.pk)]
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.action, event.actor_id) == ("consent.fhir_exported", reviewer.pk)
        assert event.object_id == str(relied_on.pk)
        assert event_changes(event) == {"bundle_of_subject": subject.pk, "request_id": "req-b-1"}
        assert client.get(reverse("consent:subject_fhir", args=[elsewhere.pk])).status_code == 404
    finally:
        policy._document_rules.pop("test-reviewer")
