"""What online withdrawal checks, on plain values: the form reference as typed, the birth-date check, the link.

GDPR Art. 7(3): withdrawing must be as easy as consenting. A person withdraws with the reference
printed on their form and their date of birth. Rounds keeps a birth date in clear only for minors
(data minimisation), so the officer who records a consent gives the birth date once and only a
keyed hash of it is stored (``ConsentRecord.withdrawal_check``): HMAC-SHA256 under a key derived
from SECRET_KEY, over the form reference and the date. Without SECRET_KEY the hash cannot be
tested against the 36,500 dates of a century; with it, the check is one comparison.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from consent.models import FORM_REFERENCE_ALPHABET, FORM_REFERENCE_PREFIX

CHECK_SALT = "rounds.consent.withdrawal_check"
CONTACT_SALT = "rounds.consent.withdrawal_contact"
LINK_SALT = "rounds.consent.withdrawal_link"
# Crockford's decoding: letters people write for digits.
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_BODY = re.compile(rf"^[{FORM_REFERENCE_ALPHABET}]{{8}}$")


def reference_normalise(typed: str) -> str:
    """Return ``typed`` as a stored form reference (``RC-7K3M-Q9TD``), or "" if it cannot be one.

    Case, spaces, dashes, a missing prefix and the letters O, I and L for 0 and 1 are forgiven, and
    so are full-width letters and digits and the long-vowel mark as a dash (as a Japanese IME types them).
    """
    text = re.sub(r"[\s\-\u2010-\u2015\u2212\u30fc_.]", "", unicodedata.normalize("NFKC", typed).upper())
    prefix = FORM_REFERENCE_PREFIX.replace("-", "")
    if text.startswith(prefix):
        text = text[len(prefix) :]
    text = text.translate(_MISREAD)
    if not _BODY.match(text):
        return ""
    return f"{FORM_REFERENCE_PREFIX}{text[:4]}-{text[4:]}"


def withdrawal_check_of(*, reference: str, born: dt.date, secret: str | bytes | None = None) -> str:
    """Return the stored check for ``reference`` and birth date ``born`` (hex HMAC-SHA256)."""
    value = f"{reference}|{born.isoformat()}"
    return salted_hmac(CHECK_SALT, value, secret=secret, algorithm="sha256").hexdigest()


def withdrawal_check_matches(*, stored: str, reference: str, born: dt.date) -> bool:
    """Return whether ``born`` is the birth date ``stored`` was made from; old SECRET_KEYs still count."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    found = False
    for secret in secrets:
        # Every key is tried, so the time taken does not say which one matched.
        found |= constant_time_compare(stored, withdrawal_check_of(reference=reference, born=born, secret=secret))
    return found


def contact_digest(email: str) -> str:
    """Return a keyed digest of an e-mail address: the audit trail tells requests apart without the address."""
    return salted_hmac(CONTACT_SALT, email.strip().lower(), algorithm="sha256").hexdigest()[:16]


@dataclass(frozen=True)
class WithdrawalLink:
    """What a confirmation link carries: the form reference and the digest of the address it was sent to."""

    reference: str
    contact: str


class WithdrawalLinkInvalid(Exception):
    """The link was altered, made with another key, or is older than ROUNDS_WITHDRAWAL_LINK_HOURS."""


def link_token(link: WithdrawalLink) -> str:
    """Return the signed, timestamped token of ``link`` for the confirmation URL."""
    return signing.TimestampSigner(salt=LINK_SALT).sign_object({"r": link.reference, "c": link.contact}, compress=True)


def link_read(token: str) -> WithdrawalLink:
    """Return the link ``token`` carries; raise WithdrawalLinkInvalid if it is forged, altered or expired."""
    max_age = dt.timedelta(hours=settings.ROUNDS_WITHDRAWAL_LINK_HOURS)
    try:
        data = signing.TimestampSigner(salt=LINK_SALT).unsign_object(token, max_age=max_age)
    except (signing.BadSignature, ValueError) as exc:
        raise WithdrawalLinkInvalid from exc
    if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("c"), str):
        raise WithdrawalLinkInvalid
    return WithdrawalLink(reference=data["r"], contact=data["c"])
