"""Online withdrawal (GDPR Art. 7(3)): the printed link, the neutral request page, the e-mailed confirmation."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core import mail, signing
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.erasure import event_changes
from audit.models import AuditEvent
from consent.models import ConsentRecord, ReceivedVia
from consent.withdrawal import WITHDRAWAL_ACTOR, withdrawal_form_url
from consent.withdrawal_check import (
    LINK_SALT,
    WithdrawalLink,
    contact_digest,
    link_token,
    reference_normalise,
    withdrawal_check_of,
)
from posts.models import Post, PostStatus
from posts.services import FeatureSpec, post_transition, post_update
from publishing.models import TakedownItem

# Mails go out after commit: each request commits as in production.
pytestmark = pytest.mark.django_db(transaction=True)

BORN = dt.date(1987, 4, 23)
ADDRESS = "J.Oeztuerk@müller-beispiel.de"


@pytest.fixture
def anna(subject_factory: Any) -> Any:
    return subject_factory(display_name="Anna Berger-Şahin", reference="CASE-2026-0042")


@pytest.fixture
def record(anna: Any, record_factory: Any) -> ConsentRecord:
    record = record_factory(anna)
    # As the officer's form sets it: the birth date only as its keyed check.
    check = withdrawal_check_of(reference=record.form_reference, born=BORN)
    ConsentRecord.objects.filter(pk=record.pk).update(withdrawal_check=check)
    record.refresh_from_db()
    return record


def ask(client: Client, reference: str, born: dt.date = BORN, email: str = ADDRESS, **extra: Any) -> Any:
    data = {"reference": reference, "born": born.isoformat(), "email": email}
    return client.post(reverse("withdrawal:start"), data, **extra)


def link_in(message: Any) -> str:
    found = re.search(r"https?://\S+/withdraw/confirm/\S+/", message.body)
    assert found, message.body
    return found.group(0)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_the_birth_date_is_kept_only_as_a_keyed_check(record: ConsentRecord) -> None:
    assert len(record.withdrawal_check) == 64
    row = ConsentRecord.objects.filter(pk=record.pk).values().get()
    assert not any("1987" in str(value) for value in row.values())
    assert record.subject.date_of_birth is None
    other = withdrawal_check_of(reference="RC-0000-0000", born=BORN)
    assert other != record.withdrawal_check, "the reference salts the check"


def test_recording_with_a_birth_date_stores_its_check_and_audits_that_there_is_one(
    anna: Any, record_factory: Any, client: Any, officer: Any
) -> None:
    from consent.services import SignerSpec, consent_record_create
    from tests.consent.conftest import pdf

    made = consent_record_create(
        actor=officer,
        subject=anna,
        data={
            "media_kinds": ["photo"],
            "description": "Foto auf Station 4",
            "disclosing_organisation": "Klinikum Nord",
            "all_platforms": True,
            "purposes": ["education"],
            "signed_on": timezone.localdate(),
            "expires_on": timezone.localdate() + dt.timedelta(days=30),
            "states_right_to_revoke": True,
            "states_no_conditioning": True,
            "states_redisclosure": True,
        },
        signers=[SignerSpec(role="subject", name="Anna")],
        document=pdf(),
        document_name="form.pdf",
        withdrawal_born=BORN,
    )
    assert made.withdrawal_check == withdrawal_check_of(reference=made.form_reference, born=BORN)
    event = AuditEvent.objects.get(action="consent.recorded", object_id=str(made.pk))
    assert event.changes["online_withdrawal_check"] is True
    assert "1987" not in str(event.changes)


@pytest.mark.parametrize("typed", ["rc-7k3m-q9td", " RC 7K3M Q9TD ", "7K3MQ9TD", "RC–7K3M–Q9TD", "rc-7k3m-q9td"])
def test_a_reference_is_read_as_people_type_it(typed: str) -> None:
    assert reference_normalise(typed) == "RC-7K3M-Q9TD"
    assert reference_normalise("RC-7K3O-Q9TD") == "RC-7K30-Q9TD"
    assert reference_normalise("RC-7K3M") == ""
    assert reference_normalise("<script>") == ""


def test_a_matching_request_mails_a_link_and_the_page_says_the_same_as_for_a_wrong_one(
    client: Client, record: ConsentRecord
) -> None:
    before = AuditEvent.objects.count()
    right = ask(client, record.form_reference.lower())
    assert right.status_code == 302 and right["Location"] == reverse("withdrawal:sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [ADDRESS]
    assert record.form_reference in mail.outbox[0].subject
    assert "Anna" not in mail.outbox[0].body, "the mail names no one"
    event = AuditEvent.objects.get(action="consent.withdrawal_requested")
    assert event.actor_repr == WITHDRAWAL_ACTOR and event.actor is None
    assert event_changes(event) == {"contact": contact_digest(ADDRESS)}
    assert "beispiel" not in str(event.changes).lower()
    assert AuditEvent.objects.count() == before + 1
    record.refresh_from_db()
    assert record.revoked_at is None, "asking withdraws nothing"

    wrong_date = ask(client, record.form_reference, born=BORN + dt.timedelta(days=1))
    wrong_reference = ask(client, "RC-0000-0000")
    assert wrong_date.status_code == wrong_reference.status_code == 302
    assert wrong_date["Location"] == wrong_reference["Location"] == right["Location"]
    assert len(mail.outbox) == 1, "nothing is sent for a wrong reference or date"
    assert AuditEvent.objects.count() == before + 1
    page = client.get(reverse("withdrawal:sent")).content.decode()
    assert "If the form reference and the date of birth match" in page
    assert "Anna" not in page and record.form_reference not in page


def test_a_record_without_a_birth_date_gets_a_mail_saying_whom_to_contact(
    client: Client, anna: Any, record_factory: Any, settings: Any
) -> None:
    settings.ROUNDS_CONSENT_CONTACT = "Datenschutz, +49 30 1234-567, datenschutz@klinikum.example"
    bare = record_factory(anna)
    assert bare.withdrawal_check == ""

    response = ask(client, bare.form_reference)

    assert response["Location"] == reverse("withdrawal:sent")
    assert len(mail.outbox) == 1
    assert "cannot be withdrawn online" in mail.outbox[0].body
    assert "+49 30 1234-567" in mail.outbox[0].body
    assert "/withdraw/confirm/" not in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="consent.withdrawal_unverifiable").count() == 1


def test_a_minor_s_stored_birth_date_serves_as_the_check(
    client: Client, subject_factory: Any, record_factory: Any
) -> None:
    child = subject_factory(display_name="Mia", date_of_birth=dt.date(2015, 2, 28))
    from consent.services import SignerSpec

    signers = [SignerSpec(role="guardian", name="Eva Mustermann", authority="mother"), SignerSpec("subject", "Mia")]
    kept = record_factory(child, signers=signers)

    ask(client, kept.form_reference, born=dt.date(2015, 2, 27))
    assert mail.outbox == []
    ask(client, kept.form_reference, born=dt.date(2015, 2, 28))
    assert "/withdraw/confirm/" in mail.outbox[0].body


def test_bad_input_is_refused_with_its_error_and_writes_nothing(client: Client, record: ConsentRecord) -> None:
    before = AuditEvent.objects.count()
    response = client.post(reverse("withdrawal:start"), {"reference": "", "born": "31.02.1987", "email": "kein"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please correct the marked fields." in page
    assert mail.outbox == [] and AuditEvent.objects.count() == before


def test_the_sixth_attempt_from_one_address_is_refused_with_429(client: Client, record: ConsentRecord) -> None:
    for n in range(5):
        assert ask(client, f"RC-0000-000{n}").status_code == 302
    refused = ask(client, record.form_reference)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many attempts" in refused.content.decode()
    assert mail.outbox == [], "a refused attempt is not even checked"
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert ask(other, record.form_reference, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert len(mail.outbox) == 1


def test_one_reference_is_limited_across_addresses(client: Client, record: ConsentRecord) -> None:
    for n in range(5):
        ask(client, record.form_reference, born=BORN + dt.timedelta(days=n + 1), REMOTE_ADDR=f"203.0.113.{n}")
    response = ask(client, record.form_reference, REMOTE_ADDR="203.0.113.99")
    assert response.status_code == 429
    assert mail.outbox == [], "the right date after five wrong ones waits for the window"


def test_the_window_ends(client: Client, record: ConsentRecord, settings: Any) -> None:
    settings.ROUNDS_WITHDRAWAL_RATE = 1
    assert ask(client, record.form_reference).status_code == 302
    assert ask(client, record.form_reference).status_code == 429
    from django.core.cache import cache

    cache.clear()  # what the window's end does
    assert ask(client, record.form_reference).status_code == 302


def test_the_request_needs_a_csrf_token(record: ConsentRecord) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = ask(strict, record.form_reference)
    assert response.status_code == 403
    assert mail.outbox == []


def test_the_start_page_fills_in_the_printed_reference_and_shows_nothing_about_the_consent(
    client: Client, record: ConsentRecord
) -> None:
    page = client.get(reverse("withdrawal:start") + f"?ref={record.form_reference}").content.decode()
    assert f'value="{record.form_reference}"' in page
    assert "Anna" not in page and "Klinikum Nord" not in page


def _requested_link(client: Client, record: ConsentRecord) -> str:
    ask(client, record.form_reference)
    return path_of(link_in(mail.outbox[-1]))


def test_opening_the_link_changes_nothing(client: Client, record: ConsentRecord) -> None:
    link = _requested_link(client, record)
    before = AuditEvent.objects.count()

    page = client.get(link)

    assert page.status_code == 200
    assert "Withdraw my consent" in page.content.decode()
    record.refresh_from_db()
    assert record.revoked_at is None and AuditEvent.objects.count() == before


def test_confirming_revokes_as_an_officer_would_and_tells_the_officers(
    client: Client,
    record: ConsentRecord,
    officer: Any,
    officer2: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
) -> None:
    account = account_factory("facebook")
    features = [FeatureSpec(subject=record.subject, consent=record, media_kinds=("story",))]
    published = post_factory(editor, campaign, targets=[account], title="Annas Geschichte")
    follow_up = post_factory(editor, campaign, targets=[account], title="Anna, ein Jahr danach")
    for post in (published, follow_up):
        post_update(post=post, actor=editor, featured=features)
    with transaction.atomic():
        for post, last in ((published, PostStatus.PUBLISHED), (follow_up, PostStatus.SCHEDULED)):
            locked = Post.objects.select_for_update().get(pk=post.pk)
            for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED):
                post_transition(post=locked, to=status, actor=editor, reason="history for the test")
                if status == last:
                    break
    link = _requested_link(client, record)
    mail.outbox.clear()

    response = client.post(link, {"reason": "Ich möchte nicht mehr gezeigt werden. 🙏"})

    assert response.status_code == 200
    assert "Your consent is withdrawn." in response.content.decode()
    record.refresh_from_db()
    assert record.revocation_received_via == ReceivedVia.ONLINE
    assert record.revoked_by is None and record.revoked_at is not None
    assert record.revocation_reason == "Ich möchte nicht mehr gezeigt werden. 🙏"
    event = AuditEvent.objects.get(action="consent.revoked", object_id=str(record.pk))
    assert event.actor_repr == WITHDRAWAL_ACTOR and event.actor is None
    assert event.changes["online"] is True and event.changes["received_via"] == "online"
    assert event.changes["contact"] == contact_digest(ADDRESS)
    assert "beispiel" not in str(event.changes).lower()
    follow_up.refresh_from_db()
    published.refresh_from_db()
    assert follow_up.status == PostStatus.BLOCKED
    assert published.status == PostStatus.PUBLISHED
    item = TakedownItem.objects.get()
    assert (item.post, item.account, item.consent) == (published, account, record)
    assert AuditEvent.objects.filter(action="takedown.created", object_id=str(item.pk)).count() == 1
    officer_mails = [message for message in mail.outbox if message.to[0] in {officer.email, officer2.email}]
    assert sorted(message.to[0] for message in officer_mails) == sorted([officer.email, officer2.email])
    assert "withdrawn online" in officer_mails[0].subject
    assert officer.notices.filter(url=reverse("consent:record_detail", args=[record.pk])).exists()

    again = client.post(link)
    assert again.status_code == 200
    assert "already withdrawn" in again.content.decode()
    assert AuditEvent.objects.filter(action="consent.revoked").count() == 1


def test_the_record_page_shows_the_online_withdrawal(client: Client, record: ConsentRecord, officer: Any) -> None:
    link = _requested_link(client, record)
    client.post(link)
    client.force_login(officer)
    page = client.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert "Online withdrawal form" in page
    assert "by the person, online (confirmed by e-mail)" in page


def test_a_forged_or_altered_link_is_refused_and_changes_nothing(client: Client, record: ConsentRecord) -> None:
    forged = signing.TimestampSigner(key="not-our-key", salt=LINK_SALT).sign_object(
        {"r": record.form_reference, "c": "x"}
    )
    good = link_token(WithdrawalLink(reference=record.form_reference, contact="x"))
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for token in (forged, altered, "not-a-token"):
        url = reverse("withdrawal:confirm", args=[token])
        assert client.get(url).status_code == 400
        response = client.post(url)
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    record.refresh_from_db()
    assert record.revoked_at is None


def test_a_link_older_than_48_hours_is_refused(client: Client, record: ConsentRecord) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = _requested_link(client, record)
    with time_machine.travel(start + dt.timedelta(hours=47, minutes=59), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=48, minutes=1), tick=False):
        assert client.post(link).status_code == 400
    record.refresh_from_db()
    assert record.revoked_at is None


def test_an_officer_cannot_choose_online_withdrawal_as_a_channel(
    client: Client, record: ConsentRecord, officer: Any
) -> None:
    client.force_login(officer)
    page = client.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert 'value="online"' not in page


def test_the_printed_form_carries_the_reference_the_link_and_its_qr_code(
    client: Client, record: ConsentRecord, officer: Any, settings: Any
) -> None:
    settings.ROUNDS_PUBLIC_URL = "https://einwilligung.klinikum.example"
    client.force_login(officer)
    detail = client.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert reverse("consent:record_print", args=[record.pk]) in detail

    response = client.get(reverse("consent:record_print", args=[record.pk]))

    page = response.content.decode()
    url = f"https://einwilligung.klinikum.example/withdraw/?ref={record.form_reference}"
    assert withdrawal_form_url(record) == url
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert record.form_reference in page and url in page
    assert "<svg" in page and "<path" in page and "style=" not in page.split("<svg", 1)[1]
    assert "Klinikum Nord" in page
    assert "do not depend on signing" in page


def test_only_consent_officers_print_forms(client: Client, record: ConsentRecord, editor: Any) -> None:
    url = reverse("consent:record_print", args=[record.pk])
    assert client.get(url).status_code == 302
    client.force_login(editor)
    assert client.get(url).status_code == 403


def test_the_officer_gives_the_birth_date_on_the_record_form_and_it_is_stored_only_as_its_check(
    client: Client, anna: Any, officer: Any
) -> None:
    from tests.consent.test_views import record_post

    client.force_login(officer)
    url = reverse("consent:record_create", args=[anna.pk])
    assert "Date of birth of the person shown, for online withdrawal" in client.get(url).content.decode()

    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    refused = client.post(url, record_post(withdrawal_born=future))
    assert refused.status_code == 200 and "The date of birth is in the future." in refused.content.decode()
    assert not ConsentRecord.objects.exists()

    response = client.post(url, record_post(withdrawal_born=BORN.isoformat()))

    assert response.status_code == 302
    made = ConsentRecord.objects.get()
    assert made.withdrawal_check == withdrawal_check_of(reference=made.form_reference, born=BORN)
    anna.refresh_from_db()
    assert anna.date_of_birth is None, "data minimisation: the birth date itself is not kept"
    detail = client.get(reverse("consent:record_detail", args=[made.pk])).content.decode()
    assert "No date of birth was recorded for online withdrawal" not in detail
