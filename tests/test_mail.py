"""core.mail.mail_once: each event mailed at most once, per recipient in their language, from templates."""

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.template import TemplateDoesNotExist

import core.mail
from audit.models import Notification
from audit.services import mail_claim
from core.mail import mail_ledger_register, mail_once
from tests.conftest import make_user
from tests.races import need_postgresql, race

TITLE = "Herz & Kreislauf: „Tag der offenen Tür“ am 14. März 💙"


@pytest.fixture(autouse=True)
def test_templates(settings: Any) -> None:
    """Let the tests render their own templates beside the project's."""
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], Path(__file__).parent / "templates"]}
    ]


def notice(key: str, recipients: list[Any], title: str = TITLE) -> int:
    return mail_once(key=key, recipients=recipients, template="test_mail/notice", context={"title": title})


@pytest.mark.django_db
def test_an_event_is_mailed_once_however_often_it_is_sent() -> None:
    anna, jonas = make_user("anna"), make_user("jonas")

    assert notice("stage_reached:41", [anna, jonas]) == 2
    assert notice("stage_reached:41", [anna, jonas]) == 0
    assert notice("stage_reached:41", [make_user("mehmet")]) == 0  # the event, not the people, is the key

    assert sorted(message.to[0] for message in mail.outbox) == ["anna@example.org", "jonas@example.org"]
    ledger = Notification.objects.get()
    assert (ledger.key, ledger.recipients) == ("stage_reached:41", ["anna@example.org", "jonas@example.org"])
    assert notice("stage_reached:42", [anna]) == 1  # another event is another mail
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_each_recipient_reads_the_mail_in_their_own_language(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    anna = make_user("anna", language="de")
    jonas = make_user("jonas", language="en")
    unset = make_user("mehmet", language="")

    assert notice("reminder:7", [anna, jonas, unset]) == 3

    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects["anna@example.org"] == f"[de] Deutsch: {TITLE}"
    assert subjects["jonas@example.org"] == f"[en] German: {TITLE}"
    assert subjects["mehmet@example.org"] == f"[en] German: {TITLE}"  # no language of their own: the site's
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert bodies["anna@example.org"].startswith("Hallo anna (de),\n")


@pytest.mark.django_db
def test_the_subject_is_one_line_and_plain_text_is_not_escaped() -> None:
    title = "Herz & Kreislauf <Station 3>\nzweite Zeile"
    assert notice("author:3:approved", [make_user("anna")], title=title) == 1

    (message,) = mail.outbox
    assert message.subject == "[en] German: Herz & Kreislauf <Station 3> zweite Zeile"
    assert "Herz & Kreislauf <Station 3>\nzweite Zeile" in message.body
    assert "&amp;" not in message.body and "&lt;" not in message.body


@pytest.mark.django_db
def test_inactive_people_and_people_without_an_address_get_nothing() -> None:
    anna = make_user("anna")
    gone = make_user("gone", is_active=False)
    silent = make_user("silent")
    silent.email = ""
    silent.save()

    assert notice("post_blocked:9:120", [anna, gone, silent, anna]) == 1
    assert [message.to for message in mail.outbox] == [["anna@example.org"]]
    assert Notification.objects.get().recipients == ["anna@example.org"]

    # Nobody to tell: nothing is claimed, so the event can still reach someone later.
    assert notice("post_blocked:9:121", [gone, silent]) == 0
    assert not Notification.objects.filter(key="post_blocked:9:121").exists()


@pytest.mark.django_db
def test_a_template_that_fails_leaves_the_event_unclaimed_for_a_retry() -> None:
    anna = make_user("anna")
    with pytest.raises(TemplateDoesNotExist):
        mail_once(key="consent_expiry:5:2027-01-31", recipients=[anna], template="test_mail/broken", context={})
    assert mail.outbox == []
    assert not Notification.objects.exists()

    assert notice("consent_expiry:5:2027-01-31", [anna]) == 1


@pytest.mark.django_db
def test_a_key_longer_than_the_ledger_holds_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        notice("x" * 101, [make_user("anna")])
    assert mail.outbox == []


@pytest.mark.django_db
def test_without_a_ledger_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    anna = make_user("anna")
    monkeypatch.setattr(core.mail, "_ledgers", [])

    with pytest.raises(ImproperlyConfigured, match="No mail ledger"):
        notice("stage_reached:1", [anna])
    assert mail.outbox == []


def test_a_second_ledger_is_refused_and_the_same_one_again_is_fine() -> None:
    mail_ledger_register(mail_claim)  # ready() may run twice

    def another(*, key: str, recipients: list[str]) -> bool:
        return True

    with pytest.raises(ImproperlyConfigured, match="registered already"):
        mail_ledger_register(another)
    assert core.mail._ledgers == [mail_claim]


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_sending_one_event_at_once_mail_it_once() -> None:
    need_postgresql()
    people = [make_user("anna"), make_user("jonas")]

    # The second worker claims while the first's claim is not committed yet: it waits on the
    # unique key, then finds the event taken and sends nothing.
    second = race(lambda: notice("reminder:77", people), lambda: notice("reminder:77", people))

    assert second.result() == 0
    assert sorted(message.to[0] for message in mail.outbox) == ["anna@example.org", "jonas@example.org"]
    assert Notification.objects.filter(key="reminder:77").count() == 1
