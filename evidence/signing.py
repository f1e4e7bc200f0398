"""The instance's Ed25519 key that signs evidence packs: from the environment, or made once and kept in var/keys.

``ROUNDS_EVIDENCE_SIGNING_KEY`` (PEM text of a PKCS#8 Ed25519 private key) wins; without it the key
is read from ``ROUNDS_EVIDENCE_KEY_FILE`` (default ``var/keys/evidence-signing.pem``), which is
created on first use with mode 600. A verifier trusts this key, never the copy inside a pack.
"""

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


class SigningKeyError(Exception):
    """The configured key cannot be used (not PEM, not Ed25519)."""


def _load(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError("The evidence signing key is not a PEM private key without a password.") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("The evidence signing key must be an Ed25519 key.")
    return key


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _from_file(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return _load(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        # O_EXCL: two processes starting at once keep one key, the one written first.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path.read_bytes())
    with os.fdopen(handle, "wb") as out:
        out.write(_pem(key))
    return key


def signing_key() -> Ed25519PrivateKey:
    """Return the instance's private key (the setting's, else the key file's, made on first use)."""
    configured = str(getattr(settings, "ROUNDS_EVIDENCE_SIGNING_KEY", "") or "").strip()
    if configured:
        return _load(configured.encode())
    return _from_file(Path(settings.ROUNDS_EVIDENCE_KEY_FILE))


def public_key() -> Ed25519PublicKey:
    """Return the instance's public key: what `evidence_verify` trusts."""
    return signing_key().public_key()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """Return the SHA-256 of the raw public key, hex in groups of four, as people compare it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def sign(data: bytes) -> bytes:
    """Return the detached Ed25519 signature of ``data`` with the instance's key."""
    return signing_key().sign(data)


def signature_valid(*, key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
