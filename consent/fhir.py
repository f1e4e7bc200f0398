"""A consent record as an HL7 FHIR R4 ``Consent`` resource (https://hl7.org/fhir/R4/consent.html).

Mapping decisions (docs/consent.md explains them for readers outside the code):

* ``status`` from our derived state: pending verification -> ``draft`` (signed, but not to be
  acted on until a second officer verifies), active and expiring soon -> ``active``, expired and
  revoked -> ``inactive`` (the R4 value for a consent that was in force and has ended;
  ``rejected`` means a party declined it, which is not what a withdrawal is).
* ``patient`` names the person by the hospital's internal reference only, never by name: the
  export leaves the registry, and the reference is what a receiving record system matches on.
  The same applies to ``performer`` when the person signed themselves.
* ``sourceAttachment.hash`` is, as R4 requires, the base64 SHA-1 of the stored file, computed at
  export time; our own SHA-256 stays in the audit trail.
* ``verification`` tells whether a second Consent officer checked the form against the record.
  R4 limits ``verifiedWith`` to Patient or RelatedPerson, so the officer is not named there.
* What may be shown (photo, name, story ...) is ``provision.class``, "the class of information
  covered"; ``provision.data`` needs references to concrete resources, which we do not have.
* Expiry events, revocation details and the listed platforms have no R4 element; they travel
  as extensions under ``ROUNDS_FHIR_BASE``.
"""

import base64
import datetime as dt
import hashlib

from django.conf import settings
from django.utils import timezone

from consent.models import ConsentPlatform, ConsentPurpose, ConsentRecord, ConsentState, MediaKind, SignerRole

# Our own code systems and extensions live under this base; a hospital sets its own canonical URL.
DEFAULT_FHIR_BASE = "https://rounds.example.org/fhir"

STATUS = {
    ConsentState.PENDING: "draft",
    ConsentState.ACTIVE: "active",
    ConsentState.EXPIRING_SOON: "active",
    ConsentState.EXPIRED: "inactive",
    ConsentState.REVOKED: "inactive",
}

SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
POLICY_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"
ACTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PURPOSE_OF_USE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
LOINC = "http://loinc.org"

# Purposes with an HL7 PurposeOfUse code; the rest use our own code system (the binding is extensible).
PURPOSE_OF_USE = {ConsentPurpose.MARKETING: ("HMARKT", "healthcare marketing")}

RELATED_PERSON_ROLES = {SignerRole.GUARDIAN, SignerRole.REPRESENTATIVE, SignerRole.RELATIVE}


