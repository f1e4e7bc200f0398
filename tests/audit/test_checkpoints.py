"""Signed checkpoints: a trail cut at its end, or rewritten with every later hash recomputed, fails verify_audit."""

import base64
import dataclasses
import datetime as dt
import json
import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.checkpoints import Checkpoint, checkpoint_file, checkpoint_write, signing_keys
from audit.checks import audit_key_check
from audit.models import AuditEvent
from audit.selectors import chain_verify
from audit.services import event_record
from calendar_project.schedules import SCHEDULES

pytestmark = pytest.mark.django_db


def record(actor: Any, count: int) -> list[AuditEvent]:
    """Append ``count`` events as a hospital writes them (umlauts, emoji, a phone number)."""
    return [
        event_record(
            actor=actor,
            action="test.edited",
            obj=actor,
            changes={"text": f"Station 3 · Frühchen-Tag 🎈 · Tel. 030 1234-{n:03d}", "n": n},
        )
        for n in range(count)
    ]


def raw_sql(sql: str, params: list[Any]) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)


def rewrite_from(seq: int, action: str) -> None:
    """Alter event ``seq`` behind the ORM and recompute the hash of it and of every later event."""
    prev_hash: str | None = None
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.action = action
        else:
            event.prev_hash = prev_hash or event.prev_hash
        new_hash = event.compute_hash()
        raw_sql(
            "UPDATE {table} SET action = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.action, event.prev_hash, new_hash, event.seq],
        )
        prev_hash = new_hash


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def verify_fails() -> str:
    with pytest.raises(CommandError) as caught:
        verify()
    assert caught.value.returncode == 1
    return str(caught.value)


def lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in checkpoint_file().read_text().splitlines()]


def test_intact_chain_with_a_fresh_checkpoint_passes(editor: Any) -> None:
    events = record(editor, 3)
    checkpoint = checkpoint_write()

    assert (checkpoint.seq, checkpoint.hash) == (events[-1].seq, events[-1].hash)
    output = verify()
    assert f"Audit trail intact: {AuditEvent.objects.count()} events." in output
    assert f"Newest checkpoint: event #{events[-1].seq}" in output


def test_deleting_the_newest_events_fails_naming_the_checkpointed_event(editor: Any) -> None:
    events = record(editor, 5)
    checkpoint_write()
    raw_sql("DELETE FROM {table} WHERE seq > %s", [events[2].seq])

    assert chain_verify() is None  # what is left is a valid chain: only the checkpoint knows better
    message = verify_fails()
    assert f"event #{events[-1].seq} is missing" in message
    assert f"cut after event #{events[2].seq}" in message


def test_altering_an_event_and_recomputing_every_later_hash_fails_at_the_next_checkpoint(editor: Any) -> None:
    events = record(editor, 3)
    checkpoint_write()
    later = record(editor, 3)
    checkpoint_write()
    rewrite_from(later[0].seq, "test.forged")

    assert chain_verify() is None
    assert AuditEvent.objects.get(seq=later[0].seq).action == "test.forged"
    message = verify_fails()
    assert message.startswith(f"Audit trail broken at event #{later[-1].seq}:")
    assert f"rewritten after event #{events[-1].seq}" in message


def test_a_checkpoint_signed_with_another_key_is_forged(editor: Any) -> None:
    record(editor, 4)
    real = checkpoint_write()
    raw_sql("DELETE FROM {table} WHERE seq > %s", [real.seq - 2])
    # Whoever cut the trail also writes a checkpoint for the shorter chain, under our key's id.
    newest = AuditEvent.objects.order_by("-seq").first()
    assert newest is not None
    fake = Checkpoint(seq=newest.seq, hash=newest.hash, at=timezone.now(), key_id=real.key_id)
    signature = base64.urlsafe_b64encode(Ed25519PrivateKey.generate().sign(fake.message())).decode()
    checkpoint_file().write_text(dataclasses.replace(fake, signature=signature).to_json() + "\n")

    message = verify_fails()
    assert f"checkpoint of event #{newest.seq}" in message
    assert "forged" in message


def test_a_checkpoint_whose_number_was_edited_no_longer_matches_its_signature(editor: Any) -> None:
    record(editor, 4)
    checkpoint_write()
    line = lines()[0]
    line["seq"] -= 1
    checkpoint_file().write_text(json.dumps(line) + "\n")

    assert "forged" in verify_fails()


def test_events_left_without_a_checkpoint_for_twice_the_interval_fail(editor: Any) -> None:
    minutes = settings.ROUNDS_AUDIT_CHECKPOINT_MINUTES
    start = timezone.now() - dt.timedelta(hours=3)
    with time_machine.travel(start, tick=False):
        record(editor, 2)
        checkpoint_write()
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        unsigned = record(editor, 2)
    with time_machine.travel(start + dt.timedelta(minutes=1 + 2 * minutes - 1), tick=False):
        assert "Audit trail intact" in verify()  # the next checkpoint may still be coming

    message = verify_fails()
    assert f"no checkpoint covers event #{unsigned[0].seq}" in message
    assert f"more than {2 * minutes} minutes" in message
    checkpoint_write()
    assert "Audit trail intact" in verify()


def test_a_trail_that_never_had_a_checkpoint_fails_once_its_events_are_old(editor: Any) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(days=1), tick=False):
        first = record(editor, 1)[0]

    assert f"no checkpoint covers event #{first.seq}" in verify_fails()


