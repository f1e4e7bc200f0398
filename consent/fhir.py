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
* ``dateTime`` is the day the form was signed (R4's dateTime allows a date), not the recording time.
* ``identifier`` is the form reference printed on the form (``ROUNDS_FHIR_BASE/consent-form``).
* ``policy`` names the laws the consent answers to (``ROUNDS_CONSENT_LEGAL_BASES``): HIPAA 45 CFR
  164.508, GDPR Art. 9(2)(a) with Art. 7, and KUG §22 for pictures; each entry carries the
  article as a ``consent-legal-basis`` extension. ``policyRule`` stays ``hipaa-auth`` while HIPAA
  applies (HL7's consentpolicycodes has no GDPR or KUG code).
* ``verification`` tells whether a second Consent officer checked the form against the record.
  R4 limits ``verifiedWith`` to Patient or RelatedPerson and has no ``verifiedBy`` (that element is
  R5's), so the officer travels in the ``consent-verified-by`` extension on the verification.
* The statements HIPAA 164.508(c)(2) requires on the form travel as ``consent-statement``
  extensions, one Coding per statement the form contains; ``consent-remunerated`` says whether
  the hospital is paid for the use (164.508(a)(4)).
* What may be shown (photo, name, story ...) is ``provision.class``, "the class of information
  covered"; ``provision.data`` needs references to concrete resources, which we do not have.
* Expiry events, revocation details and the listed platforms have no R4 element; they travel
  as extensions under ``ROUNDS_FHIR_BASE``.
* ``subject_bundle`` puts one person's Consent resources in a ``collection`` Bundle; each entry's
  ``fullUrl`` is a ``urn:uuid`` derived from the base and the form reference, so it is the same
  in every export.
"""

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from consent.models import (
    ConsentPlatform,
    ConsentPurpose,
    ConsentRecord,
    ConsentState,
    MediaKind,
    SignerRole,
    Subject,
)

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

# The legal bases a consent answers to, for Consent.policy: (authority, uri, [(code, display)]).
# The codes live in ROUNDS_FHIR_BASE/CodeSystem/legal-basis; ROUNDS_CONSENT_LEGAL_BASES picks the
# ones that apply at a hospital (default: all three).
LEGAL_BASES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "hipaa": (
        "https://www.hhs.gov/hipaa",
        "https://www.ecfr.gov/current/title-45/section-164.508",
        [("hipaa-164.508", "HIPAA 45 CFR 164.508: uses and disclosures for which an authorization is required")],
    ),
    "gdpr": (
        "https://eur-lex.europa.eu",
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        [
            ("gdpr-art-9-2-a", "GDPR Art. 9(2)(a): explicit consent to processing of health data"),
            ("gdpr-art-7", "GDPR Art. 7: conditions for consent, including withdrawal"),
        ],
    ),
    "kug": (
        "https://www.gesetze-im-internet.de",
        "https://www.gesetze-im-internet.de/kunsturhg/__22.html",
        [("kug-22", "KUG §22: pictures of a person only with their consent")],
    ),
}
DEFAULT_LEGAL_BASES = ("hipaa", "gdpr", "kug")
# KUG §22 is about pictures (Bildnisse): it applies to a consent that lets us show a photo or video.
PICTURE_KINDS = {MediaKind.PHOTO, MediaKind.VIDEO}

# HIPAA 164.508(c)(2): the statements a valid authorisation contains, as ConsentRecord fields.
STATEMENTS: list[tuple[str, str, str]] = [
    (
        "states_right_to_revoke",
        "right-to-revoke",
        "The individual may revoke the authorization in writing; how to revoke (164.508(c)(2)(i))",
    ),
    (
        "states_no_conditioning",
        "no-conditioning",
        "Treatment, payment, enrollment or eligibility do not depend on signing (164.508(c)(2)(ii))",
    ),
    (
        "states_redisclosure",
        "redisclosure",
        "Disclosed information may be redisclosed by the recipient and no longer protected (164.508(c)(2)(iii))",
    ),
    ("states_remuneration", "remuneration", "The hospital receives remuneration for this use (164.508(a)(4))"),
]


def fhir_base() -> str:
    return str(getattr(settings, "ROUNDS_FHIR_BASE", DEFAULT_FHIR_BASE)).rstrip("/")


def legal_bases() -> list[str]:
    """Return the configured legal bases (``ROUNDS_CONSENT_LEGAL_BASES``), refusing unknown names."""
    bases = list(getattr(settings, "ROUNDS_CONSENT_LEGAL_BASES", DEFAULT_LEGAL_BASES))
    unknown = sorted(set(bases) - set(LEGAL_BASES))
    if unknown or not bases:
        raise ImproperlyConfigured(
            f"ROUNDS_CONSENT_LEGAL_BASES must name one or more of {sorted(LEGAL_BASES)}; got {bases!r}"
        )
    return bases


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
    """Return the stored form's size and base64 SHA-1, or None if the file is missing or was removed
    (purged after its retention, or erased): an empty name would open the storage's folder."""
    if not record.document.name:
        return None
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


def _policy(record: ConsentRecord) -> list[dict[str, object]]:
    """Return Consent.policy: one entry per legal basis that applies, its articles in an extension."""
    policies: list[dict[str, object]] = []
    bases = legal_bases()
    if PICTURE_KINDS.isdisjoint(record.media_kinds) and bases != ["kug"]:
        # KUG §22 is about pictures; a KUG-only hospital still names it (ppc-1: a consent names its policy).
        bases = [basis for basis in bases if basis != "kug"]
    for basis in bases:
        authority, uri, articles = LEGAL_BASES[basis]
        concept = {"coding": [_coding(f"{fhir_base()}/CodeSystem/legal-basis", c, d) for c, d in articles]}
        policies.append(
            {
                "extension": [_extension("consent-legal-basis", valueCodeableConcept=concept)],
                "authority": authority,
                "uri": uri,
            }
        )
    return policies


def _staff_reference(user: AbstractBaseUser) -> dict[str, object]:
    """A staff member as a Reference: their user name as identifier, their name as display."""
    return {
        "type": "Practitioner",
        "identifier": {"system": f"{fhir_base()}/staff-user", "value": user.get_username()},
        "display": str(user),
    }


def _verification(record: ConsentRecord) -> list[dict[str, object]]:
    if record.verified_at is None:
        return [{"verified": False}]
    verification: dict[str, object] = {}
    if record.verified_by is not None:
        # R4 has no verifiedBy (R5 added it); verifiedWith is Patient|RelatedPerson only.
        verification["extension"] = [
            _extension("consent-verified-by", valueReference=_staff_reference(record.verified_by))
        ]
    verification.update({"verified": True, "verificationDate": _instant(record.verified_at)})
    return [verification]


def _statements(record: ConsentRecord) -> list[dict[str, object]]:
    """HIPAA 164.508(c)(2): one extension per statement the signed form contains."""
    system = f"{fhir_base()}/CodeSystem/consent-statement"
    extensions = [
        _extension("consent-statement", valueCoding=_coding(system, code, display))
        for field, code, display in STATEMENTS
        if getattr(record, field)
    ]
    extensions.append(_extension("consent-remunerated", valueBoolean=record.is_remunerated))
    return extensions


def _extensions(record: ConsentRecord) -> list[dict[str, object]]:
    extensions = _statements(record)
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
    resource["extension"] = _extensions(record)
    resource.update(
        {
            "identifier": [
                {"use": "official", "system": f"{fhir_base()}/consent-form", "value": record.form_reference}
            ],
            "status": STATUS[ConsentState(record.state_at(now))],
            "scope": {"coding": [_coding(SCOPE_SYSTEM, "patient-privacy", "Privacy Consent")]},
            "category": [{"coding": [_coding(LOINC, "59284-0", "Patient Consent")]}],
            "patient": {"type": "Patient", **_subject_identifier(record)},
            # The day the form was signed: R4's dateTime allows a date (recorded_at is in the audit trail).
            "dateTime": record.signed_on.isoformat(),
            "performer": _performer(record),
            "organization": [{"display": record.disclosing_organisation}],
            "sourceAttachment": _attachment(record, document_url),
            "policy": _policy(record),
            # ppc-1 needs policy or policyRule; HL7's policy codes know HIPAA, not GDPR or KUG.
            "policyRule": {"coding": [_coding(POLICY_SYSTEM, "hipaa-auth", "HIPAA Authorization")]},
            "verification": _verification(record),
            "provision": _provision(record),
        }
    )
    if "hipaa" not in legal_bases():
        del resource["policyRule"]
    if not resource["performer"]:
        del resource["performer"]
    return resource


def entry_full_url(record: ConsentRecord) -> str:
    """Return the record's Bundle entry fullUrl: a urn:uuid that is the same in every export."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{fhir_base()}/Consent/{record.form_reference}").urn


def subject_bundle(
    subject: Subject,
    *,
    now: dt.datetime | None = None,
    records: Iterable[ConsentRecord] | None = None,
    document_url: Callable[[ConsentRecord], str] | None = None,
) -> dict[str, object]:
    """Return one person's Consent resources as a FHIR R4 ``collection`` Bundle (a JSON-ready dict).

    ``records`` defaults to all of the subject's records (oldest signature first); callers pass
    the ones the reader may export. ``document_url(record)`` gives each signed form's URL.
    """
    now = now or timezone.now()
    if records is None:
        records = subject_records(subject)
    entries = [
        {
            "fullUrl": entry_full_url(record),
            "resource": consent_resource(record, now=now, document_url=document_url(record) if document_url else None),
        }
        for record in records
    ]
    bundle: dict[str, object] = {
        "resourceType": "Bundle",
        "identifier": {"system": f"{fhir_base()}/consent-bundle", "value": str(uuid.uuid4())},
        "type": "collection",
        "timestamp": _instant(now),
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def subject_records(subject: Subject) -> list[ConsentRecord]:
    """Return all of ``subject``'s consent records, oldest signature first, ready for export."""
    return list(
        ConsentRecord.objects.filter(subject=subject)
        .select_related("subject", "verified_by")
        .prefetch_related("signers")
        .order_by("signed_on", "pk")
    )
