"""A post's record as an HL7 FHIR R4 ``Bundle`` of type ``collection``.

It holds the ``Consent`` resources the post relied on (`consent.fhir.consent_resource`) and one
``Provenance`` per review decision and per publication:

* ``target``: the post revision (a decision) or the publication, as a logical reference (an
  identifier under ``ROUNDS_FHIR_BASE``): they are not FHIR resources of their own;
* ``recorded``: when the decision was signed, or when the platform confirmed the publication;
* ``agent``: the reviewer (type ``attester``, role = the stage's group) or the platform account
  (type ``performer``), with who pressed the button where known;
* ``activity``: our own code (approve, request_changes, reject, publish) under ``ROUNDS_FHIR_BASE``;
* ``entity``: the Consent resources the post relied on (role ``source``).

``collection`` rather than ``document``: a document needs a ``Composition`` as its first entry and
is itself attested; the signed manifest already attests the pack.
"""

import datetime as dt
import uuid
from typing import Any

from consent.fhir import consent_resource, fhir_base
from consent.models import ConsentRecord
from evidence.facts import Facts

PROVENANCE_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
# Stable ids in a bundle: the same post gives the same full URLs in every pack.
_NAMESPACE = uuid.UUID("6f1c8a52-5a0e-4d8e-9a3b-7c4f0e2d1b90")


def _urn(kind: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}:{key}')}"


def _identifier(kind: str, value: object) -> dict[str, str]:
    return {"system": f"{fhir_base()}/{kind}", "value": str(value)}


def _activity(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": f"{fhir_base()}/CodeSystem/evidence-activity", "code": code, "display": display}]}


def _agent_type(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": PROVENANCE_TYPE, "code": code, "display": display}]}


VERDICT_DISPLAY: dict[str, str] = {"approve": "Approve", "request_changes": "Request changes", "reject": "Reject"}


def _decision_provenance(post_id: int, decision: Facts, consent_entities: list[dict[str, Any]]) -> dict[str, Any]:
    reviewer = decision["reviewer"] or {}
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": f"decision-{decision['id']}",
        "target": [
            {
                "identifier": _identifier("post-revision", f"{post_id}/{decision['revision']}"),
                "display": f"post {post_id} revision {decision['revision']} (SHA-256 {decision['content_hash']})",
            }
        ],
        "recorded": decision["created_at"],
        "activity": _activity(decision["verdict"], VERDICT_DISPLAY.get(decision["verdict"]) or decision["verdict"]),
        "agent": [
            {
                "type": _agent_type("attester", "Attester"),
                "role": [{"text": f"{decision['signer_role']} · {decision['stage']}"}],
                "who": {
                    "identifier": _identifier("user", reviewer.get("username", "")),
                    "display": decision["signer_name"],
                },
            }
        ],
    }
    if decision["comment"]:
        resource["reason"] = [{"text": decision["comment"]}]
    if consent_entities:
        resource["entity"] = consent_entities
    return resource


def _publication_provenance(post_id: int, publication: Facts, consent_entities: list[dict[str, Any]]) -> dict[str, Any]:
    account = publication["account"]
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": f"publication-{publication['id']}",
        "target": [
            {
                "identifier": _identifier("publication", publication["id"]),
                "display": f"post {post_id} on {account['platform']} @{account['handle'].lstrip('@')}",
            }
        ],
        "recorded": publication["published_at"],
        "activity": _activity("publish", "Publish"),
        "agent": [
            {
                "type": _agent_type("performer", "Performer"),
                "who": {
                    "identifier": _identifier(f"account/{account['platform']}", account["handle"]),
                    "display": account["name"],
                },
            }
        ],
    }
    if publication["url"]:
        resource["target"][0]["display"] += f" {publication['url']}"
    if consent_entities:
        resource["entity"] = consent_entities
    return resource


def fhir_bundle(*, facts: Facts, consents: list[ConsentRecord], now: dt.datetime) -> dict[str, Any]:
    """Return the FHIR R4 ``Bundle`` (type collection) of one post's consents and provenance."""
    post_id = facts["post"]["id"]
    now_iso = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    entries: list[dict[str, Any]] = []
    consent_entities = []
    for record in consents:
        url = _urn("consent", record.pk)
        entries.append({"fullUrl": url, "resource": consent_resource(record, now=now)})
        consent_entities.append({"role": "source", "what": {"reference": url, "display": f"Consent {record.pk}"}})
    for round_ in facts["rounds"]:
        for decision in round_["decisions"]:
            resource = _decision_provenance(post_id, decision, consent_entities)
            entries.append({"fullUrl": _urn("decision", decision["id"]), "resource": resource})
    for publication in facts["publications"]:
        if not publication["published_at"]:
            continue  # nothing went out: no provenance of a publication
        resource = _publication_provenance(post_id, publication, consent_entities)
        entries.append({"fullUrl": _urn("publication", publication["id"]), "resource": resource})
    return {
        "resourceType": "Bundle",
        "id": f"evidence-post-{post_id}",
        "identifier": _identifier("evidence-pack", f"post-{post_id}/{now_iso}"),
        "type": "collection",
        "timestamp": now_iso,
        "entry": entries,
    }
