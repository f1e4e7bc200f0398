"""Signed checkpoints of the audit chain, kept apart from the database.

The hash chain shows an altered or missing event, but not a chain cut at its end or recomputed
from an altered event onwards: both are valid chains. A checkpoint is the newest event's sequence
number and hash, signed with a key the database never holds (``ROUNDS_AUDIT_KEY``, Ed25519) and
appended as one JSON line to a file beside it (``ROUNDS_AUDIT_CHECKPOINT_FILE``). Whoever can
rewrite the database cannot sign a checkpoint for the rewritten chain, so `audit_verify` finds
the rewrite at the first checkpoint it contradicts. docs/security.md says what to back up.
"""

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent
from audit.selectors import ChainBreak, chain_verify

# Signed with every checkpoint, so a signature over anything else (another format, another
# program using the same key) can never pass for one.
_DOMAIN = "rounds-audit-checkpoint:v1"
DEV_KEY_PREFIX = "dev-"


@dataclass(frozen=True)
class SigningKey:
    """One configured key: its id (from its public half), the key, and whether it is the development key."""

    key_id: str
    private: Ed25519PrivateKey
    development: bool = False

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_text(self) -> str:
        """Return the public key as base64url, what an outsider needs to check a checkpoint."""
        raw = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.urlsafe_b64encode(raw).decode()


def key_parse(text: str) -> Ed25519PrivateKey:
    """Return the Ed25519 key ``text`` (32 bytes, base64url) stands for; ValueError if it is none."""
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError(f"{len(raw)} bytes, not 32")
    return Ed25519PrivateKey.from_private_bytes(raw)


def _key_id(private: Ed25519PrivateKey, *, prefix: str = "") -> str:
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return prefix + hashlib.sha256(raw).hexdigest()[:16]


def signing_keys() -> list[SigningKey]:
    """Return the configured keys, the one that signs first; raises ImproperlyConfigured without one.

    ``ROUNDS_AUDIT_KEY`` is a comma-separated list, like the credentials keys: the first signs, all
    verify, so a key can be replaced without losing the checkpoints it signed. Development
    (``DEBUG``) without a key derives one from the secret key, labelled ``dev-`` in every checkpoint.
    """
    configured = list(settings.ROUNDS_AUDIT_KEYS)
    if configured:
        keys = []
        for position, text in enumerate(configured, start=1):
            try:
                private = key_parse(text)
            except ValueError as exc:
                raise ImproperlyConfigured(f"ROUNDS_AUDIT_KEY: key {position} is not an Ed25519 key ({exc}).") from exc
            keys.append(SigningKey(key_id=_key_id(private), private=private))
        return keys
    if settings.DEBUG:
        seed = hashlib.sha256(f"{_DOMAIN}:development:{settings.SECRET_KEY}".encode()).digest()
        private = Ed25519PrivateKey.from_private_bytes(seed)
        return [SigningKey(key_id=_key_id(private, prefix=DEV_KEY_PREFIX), private=private, development=True)]
    raise ImproperlyConfigured("Set ROUNDS_AUDIT_KEY to sign audit checkpoints (docs/security.md).")


