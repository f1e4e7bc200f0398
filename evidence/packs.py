"""The evidence pack of one post: a ZIP with a PDF, JSON, a FHIR bundle and a signed manifest.

`pack_write` writes one pack's files into an open ZIP under a prefix (the compliance archive calls
it once per post); `pack_build` makes the ZIP of one post and audits it; `pack_verify` checks a
pack's signature with the instance's key, each file against the manifest, the ZIP's bytes against
the canonical form, and each audit event against the live chain. docs/evidence.md says more.
"""

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, event_record
from evidence import signing
from evidence.bundle import fhir_bundle
from evidence.facts import post_facts
from evidence.pdf import evidence_pdf
from posts.models import Post

FORMAT = "rounds-evidence-pack/1"
PDF = "evidence.pdf"
JSON = "evidence.json"
FHIR = "fhir-bundle.json"
PUBLIC_KEY = "signing-key.pub.pem"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CONTENT_FILES = (PDF, JSON, FHIR, PUBLIC_KEY)
ACTION_CREATED = "evidence.pack_created"
ACTION_DOWNLOADED = "evidence.pack_downloaded"
# Every member gets the same time and mode and is stored uncompressed, so a pack's bytes follow from
# its files alone: `pack_verify` rebuilds it and finds a changed byte in any header too.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def _member(zip_file: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    zip_file.writestr(info, data)


def instance_name() -> str:
    """Return how the pack names the instance: its site URL, else the organisation's name."""
    return str(getattr(settings, "ROUNDS_SITE_URL", "") or settings.ROUNDS_ORGANISATION_NAME)


def pack_write(
    *, post: Post, zip_file: zipfile.ZipFile, prefix: str = "", now: dt.datetime | None = None, **pdf_options: Any
) -> dict[str, Any]:
    """Write one post's pack (five files and the signature) into ``zip_file`` under ``prefix``; return the manifest.

    Reads only; audits nothing (the caller audits what the pack is for). ``pdf_options`` go to
    ReportLab (tests pass ``invariant=1, pageCompression=0`` to read the text).
    """
    now = (now or timezone.now()).astimezone(dt.UTC)
    record = post_facts(post=post, now=now)
    key = signing.signing_key()
    public = key.public_key()
    fingerprint = signing.fingerprint(public)
    head = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "instance": instance_name(),
        "organisation": settings.ROUNDS_ORGANISATION_NAME,
        "post_id": post.pk,
        "signing_key_fingerprint": fingerprint,
    }
    files = {
        PDF: evidence_pdf(facts=record.facts, manifest_head=head, fingerprint=fingerprint, **pdf_options),
        JSON: _json_bytes({**head, **record.facts}),
        FHIR: _json_bytes(fhir_bundle(facts=record.facts, consents=record.consents, now=now)),
        PUBLIC_KEY: signing.public_pem(public),
    }
    manifest = {
        **head,
        "files": [
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in files.items()
        ],
        "events": [{"seq": event["seq"], "hash": event["hash"]} for event in record.facts["events"]],
    }
    manifest_bytes = _json_bytes(manifest)
    for name, data in files.items():
        _member(zip_file, prefix + name, data)
    _member(zip_file, prefix + MANIFEST, manifest_bytes)
    _member(zip_file, prefix + SIGNATURE, key.sign(manifest_bytes))
    return manifest


@dataclass(frozen=True)
class Pack:
    """A built pack: the ZIP's bytes, its manifest and the SHA-256 of the manifest."""

    data: bytes
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def filename(self) -> str:
        stamp = self.manifest["created_at"][:19].replace(":", "").replace("-", "")
        return f"evidence-post-{self.manifest['post_id']}-{stamp}.zip"


