"""E-mail that goes out at most once per event, rendered from templates in each recipient's language.

Every mail Rounds sends belongs to an event with a stable key (``stage_reached:<stage run>``,
``consent_expiry:<record>:<date>``, ...). ``mail_once`` renders the mails, claims the key in a
ledger, a table with the key unique, and sends only if this call made the claim: a task delivered
twice, retried after a crash or run by two workers at once mails nobody twice. A template that
fails leaves the key unclaimed; a send that fails is not repeated (the claim came first): at most once.

``core`` holds no models, so the ledger is offered by the app that owns it (``audit``), which
registers its claim function here in ``AppConfig.ready()``. Without a ledger, ``mail_once``
refuses to send rather than send without the guarantee.

Every mail is also an in-app notice: the app that keeps notices (``people``) registers a notice
box, which ``mail_once`` fills in the transaction of the claim, so an event makes its notices once.
Each person chooses whether the mail itself goes out now (``email_delivery``: "each"), in a daily
digest ("digest") or not at all ("none"); the notice is made in every case.
"""

from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template import Context, Engine
from django.utils import translation


class MailLedger(Protocol):
    def __call__(self, *, key: str, recipients: list[str]) -> bool:
        """Record that event ``key`` is mailed to ``recipients``; return False if it was claimed before."""
        ...


class NoticeBox(Protocol):
    def __call__(self, *, key: str, notices: list[tuple[AbstractBaseUser, str]], url: str) -> None:
        """Keep one notice per (user, subject) of event ``key``, linking to ``url``; once per user and key."""
        ...


_ledgers: list[MailLedger] = []
_boxes: list[NoticeBox] = []
# ``email_delivery`` values: only "each" is mailed at once; a user model without the field gets every mail.
MAIL_EACH = "each"


def mail_ledger_register(claim: MailLedger) -> None:
    """Make ``claim`` the store that lets each event key be mailed once; one store per project."""
    if _ledgers and _ledgers[0] is not claim:
        # Two stores could each grant the same key once: the guarantee would be gone.
        raise ImproperlyConfigured("A mail ledger is registered already; Rounds has one.")
    _ledgers[:] = [claim]


def notice_box_register(box: NoticeBox) -> None:
    """Make ``box`` the store of in-app notices that every mailed event also fills; one per project."""
    _boxes[:] = [box]


def _address(user: AbstractBaseUser) -> str:
    return str(getattr(user, user.get_email_field_name(), "") or "")


def _render(name: str, values: dict[str, Any]) -> str:
    # Plain text, so nothing is HTML-escaped: a post "Herz & Kreislauf" must not arrive as "Herz &amp; Kreislauf".
    return Engine.get_default().get_template(name).render(Context(values, autoescape=False))


def mail_once(
    *,
    key: str,
    recipients: Iterable[AbstractBaseUser],
    template: str,
    context: dict[str, Any],
    url: str = "",
    notice: bool = True,
) -> int:
    """Mail event ``key`` to the active ``recipients`` with an address, unless it was mailed before; returns mails sent.

    Each recipient gets ``<template>_subject.txt`` (on one line) and ``<template>.txt`` rendered
    with ``context`` plus ``user``, in their own language (``user.language``, else LANGUAGE_CODE).
    With ``notice`` (the default) each also gets an in-app notice with that subject, linking to
    ``url`` (a path), and only those who want each event by mail get the mail; without it (the
    daily digest itself) everyone is mailed and no notice is made.
    """
    if not _ledgers:
        raise ImproperlyConfigured("No mail ledger is registered: e-mail could go out twice, so none is sent.")
    people: dict[Any, AbstractBaseUser] = {}
    for user in recipients:
        if user.is_active and _address(user):
            people.setdefault(user.pk, user)
    if not people:
        return 0
    messages = []
    notices: list[tuple[AbstractBaseUser, str]] = []
    for user in people.values():
        values = {**context, "user": user}
        mailed = not notice or getattr(user, "email_delivery", MAIL_EACH) == MAIL_EACH
        with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
            # A line break in a subject would be a header injection; Django refuses to send it.
            subject = " ".join(_render(f"{template}_subject.txt", values).split())
            if mailed:
                body = _render(f"{template}.txt", values)
        notices.append((user, subject))
        if mailed:
            messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [_address(user)]))
    # Rendered before claiming: a template that fails leaves the event unclaimed, for a retry.
    with transaction.atomic():
        if not _ledgers[0](key=key, recipients=sorted(message.to[0] for message in messages)):
            return 0
        if notice and _boxes:
            _boxes[0](key=key, notices=notices, url=url)
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0