def fhir_base() -> str:
    return str(getattr(settings, "ROUNDS_FHIR_BASE", DEFAULT_FHIR_BASE)).rstrip("/")


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _instant(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _extension(name: str, **value: object) -> dict[str, object]:
    return {"url": f"{fhir_base()}/StructureDefinition/{name}", **value}


def _subject_identifier(record: ConsentRecord) -> dict[str, object]:
    return {
        "identifier": {"system": f"{fhir_base()}/subject-reference", "value": record.subject.reference},
        "display": record.subject.reference,
    }


def _performer(record: ConsentRecord) -> list[dict[str, object]]:
    performers: list[dict[str, object]] = []
    for signer in record.signers.all():
        if signer.role == SignerRole.SUBJECT:
            performers.append({"type": "Patient", **_subject_identifier(record)})
        else:
            role = str(SignerRole(signer.role).label)
            display = f"{signer.name} ({role}: {signer.authority})" if signer.authority else f"{signer.name} ({role})"
            performers.append({"type": "RelatedPerson", "display": display})
    return performers


def _document_digest(record: ConsentRecord) -> tuple[int, str] | None:
    """Return the stored form's size and base64 SHA-1, or None if the file is missing."""
    try:
        with record.document.storage.open(record.document.name, "rb") as handle:
            sha1 = hashlib.sha1(usedforsecurity=False)
            size = 0
            for chunk in iter(lambda: handle.read(65536), b""):
                sha1.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return None
    return size, base64.b64encode(sha1.digest()).decode("ascii")


def _attachment(record: ConsentRecord, document_url: str | None) -> dict[str, object]:
    attachment: dict[str, object] = {"contentType": record.document_type, "title": record.document_name}
    if document_url:
        attachment["url"] = document_url
    digest = _document_digest(record)
    if digest is not None:
        attachment["size"], attachment["hash"] = digest
    return attachment


def _purposes(record: ConsentRecord) -> list[dict[str, str]]:
    codings = []
    for purpose in record.purposes:
        if purpose in PURPOSE_OF_USE:
            code, display = PURPOSE_OF_USE[purpose]
            codings.append(_coding(PURPOSE_OF_USE_SYSTEM, code, display))
        else:
            label = str(ConsentPurpose(purpose).label) if purpose in ConsentPurpose.values else purpose
            codings.append(_coding(f"{fhir_base()}/CodeSystem/purpose", purpose, label))
    return codings


def _recipients_display(record: ConsentRecord) -> str:
    if record.all_platforms:
        where = "all platforms"
    else:
        where = ", ".join(str(ConsentPlatform(p).label) if p in ConsentPlatform.values else p for p in record.platforms)
    return f"{record.recipients} (via {where})" if where else record.recipients


def _provision(record: ConsentRecord) -> dict[str, object]:
    period: dict[str, str] = {"start": record.signed_on.isoformat()}
    if record.expires_on is not None:
        period["end"] = record.expires_on.isoformat()
    provision: dict[str, object] = {
        "type": "permit",
        "period": period,
        "actor": [
            {
                "role": {"coding": [_coding(PARTICIPATION_SYSTEM, "IRCP", "information recipient")]},
                "reference": {"display": _recipients_display(record)},
            }
        ],
        "action": [{"coding": [_coding(ACTION_SYSTEM, "disclose", "Disclose")]}],
        "class": [
            _coding(
                f"{fhir_base()}/CodeSystem/media-kind",
                kind,
                str(MediaKind(kind).label) if kind in MediaKind.values else kind,
            )
            for kind in record.media_kinds
        ],
    }
    purposes = _purposes(record)
    if purposes:
        provision["purpose"] = purposes
    return provision


def _extensions(record: ConsentRecord) -> list[dict[str, object]]:
    extensions = []
    if record.expiry_event:
        extensions.append(_extension("consent-expiry-event", valueString=record.expiry_event))
    if not record.all_platforms:
        extensions.extend(_extension("consent-platform", valueCode=platform) for platform in record.platforms)
    if record.revoked_at is not None:
        extensions.append(_extension("consent-revoked-at", valueDateTime=_instant(record.revoked_at)))
        extensions.append(_extension("consent-revocation-received-via", valueCode=record.revocation_received_via))
    return extensions


def consent_resource(
    record: ConsentRecord, *, now: dt.datetime | None = None, document_url: str | None = None
) -> dict[str, object]:
    """Return ``record`` as a FHIR R4 Consent resource (a JSON-ready dict), its status as of ``now``."""
    now = now or timezone.now()
    resource: dict[str, object] = {"resourceType": "Consent", "id": str(record.pk)}
    extensions = _extensions(record)
    if extensions:
        resource["extension"] = extensions
    resource.update(
        {
            "status": STATUS[ConsentState(record.state_at(now))],
            "scope": {"coding": [_coding(SCOPE_SYSTEM, "patient-privacy", "Privacy Consent")]},
            "category": [{"coding": [_coding(LOINC, "59284-0", "Patient Consent")]}],
            "patient": {"type": "Patient", **_subject_identifier(record)},
            "dateTime": _instant(record.recorded_at),
            "performer": _performer(record),
            "organization": [{"display": record.disclosing_organisation}],
            "sourceAttachment": _attachment(record, document_url),
            # ppc-1: a consent names the policy it follows; ours is a HIPAA authorisation.
            "policyRule": {"coding": [_coding(POLICY_SYSTEM, "hipaa-auth", "HIPAA Authorization")]},
            "verification": [
                {"verified": True, "verificationDate": _instant(record.verified_at)}
                if record.verified_at is not None
                else {"verified": False}
            ],
            "provision": _provision(record),
        }
    )
    if not resource["performer"]:
        del resource["performer"]
    return resource