def _zip_of(members: Iterable[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zip_file:
        for name, data in members:
            _member(zip_file, name, data)
    return out.getvalue()


def pack_build(
    *, post: Post, actor: Actor, via: str = "web", now: dt.datetime | None = None, **pdf_options: Any
) -> Pack:
    """Return one post's evidence pack and audit that ``actor`` made it (``via``: web or command).

    The event (``evidence.pack_downloaded`` from the web, ``evidence.pack_created`` from the
    command) names the manifest's SHA-256, so a pack handed on can be traced to who took it.
    Built outside a transaction: no write lock is held while the PDF is set (on SQLite a
    transaction locks out every writer); the event is appended in its own.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zip_file:
        manifest = pack_write(post=post, zip_file=zip_file, now=now, **pdf_options)
    data = out.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as zip_file:
        manifest_sha256 = hashlib.sha256(zip_file.read(MANIFEST)).hexdigest()
    event_record(
        actor=actor,
        action=ACTION_DOWNLOADED if via == "web" else ACTION_CREATED,
        obj=post,
        changes={"manifest_sha256": manifest_sha256, "via": via, "events": len(manifest["events"])},
    )
    return Pack(data=data, manifest=manifest, manifest_sha256=manifest_sha256)


def pack_bytes(*, post: Post, actor: Actor, via: str = "web") -> bytes:
    """Return the ZIP of one post's pack (audited): the one-call form for callers that want bytes."""
    return pack_build(post=post, actor=actor, via=via).data


# Verification ---------------------------------------------------------------------------------


def _events_problems(listed: list[dict[str, Any]]) -> list[str]:
    """Return one line per listed event that no longer matches the live chain (same seq, same hash, intact)."""
    seqs = [int(item["seq"]) for item in listed]
    wanted = set(seqs) | {seq - 1 for seq in seqs if seq > 1}
    live = {event.seq: event for event in AuditEvent.objects.filter(seq__in=wanted)}
    problems = []
    for item in listed:
        seq = int(item["seq"])
        event = live.get(seq)
        if event is None:
            problems.append(f"audit event #{seq} is missing from the live chain")
            continue
        if event.hash != item["hash"]:
            problems.append(f"audit event #{seq} has another hash in the live chain than in the pack")
        if event.compute_hash() != event.hash:
            problems.append(f"audit event #{seq} was altered in the database (its hash does not match its content)")
        before = live.get(seq - 1)
        if seq > 1 and (before is None or event.prev_hash != before.hash):
            problems.append(f"audit event #{seq} does not follow the event before it in the live chain")
    return problems


def pack_verify(data: bytes) -> list[str]:
    """Return the problems of a pack (an empty list: verified), one line each.

    The signature is checked with the instance's own public key: the copy inside the pack only
    says which key signed, and anyone who changes a pack could replace it.
    """
    try:
        zip_file = zipfile.ZipFile(io.BytesIO(data))
        names = zip_file.namelist()
        members = {name: zip_file.read(name) for name in names}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        return [f"not a readable ZIP file: {error}"]
    except Exception as error:
        return [f"not a readable ZIP file: {error}"]
    problems: list[str] = []
    if MANIFEST not in members or SIGNATURE not in members:
        return [f"{MANIFEST} or {SIGNATURE} is missing"]
    manifest_bytes = members[MANIFEST]
    if not signing.signature_valid(key=signing.public_key(), signature=members[SIGNATURE], data=manifest_bytes):
        problems.append(f"{SIGNATURE}: the signature does not verify with this instance's key")
    try:
        manifest = json.loads(manifest_bytes)
        listed_files = {item["name"]: item["sha256"] for item in manifest["files"]}
        listed_events = list(manifest["events"])
    except (ValueError, KeyError, TypeError):
        return [*problems, f"{MANIFEST} cannot be read"]
    for name, digest in listed_files.items():
        if name not in members:
            problems.append(f"{name}: listed in the manifest but missing")
        elif hashlib.sha256(members[name]).hexdigest() != digest:
            problems.append(f"{name}: its SHA-256 differs from the manifest")
    for name in names:
        if name not in listed_files and name not in {MANIFEST, SIGNATURE}:
            problems.append(f"{name}: not listed in the manifest")
    public_in_pack = members.get(PUBLIC_KEY)
    if public_in_pack is not None:
        try:
            embedded = load_pem_public_key(public_in_pack)
            if signing.public_pem(embedded) != signing.public_pem(signing.public_key()):  # type: ignore[arg-type]
                problems.append(f"{PUBLIC_KEY}: not this instance's key")
        except (ValueError, TypeError):
            problems.append(f"{PUBLIC_KEY}: not a public key")
    if _zip_of((name, members[name]) for name in names) != data:
        problems.append("the ZIP file's bytes differ from the pack's canonical form (it was altered)")
    problems.extend(_events_problems(listed_events))
    return problems
