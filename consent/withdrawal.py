"""Online withdrawal of consent (GDPR Art. 7(3)): the person asks, confirms by e-mail, and the cascade runs.

No account is involved: what proves the person is the form reference printed on their form, their
date of birth and a link mailed to an address they give. The view rate-limits the asking; the
answer to a request never tells whether the reference or the birth date was wrong.
"""

import datetime as dt
import enum
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.services import event_record
from consent.models import ConsentRecord, ReceivedVia
from consent.services import revocation_apply
from consent.withdrawal_check import (
    WithdrawalLink,
    WithdrawalLinkInvalid,
    contact_digest,
    link_read,
    link_token,
    reference_normalise,
    withdrawal_check_matches,
    withdrawal_check_of,
)
from core.mail import mail_once
from core.site import site_url
from people.models import User
from people.roles import CONSENT_OFFICER

# How the audit trail names who acted: no user does.
WITHDRAWAL_ACTOR = "online withdrawal"
# Timing: a reference that matches nothing costs the same hash as one that does.
_NEVER = dt.date(1900, 1, 1)


class Outcome(enum.Enum):
    """What a request led to. Never shown to the person: their page is the same in every case."""

    LINK_SENT = "link_sent"
    CONTACT_SENT = "contact_sent"  # the record has no birth date to check: the mail says whom to ask
    NO_MATCH = "no_match"


def public_url(path: str) -> str:
    """Return ``path`` as an absolute URL the public can reach (ROUNDS_PUBLIC_URL, else the site's)."""
    base = settings.ROUNDS_PUBLIC_URL
    return f"{base}/{path.lstrip('/')}" if base else site_url(path)


def withdrawal_form_url(record: ConsentRecord) -> str:
    """Return the withdrawal page's address for the printed form, the reference filled in."""
    return public_url(reverse("withdrawal:start")) + f"?ref={record.form_reference}"


def birth_date_matches(record: ConsentRecord, born: dt.date) -> bool | None:
    """Return whether ``born`` is the person's birth date; None when the record has nothing to check it against."""
    if record.withdrawal_check:
        return withdrawal_check_matches(stored=record.withdrawal_check, reference=record.form_reference, born=born)
    if record.subject.date_of_birth is not None:
        withdrawal_check_of(reference=record.form_reference, born=born)
        return record.subject.date_of_birth == born
    withdrawal_check_of(reference=record.form_reference, born=born)
    return None


def _person_mail(*, template: str, to: str, context: dict[str, object]) -> None:
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send()


def withdrawal_request(*, reference: str, born: dt.date, email: str) -> Outcome:
    """Mail a confirmation link to ``email`` if ``reference`` and ``born`` match a consent; returns the outcome.

    A match writes ``consent.withdrawal_requested`` (with a digest of the address, never the
    address); nothing else is written. The mail goes out after commit.
    """
    normal = reference_normalise(reference)
    record = ConsentRecord.objects.select_related("subject").filter(form_reference=normal).first() if normal else None
    if record is None:
        withdrawal_check_of(reference=normal, born=born)
        withdrawal_check_of(reference=normal, born=_NEVER)
        return Outcome.NO_MATCH
    matches = birth_date_matches(record, born)
    if matches is False:
        return Outcome.NO_MATCH
    contact = contact_digest(email)
    context = {
        "organisation": settings.ROUNDS_ORGANISATION_NAME,
        "reference": record.form_reference,
        "contact": settings.ROUNDS_CONSENT_CONTACT,
        "hours": settings.ROUNDS_WITHDRAWAL_LINK_HOURS,
    }
    with transaction.atomic():
        if matches is None:
            event_record(
                actor=WITHDRAWAL_ACTOR,
                action="consent.withdrawal_unverifiable",
                obj=record,
                changes={"contact": contact},
            )
            mail = partial(_person_mail, template="consent/email/withdrawal_contact", to=email, context=context)
            transaction.on_commit(mail)
            return Outcome.CONTACT_SENT
        event_record(
            actor=WITHDRAWAL_ACTOR, action="consent.withdrawal_requested", obj=record, changes={"contact": contact}
        )
        token = link_token(WithdrawalLink(reference=record.form_reference, contact=contact))
        context["url"] = public_url(reverse("withdrawal:confirm", args=[token]))
        mail = partial(_person_mail, template="consent/email/withdrawal_link", to=email, context=context)
        transaction.on_commit(mail)
    return Outcome.LINK_SENT


def withdrawal_link_record(token: str) -> ConsentRecord:
    """Return the consent a confirmation link is for; raise WithdrawalLinkInvalid if the link is not good."""
    link = link_read(token)
    record = ConsentRecord.objects.select_related("subject").filter(form_reference=link.reference).first()
    if record is None:  # erased since
        raise WithdrawalLinkInvalid
    return record


@transaction.atomic
def withdrawal_confirm(*, token: str, reason: str = "") -> ConsentRecord:
    """Revoke the consent of a confirmation link as an officer's revocation would; returns it.

    Raises WithdrawalLinkInvalid for a bad link and ValidationError (code ``already_revoked``)
    when the consent is already revoked. Consent officers are told after commit.
    """
    link = link_read(token)
    record = withdrawal_link_record(token)
    reason = reason.strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2,000 characters.")}, code="reason_too_long")
    record = revocation_apply(
        record=record,
        actor=WITHDRAWAL_ACTOR,
        received_via=ReceivedVia.ONLINE,
        reason=reason,
        audit={"online": True, "contact": link.contact},
    )
    transaction.on_commit(partial(officers_notify, record=record))
    return record


def officers_notify(*, record: ConsentRecord) -> int:
    """Tell every active Consent officer that ``record`` was withdrawn online; returns mails sent."""
    officers = User.objects.filter(groups__name=CONSENT_OFFICER, is_active=True).distinct().order_by("pk")
    path = reverse("consent:record_detail", args=[record.pk])
    return mail_once(
        key=f"consent_withdrawn_online:{record.pk}",
        recipients=officers,
        template="consent/email/withdrawn_online",
        context={"record": record, "url": site_url(path)},
        url=path,
    )