@dataclass(frozen=True)
class Checkpoint:
    """The chain's newest event at one moment, signed: one line of the checkpoint file."""

    seq: int
    hash: str
    at: dt.datetime
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        """Return the exact bytes the signature covers."""
        return f"{_DOMAIN}\n{self.seq}\n{self.hash}\n{self.at.isoformat()}\n{self.key_id}".encode()

    def to_json(self) -> str:
        """Return the checkpoint as one line of JSON, as the file stores it."""
        fields = {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at.isoformat(),
            "key_id": self.key_id,
            "signature": self.signature,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> "Checkpoint":
        """Return the checkpoint one line of the file holds; ValueError if it holds none."""
        try:
            data = json.loads(line)
            at = dt.datetime.fromisoformat(data["at"])
            checkpoint = cls(
                seq=data["seq"], hash=data["hash"], at=at, key_id=data["key_id"], signature=data["signature"]
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("not a checkpoint") from exc
        if type(checkpoint.seq) is not int or not all(
            isinstance(value, str) for value in (checkpoint.hash, checkpoint.key_id, checkpoint.signature)
        ):
            raise ValueError("not a checkpoint")
        if timezone.is_naive(at):
            raise ValueError("a time without a time zone")
        return checkpoint

    def signature_valid(self, keys: list[SigningKey]) -> bool:
        """Return whether one of ``keys`` (the one named by ``key_id``) signed exactly this checkpoint."""
        for key in keys:
            if key.key_id != self.key_id:
                continue
            try:
                key.public.verify(base64.urlsafe_b64decode(self.signature), self.message())
            except (InvalidSignature, ValueError):
                return False
            return True
        return False


def checkpoint_file() -> Path:
    """Return where checkpoints are stored: ``ROUNDS_AUDIT_CHECKPOINT_FILE``."""
    return Path(settings.ROUNDS_AUDIT_CHECKPOINT_FILE)


def checkpoint_write() -> Checkpoint:
    """Sign the chain's newest event and append it to the checkpoint file, synced to disk; returns it.

    Written every ``ROUNDS_AUDIT_CHECKPOINT_MINUTES`` (calendar_project/schedules.py) even when no
    event came since, so a missing checkpoint always means the job stopped, and on demand
    (``manage.py audit_checkpoint``). Reads only committed events; takes no lock on the chain.
    """
    key = signing_keys()[0]
    newest = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    unsigned = Checkpoint(
        seq=newest.seq if newest else 0,
        hash=newest.hash if newest else GENESIS_HASH,
        at=timezone.now().astimezone(dt.UTC),
        key_id=key.key_id,
    )
    signature = base64.urlsafe_b64encode(key.private.sign(unsigned.message())).decode()
    checkpoint = dataclasses.replace(unsigned, signature=signature)
    _append_line(checkpoint_file(), checkpoint.to_json())
    return checkpoint


def _append_line(path: Path, line: str) -> None:
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write() on an O_APPEND descriptor: lines of two writers at once never interleave, and
    # nothing already written is ever rewritten.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        # The new file's name must survive a crash as well as its content.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def checkpoints_read() -> Iterator[tuple[int, Checkpoint | None]]:
    """Yield each line number of the checkpoint file with its checkpoint (None for a damaged line)."""
    path = checkpoint_file()
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, Checkpoint.from_json(line)
            except ValueError:
                yield number, None


def checkpoint_latest() -> Checkpoint | None:
    """Return the checkpoint of the newest event (the last written of those), or None without any."""
    latest = None
    for _number, checkpoint in checkpoints_read():
        if checkpoint is not None and (latest is None or (checkpoint.seq, checkpoint.at) >= (latest.seq, latest.at)):
            latest = checkpoint
    return latest


ANCHOR_PREFIX = "Rounds audit checkpoint: "


def checkpoint_anchor_line(checkpoint: Checkpoint) -> str:
    """Return ``checkpoint`` as one line to file outside Rounds, with the public key that checks it."""
    keys = {key.key_id: key for key in signing_keys()}
    public = keys[checkpoint.key_id].public_text() if checkpoint.key_id in keys else "unknown"
    return (
        f"{ANCHOR_PREFIX}seq={checkpoint.seq} hash={checkpoint.hash} at={checkpoint.at.isoformat()}"
        f" key_id={checkpoint.key_id} public_key={public} signature={checkpoint.signature}"
    )


def anchor_verify(line: str) -> ChainBreak | None:
    """Return why the trail contradicts a checkpoint filed outside Rounds (`checkpoint_anchor_line`), or None.

    The line must carry a signature of one of the configured keys (its own public key proves
    nothing: anyone can sign with a key of their own), and its event must exist with its hash.
    """
    try:
        fields = dict(part.split("=", 1) for part in line.strip().removeprefix(ANCHOR_PREFIX).split())
        checkpoint = Checkpoint(
            seq=int(fields["seq"]),
            hash=fields["hash"],
            at=dt.datetime.fromisoformat(fields["at"]),
            key_id=fields["key_id"],
            signature=fields["signature"],
        )
    except (ValueError, KeyError):
        return ChainBreak(0, "the anchored line is not a checkpoint line of verify_audit --print-checkpoint")
    if not checkpoint.signature_valid(signing_keys()):
        return ChainBreak(checkpoint.seq, f"the anchored checkpoint of event #{checkpoint.seq} is forged")
    event = AuditEvent.objects.filter(seq=checkpoint.seq).only("seq", "hash").first()
    if checkpoint.seq and event is None:
        return ChainBreak(
            checkpoint.seq, f"event #{checkpoint.seq} of the anchored checkpoint is missing: the trail was cut"
        )
    if event is not None and event.hash != checkpoint.hash:
        return ChainBreak(
            checkpoint.seq, f"event #{checkpoint.seq} differs from the anchored checkpoint: the chain was rewritten"
        )
    return None


def audit_verify(*, now: dt.datetime | None = None) -> ChainBreak | None:
    """Return the first problem of the chain and its checkpoints, or None if both are intact.

    Fails on a broken chain (`chain_verify`), a damaged or forged checkpoint, a checkpoint whose
    event is gone (the trail was cut) or has another hash (the chain was rewritten and recomputed),
    and on events left without a checkpoint for more than twice the checkpoint interval. An empty
    trail needs no checkpoint; nor do events younger than that.
    """
    broken = chain_verify()
    if broken is not None:
        return broken
    keys: list[SigningKey] | None = None
    by_seq: dict[int, list[tuple[int, Checkpoint]]] = {}
    for number, checkpoint in checkpoints_read():
        if checkpoint is None:
            return ChainBreak(0, f"line {number} of {checkpoint_file()} is not a checkpoint")
        if keys is None:
            # Only a trail with checkpoints needs the key: a fresh one may have none yet.
            try:
                keys = signing_keys()
            except ImproperlyConfigured as exc:
                return ChainBreak(checkpoint.seq, str(exc))
        if not checkpoint.signature_valid(keys):
            return ChainBreak(
                checkpoint.seq,
                f"the checkpoint of event #{checkpoint.seq} (line {number}, {checkpoint.at.isoformat()}) is forged:"
                f" its signature does not match (key {checkpoint.key_id})",
            )
        by_seq.setdefault(checkpoint.seq, []).append((number, checkpoint))
    newest = AuditEvent.objects.order_by("-seq").only("seq", "hash", "created_at").first()
    newest_seq = newest.seq if newest else 0
    stored = _hashes(seqs=sorted(seq for seq in by_seq if 0 < seq <= newest_seq))
    vouched = 0  # the newest event a checkpoint vouches for
    for seq in sorted(by_seq):
        number, checkpoint = by_seq[seq][0]
        if seq > newest_seq:
            return ChainBreak(
                seq,
                f"event #{seq} is missing, but the checkpoint of {checkpoint.at.isoformat()} (line {number}) signed it:"
                f" the trail was cut after event #{newest_seq}",
            )
        expected = GENESIS_HASH if seq == 0 else stored[seq]
        for line_number, signed in by_seq[seq]:
            if signed.hash != expected:
                return ChainBreak(
                    seq,
                    f"event #{seq} differs from the checkpoint of {signed.at.isoformat()} (line {line_number}):"
                    f" the chain was rewritten after event #{vouched}",
                )
        vouched = seq
    if newest is None or vouched == newest_seq:
        return None
    # The events after the newest checkpoint chain onto it (chain_verify above); they only have
    # to be young enough that the next checkpoint may still be coming.
    first_open = AuditEvent.objects.filter(seq=vouched + 1).only("seq", "created_at").get()
    limit = dt.timedelta(minutes=2 * settings.ROUNDS_AUDIT_CHECKPOINT_MINUTES)
    if (now or timezone.now()) - first_open.created_at > limit:
        return ChainBreak(
            first_open.seq,
            f"no checkpoint covers event #{first_open.seq} of {first_open.created_at.isoformat()} or later ones"
            f" (the newest checkpoint is of event #{vouched}): the checkpoint job has not run for"
            f" more than {2 * settings.ROUNDS_AUDIT_CHECKPOINT_MINUTES} minutes",
        )
    return None


def _hashes(*, seqs: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    # In slices: SQLite limits the parameters of one statement.
    for start in range(0, len(seqs), 500):
        rows = AuditEvent.objects.filter(seq__in=seqs[start : start + 500]).values_list("seq", "hash")
        found.update(rows)
    return found
