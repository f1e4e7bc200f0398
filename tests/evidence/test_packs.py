"""The evidence pack of a published patient story: its files, its facts, its signature and its verification."""

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from evidence import signing
from evidence.packs import (
    ACTION_CREATED,
    CONTENT_FILES,
    FHIR,
    JSON,
    MANIFEST,
    PDF,
    PUBLIC_KEY,
    SIGNATURE,
    pack_build,
    pack_verify,
    pack_write,
)
from publishing.models import TakedownItem

pytestmark = pytest.mark.django_db


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zip_file:
        return {name: zip_file.read(name) for name in zip_file.namelist()}


def run_verify(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("evidence_verify", str(path), stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_pack_of_a_published_story_holds_every_fact(story: Any, governance: Any) -> None:
    post = story()
    pack = pack_build(post=post, actor=governance)
    files = members(pack.data)

    assert set(files) == {*CONTENT_FILES, MANIFEST, SIGNATURE}
    facts = json.loads(files[JSON])
    assert facts["post"]["id"] == post.pk and facts["post"]["content_type"] == "patient_story"
    assert "Müller" in facts["post"]["body"] and "東京" in facts["post"]["body"] and "💪" in facts["post"]["body"]

    # Two rounds: changes requested on revision n, then approved on a later revision by three stages.
    first, second = facts["rounds"]
    assert first["status"] == "changes_requested"
    assert [d["verdict"] for d in first["decisions"]] == ["request_changes"]
    assert second["status"] == "approved" and second["revision"] > first["revision"]
    approvals = second["decisions"]
    assert [d["reviewer"]["username"] for d in approvals] == ["medical", "legal", "comms"]
    assert {d["content_hash"] for d in approvals} == {second["content_hash"]} == {post.approved_hash}
    assert all(d["comment"].endswith("東京 ✔") for d in approvals)

    # Publications per target, with the text sent to each account.
    assert len(facts["publications"]) == 2
    for publication in facts["publications"]:
        assert publication["status"] == "confirmed" and publication["external_id"] and publication["published_at"]
        assert publication["content_hash"] == post.approved_hash
        assert publication["revision"] == second["revision"]
        assert "Müller" in publication["text"]

    # The consent relied on: scope, verification, revoked now but active when published.
    (consent,) = facts["consents"]
    assert consent["subject"]["reference"] == "PAT-0042"
    assert consent["media_kinds"] == ["photo", "name", "story"] and consent["all_platforms"] is True
    assert consent["verified_by"]["username"] == "consent2"
    assert consent["state_at_publishing"] == "active" and consent["state_now"] == "revoked"

    # The takedown the revocation listed, per published target.
    assert len(facts["takedowns"]) == TakedownItem.objects.filter(post=post).count() == 2
    assert {t["cause"] for t in facts["takedowns"]} == {"consent_ended"}

    # The audit events of the post's record with their chain positions, as the live chain holds them.
    live = {e.seq: e.hash for e in AuditEvent.objects.all()}
    assert len(facts["events"]) > 10
    assert all(live[e["seq"]] == e["hash"] for e in facts["events"])
    actions = {e["action"] for e in facts["events"]}
    # The post's own, its rounds' and stages', its publications', its takedowns' and its consent's.
    assert {"publication.created", "consent.recorded", "consent.verified", "consent.revoked"} <= actions
    assert {"review.round_opened", "review.stage_status_changed", "takedown.created"} <= actions

    manifest = json.loads(files[MANIFEST])
    assert manifest["post_id"] == post.pk and manifest["created_at"]
    for item in manifest["files"]:
        assert hashlib.sha256(files[item["name"]]).hexdigest() == item["sha256"]
    key = load_pem_public_key(files[PUBLIC_KEY])
    key.verify(files[SIGNATURE], files[MANIFEST])  # type: ignore[union-attr]
    assert manifest["signing_key_fingerprint"] == signing.fingerprint(signing.public_key())
    assert files[PDF].startswith(b"%PDF-")


def test_the_pdf_prints_umlauts_turkish_and_japanese(story: Any) -> None:
    post = story(rounds=1, revoke=False)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zip_file:
        pack_write(post=post, zip_file=zip_file, prefix="p/", invariant=1, pageCompression=0)
    pdf = members(out.getvalue())["p/evidence.pdf"]
    # Japanese is set in the CID font as UCS-2 (東 U+6771, 京 U+4EAC; 0xAC written as an octal escape).
    assert b"/HeiseiKakuGo-W5" in pdf
    assert b"(gqN\\254)" in pdf
    # Latin and Turkish are set in an embedded DejaVu subset, whose ToUnicode map names ü and Ğ.
    assert b"DejaVuSans" in pdf
    assert b"<00FC>" in pdf and b"<011E>" in pdf


def test_pack_write_puts_a_pack_under_a_prefix_and_audits_nothing(story: Any) -> None:
    post = story(rounds=1, revoke=False)
    before = AuditEvent.objects.count()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zip_file:
        manifest = pack_write(post=post, zip_file=zip_file, prefix=f"posts/{post.pk}/")
    assert AuditEvent.objects.count() == before
    assert sorted(members(out.getvalue())) == sorted(
        f"posts/{post.pk}/{name}" for name in (*CONTENT_FILES, MANIFEST, SIGNATURE)
    )
    assert manifest["post_id"] == post.pk


def test_the_pack_reads_a_bounded_number_of_queries(story: Any, governance: Any) -> None:
    small = story(targets=1, rounds=1, revoke=False)
    with CaptureQueriesContext(connection) as one:
        pack_write(post=small, zip_file=zipfile.ZipFile(io.BytesIO(), "w"))
    large = story(targets=5, rounds=3, campaign="Zweite Kampagne")
    with CaptureQueriesContext(connection) as many:
        pack_write(post=large, zip_file=zipfile.ZipFile(io.BytesIO(), "w"))
    # Five targets, three rounds, nine decisions, five publications and takedowns: the same queries.
    assert len(many) == len(one)


def test_the_fhir_bundle_validates_against_r4(story: Any, governance: Any) -> None:
    from fhir.resources.R4B.bundle import Bundle

    post = story()
    bundle = json.loads(members(pack_build(post=post, actor=governance).data)[FHIR])
    Bundle.model_validate(bundle)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert bundle["type"] == "collection"
    assert kinds.count("Consent") == 1
    # Four decisions (one request for changes, three approvals) and two publications.
    assert kinds.count("Provenance") == 6
    approvals = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("activity", {}).get("coding", [{}])[0].get("code") == "approve"
    ]
    assert len(approvals) == 3
    assert approvals[0]["agent"][0]["who"]["display"]
    assert post.approved_hash in approvals[0]["target"][0]["display"]


def test_command_writes_a_pack_that_verifies_and_is_audited(story: Any, tmp_path: Path) -> None:
    post = story()
    path = tmp_path / "pack.zip"
    call_command("evidence_pack", str(post.pk), "-o", str(path), stdout=io.StringIO())

    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.action == ACTION_CREATED and event.actor_repr == "system"
    manifest_hash = hashlib.sha256(members(path.read_bytes())[MANIFEST]).hexdigest()
    assert event.changes["manifest_sha256"] == manifest_hash
    assert run_verify(path) == (0, "verified\n", "")


@pytest.mark.parametrize("where", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_one_altered_byte_anywhere_fails_verification(
    story: Any, governance: Any, tmp_path: Path, where: float
) -> None:
    data = bytearray(pack_build(post=story(rounds=1, revoke=False), actor=governance).data)
    index = min(int(len(data) * where), len(data) - 1)
    data[index] ^= 0x01
    path = tmp_path / "altered.zip"
    path.write_bytes(bytes(data))
    code, out, err = run_verify(path)
    assert code == 1 and out == "" and err.strip()


def test_every_single_byte_flip_is_caught(story: Any, governance: Any) -> None:
    """Not a sample: each byte of a pack, flipped, makes verification fail (headers, contents, signature)."""
    data = pack_build(post=story(targets=1, rounds=1, revoke=False), actor=governance).data
    step = max(1, len(data) // 400)
    for index in range(0, len(data), step):
        altered = bytearray(data)
        altered[index] ^= 0x80
        assert pack_verify(bytes(altered)), f"byte {index} of {len(data)} went unnoticed"
    assert pack_verify(data) == []


def test_a_pack_signed_by_another_key_fails_even_with_its_key_inside(
    story: Any, governance: Any, settings: Any
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    post = story(rounds=1, revoke=False)
    original = settings.ROUNDS_EVIDENCE_SIGNING_KEY
    settings.ROUNDS_EVIDENCE_SIGNING_KEY = (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    forged = pack_build(post=post, actor=governance).data
    settings.ROUNDS_EVIDENCE_SIGNING_KEY = original
    problems = pack_verify(forged)
    assert any("signature does not verify" in problem for problem in problems)
    assert any(PUBLIC_KEY in problem for problem in problems)


def test_a_tampered_audit_event_is_reported(story: Any, governance: Any, tmp_path: Path) -> None:
    post = story()
    path = tmp_path / "pack.zip"
    path.write_bytes(pack_build(post=post, actor=governance).data)
    approved = AuditEvent.objects.filter(object_type="posts.post", object_id=str(post.pk)).order_by("seq")[2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_repr = %s WHERE seq = %s", ["somebody else", approved.seq])
    code, _out, err = run_verify(path)
    assert code == 1
    assert f"audit event #{approved.seq} was altered" in err


def test_an_audit_event_rewritten_with_its_hash_is_reported(story: Any, governance: Any, tmp_path: Path) -> None:
    post = story(rounds=1, revoke=False)
    path = tmp_path / "pack.zip"
    path.write_bytes(pack_build(post=post, actor=governance).data)
    event = AuditEvent.objects.filter(object_type="posts.post", object_id=str(post.pk)).order_by("seq").first()
    assert event is not None
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE seq = %s", ["f" * 64, event.seq])
    code, _out, err = run_verify(path)
    assert code == 1
    assert f"audit event #{event.seq} has another hash" in err


def test_the_key_file_is_made_once_with_mode_600(settings: Any, tmp_path: Path) -> None:
    settings.ROUNDS_EVIDENCE_SIGNING_KEY = ""
    settings.ROUNDS_EVIDENCE_KEY_FILE = tmp_path / "keys" / "evidence-signing.pem"
    first = signing.fingerprint(signing.public_key())
    assert signing.fingerprint(signing.public_key()) == first
    assert (settings.ROUNDS_EVIDENCE_KEY_FILE.stat().st_mode & 0o777) == 0o600


def test_a_missing_post_is_a_clear_error(db: None, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="There is no post 999"):
        call_command("evidence_pack", "999", "-o", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


def test_a_draft_with_nothing_behind_it_makes_a_pack_that_verifies(
    editor: Any, campaign: Any, post_factory: Any, governance: Any
) -> None:
    post = post_factory(editor, campaign, body="Entwurf: Tag der offenen Tür am 12.12. 📅 東京\u200f")
    pack = pack_build(post=post, actor=governance)
    facts = json.loads(members(pack.data)[JSON])
    assert facts["rounds"] == [] and facts["publications"] == [] and facts["consents"] == []
    assert facts["events"] and pack_verify(pack.data) == []


def test_takedowns_carry_who_tried_deletion_what_came_of_it_and_who_confirmed(
    story: Any, reviewers: dict[str, Any], governance: Any
) -> None:
    from publishing.takedowns import takedown_confirm, takedown_delete

    post = story()
    first, second = TakedownItem.objects.filter(post=post).order_by("pk")
    takedown_delete(item=first, actor=reviewers["comms"])  # the outbox: Rounds cannot delete, a person must
    takedown_confirm(item=first, actor=reviewers["comms"])

    facts = json.loads(members(pack_build(post=post, actor=governance).data)[JSON])
    by_id = {item["id"]: item for item in facts["takedowns"]}
    done, open_ = by_id[first.pk], by_id[second.pk]
    assert done["deletion_status"] == "not_allowed" and "outbox" in done["deletion_note"]
    assert done["deletion_by"]["username"] == "comms" and done["confirmed_by"]["username"] == "comms"
    assert done["confirmed_at"] and done["consent_id"] == facts["consents"][0]["id"]
    assert open_["confirmed_at"] is None and open_["deletion_status"] == ""
