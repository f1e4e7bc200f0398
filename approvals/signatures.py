"""Electronic signatures of review decisions: what each one means and whether it still holds.

After 21 CFR 11.50, a signed record shows the signer's printed name, the date and time of
signing and its meaning (approval, request for changes, rejection), and after 11.70 the
signature is bound to the record it signed: here the content hash of the revision decided on, so
any later change of the post leaves the signature on record but no longer valid for it.
"""

import datetime as dt
import time
import zoneinfo
from dataclasses import dataclass
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import Confirmation, Decision, StageRun, Verdict
from core.i18n import display_name
from people.models import User
from people.twofactor import recently_authenticated

SHORT_HASH = 12

# allauth's second factors (record method "mfa", field "type") as Rounds names them.
_MFA_TYPES = {
    "totp": Confirmation.TOTP,
    "webauthn": Confirmation.SECURITY_KEY,
    "recovery_codes": Confirmation.RECOVERY_CODE,
}


def printed_name(user: User) -> str:
    """Return the name a signature prints for ``user``: their full name, else their username."""
    return user.get_full_name().strip() or user.get_username()


def signed_as(stage_run: StageRun) -> str:
    """Return the role a decision on ``stage_run`` is signed in: the stage's group (e.g. "Medical reviewer")."""
    return stage_run.stage.group.name


def meaning_of(*, verdict: str, role: str) -> str:
    """Return what a signature with ``verdict`` means, in the active language."""
    if verdict == Verdict.APPROVE:
        return _("Approved as %(role)s") % {"role": role} if role else _("Approved")
    if verdict == Verdict.REQUEST_CHANGES:
        return _("Requested changes")
    if verdict == Verdict.REJECT:
        return _("Rejected")
    return verdict


def confirmation_of(request: HttpRequest) -> Confirmation:
    """Return how the signer last showed it was them, if that was within the re-authentication window.

    A confirmation ("confirm it's you") names its method; a sign-in counts as a recent sign-in.
    """
    records: list[dict[str, Any]] = get_authentication_records(request, request.user)
    if not records:
        return Confirmation.NOT_RECORDED
    last = max(records, key=lambda record: float(record.get("at", 0)))
    if time.time() - float(last.get("at", 0)) >= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
        return Confirmation.NOT_RECORDED
    if not last.get("reauthenticated"):
        return Confirmation.SIGN_IN
    method = last.get("method")
    if method == "password":
        return Confirmation.PASSWORD
    if method == "mfa":
        return _MFA_TYPES.get(str(last.get("type")), Confirmation.SIGN_IN)
    if method == "code":
        return Confirmation.CODE
    return Confirmation.SIGN_IN


def must_sign_in_again(request: HttpRequest) -> bool:
    """True when signing needs a fresh confirmation that the user has no way to give but signing in again.

    People who sign in by single sign-on have no password here; without a second factor they
    cannot confirm it's them, only sign in at their provider again (which counts as recent).
    """
    return (
        settings.ROUNDS_REAUTHENTICATION_REQUIRED
        and not recently_authenticated(request)
        and not get_adapter().get_reauthentication_methods(request.user)
    )


@dataclass(frozen=True)
class Signature:
    """One decision as a signature: printed name, time and zone, meaning, reason, and its validity."""

    decision: Decision
    printed_name: str
    username: str
    signed_at: dt.datetime
    signer_time_zone: str
    verdict: str
    role: str
    meaning: str
    reason: str
    confirmation: str
    confirmation_label: str
    content_hash: str
    current_hash: str

    @property
    def valid(self) -> bool:
        """True while the post's content is the content that was signed."""
        return bool(self.content_hash) and self.content_hash == self.current_hash

    @property
    def short_hash(self) -> str:
        return self.content_hash[:SHORT_HASH]

    @property
    def signed_at_utc(self) -> dt.datetime:
        return self.signed_at.astimezone(dt.UTC)

    @property
    def signer_zone(self) -> zoneinfo.ZoneInfo | None:
        """The zone the signer worked in, or None if it is unknown (or no longer in the zone database)."""
        try:
            return zoneinfo.ZoneInfo(self.signer_time_zone) if self.signer_time_zone else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None

    @property
    def signed_at_signer(self) -> dt.datetime | None:
        """The signing time as the signer's clock showed it."""
        zone = self.signer_zone
        return self.signed_at.astimezone(zone) if zone else None

    @property
    def signer_zone_differs(self) -> bool:
        """True when the viewer's zone shows the signing time otherwise than the signer's clock did."""
        local = self.signed_at_signer
        return local is not None and local.utcoffset() != timezone.localtime(self.signed_at).utcoffset()


def signature_of(decision: Decision, *, current_hash: str) -> Signature:
    """Return ``decision`` as a signature checked against the post's ``current_hash``.

    Reads no rows if ``decision.reviewer`` was loaded with it (``select_related``).
    """
    name = decision.signer_name or printed_name(decision.reviewer)
    return Signature(
        decision=decision,
        printed_name=name,
        username=decision.reviewer.get_username(),
        signed_at=decision.created_at,
        signer_time_zone=decision.signer_time_zone,
        verdict=decision.verdict,
        # The role is stored as signed (the group's English name); the page shows it in the reader's language.
        role=display_name(decision.signer_role),
        meaning=meaning_of(verdict=decision.verdict, role=display_name(decision.signer_role)),
        reason=decision.comment,
        confirmation=decision.confirmation,
        confirmation_label=str(Confirmation(decision.confirmation).label)
        if decision.confirmation in Confirmation.values
        else decision.confirmation,
        content_hash=decision.content_hash,
        current_hash=current_hash,
    )