def test_a_fresh_install_passes_without_a_checkpoint_empty_or_with_young_events(editor: Any) -> None:
    assert not AuditEvent.objects.exists()
    assert "No checkpoint yet." in verify()
    record(editor, 2)
    assert "Audit trail intact" in verify()
    assert not checkpoint_file().exists()


def test_print_checkpoint_prints_a_line_anyone_can_check_with_the_public_key(editor: Any) -> None:
    events = record(editor, 2)
    checkpoint = checkpoint_write()

    printed = verify("--print-checkpoint").splitlines()[-1]

    assert printed.startswith("Rounds audit checkpoint: ")
    fields = dict(part.split("=", 1) for part in printed.removeprefix("Rounds audit checkpoint: ").split())
    assert fields["seq"] == str(events[-1].seq) and fields["hash"] == events[-1].hash
    assert fields["at"] == checkpoint.at.isoformat()
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(fields["public_key"]))
    # The independent check: only the line's own fields, the documented message, the public key.
    message = "\n".join(["rounds-audit-checkpoint:v1", fields["seq"], fields["hash"], fields["at"], fields["key_id"]])
    public.verify(base64.urlsafe_b64decode(fields["signature"]), message.encode())


def test_print_checkpoint_without_any_checkpoint_fails(editor: Any) -> None:
    with pytest.raises(CommandError, match="no checkpoint to print"):
        verify("--print-checkpoint")


def test_audit_checkpoint_appends_a_private_line_and_never_rewrites_earlier_ones(editor: Any) -> None:
    record(editor, 1)
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    first = checkpoint_file().read_text()
    record(editor, 1)
    call_command("audit_checkpoint", stdout=out)

    text = checkpoint_file().read_text()
    assert text.startswith(first)
    assert [line["seq"] for line in lines()] == [AuditEvent.objects.count() - 1, AuditEvent.objects.count()]
    assert set(lines()[0]) == {"seq", "hash", "at", "key_id", "signature"}
    assert stat.S_IMODE(checkpoint_file().stat().st_mode) == 0o600
    assert "Rounds audit checkpoint: seq=" in out.getvalue()


def test_the_schedule_writes_a_checkpoint_every_configured_interval(editor: Any) -> None:
    func, minutes = SCHEDULES["audit-checkpoint"]
    assert minutes == settings.ROUNDS_AUDIT_CHECKPOINT_MINUTES == 15
    event = record(editor, 1)[0]

    import_string(func)()

    assert [(line["seq"], line["hash"]) for line in lines()] == [(event.seq, event.hash)]


def test_a_replaced_key_still_verifies_the_checkpoints_it_signed(editor: Any, settings: Any) -> None:
    record(editor, 1)
    old = checkpoint_write()
    new_key = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    settings.ROUNDS_AUDIT_KEYS = [base64.urlsafe_b64encode(new_key).decode(), *settings.ROUNDS_AUDIT_KEYS]
    record(editor, 1)
    new = checkpoint_write()

    assert new.key_id != old.key_id
    assert "Audit trail intact" in verify()
    settings.ROUNDS_AUDIT_KEYS = settings.ROUNDS_AUDIT_KEYS[:1]  # the old key dropped too early
    assert "forged" in verify_fails()


def test_production_without_a_key_refuses_to_sign_and_development_uses_a_labelled_key(
    editor: Any, settings: Any, tmp_path: Path
) -> None:
    settings.ROUNDS_AUDIT_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="ROUNDS_AUDIT_KEY"):
        checkpoint_write()
    assert [message.id for message in audit_key_check(None)] == ["audit.E001"]

    settings.DEBUG = True
    [key] = signing_keys()
    assert key.development and key.key_id.startswith("dev-")
    assert audit_key_check(None) == []
    assert checkpoint_write().key_id == key.key_id

    settings.ROUNDS_AUDIT_KEYS = ["not a key"]
    assert [message.id for message in audit_key_check(None)] == ["audit.E002"]


def anchor_of_newest_checkpoint() -> str:
    return verify("--print-checkpoint").splitlines()[-1]


def test_an_anchored_checkpoint_catches_a_trail_and_file_cut_back_together(editor: Any) -> None:
    early = record(editor, 3)
    checkpoint_write()
    kept = checkpoint_file().read_text()
    record(editor, 2)
    checkpoint_write()
    anchor = anchor_of_newest_checkpoint()  # mailed to the DPO
    # Both cut back to the earlier checkpoint: they agree again, so the trail alone passes.
    raw_sql("DELETE FROM {table} WHERE seq > %s", [early[-1].seq])
    checkpoint_file().write_text(kept)
    assert "Audit trail intact" in verify()

    with pytest.raises(CommandError) as caught:
        verify("--anchor", anchor)
    assert caught.value.returncode == 1
    assert f"event #{early[-1].seq + 2} of the anchored checkpoint is missing" in str(caught.value)


def test_an_anchored_checkpoint_catches_a_rewrite_and_refuses_an_edited_line(editor: Any) -> None:
    events = record(editor, 3)
    checkpoint_write()
    anchor = anchor_of_newest_checkpoint()
    assert "Audit trail intact" in verify("--anchor", anchor)

    edited = anchor.replace(f"seq={events[-1].seq} ", f"seq={events[-2].seq} ")
    with pytest.raises(CommandError, match=f"anchored checkpoint of event #{events[-2].seq} is forged"):
        verify("--anchor", edited)
    rewrite_from(events[1].seq, "test.forged")
    checkpoint_file().unlink()  # and the checkpoint file lost with it
    with pytest.raises(CommandError, match=f"event #{events[-1].seq} differs from the anchored checkpoint"):
        verify("--anchor", anchor)
