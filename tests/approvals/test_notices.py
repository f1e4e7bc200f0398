"""In-app notices: every mail makes one, each person chooses how they get e-mail, the daily digest, the count."""

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import Verdict
from approvals.notifications import author_told, reminders_send, stage_reached
from approvals.policy import current_stage_run
from approvals.services import decision_record, round_submit
from audit.models import AuditEvent
from people.models import EmailDelivery, Notice
from people.notifications import digests_send
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.ROUNDS_SITE_URL = "https://rounds.klinikum-nord.example"


@pytest.fixture
def submit(django_capture_on_commit_callbacks: Any) -> Any:
    # The mails go out after commit (core.tasks.enqueue_after_commit): run them as a commit would.
    def run(post: Any, editor: Any) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            round_submit(post=post, actor=editor)

    return run


@pytest.fixture
def submitted(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, submit: Any) -> Any:
    post = post_factory(
        editor,
        review_campaign,
        title="Grippeimpfung für Mitarbeitende 💉",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    submit(post, editor)
    post.refresh_from_db()
    return post


def test_every_review_mail_makes_a_notice_and_links_to_the_decision(submitted: Any, reviewers: dict[str, Any]) -> None:
    run = current_stage_run(post=submitted)
    assert run is not None
    path = f"/reviews/posts/{submitted.pk}/#decision"
    assert reverse("approvals:review", args=[submitted.pk]) + "#decision" == path
    medical = reviewers["medical"]
    notices = Notice.objects.filter(user=medical, key=f"stage_reached:{run.pk}")
    assert [(notice.url, notice.read_at) for notice in notices] == [(path, None)]
    [to_medical] = [message for message in mail.outbox if message.to == [medical.email]]
    assert notices[0].subject == to_medical.subject
    assert f"https://rounds.klinikum-nord.example{path}" in to_medical.body
    # A second delivery of the task makes no second notice, as it sends no second mail.
    assert stage_reached(stage_run_id=run.pk) == 0
    assert Notice.objects.filter(user=medical).count() == 1

    type(run).objects.filter(pk=run.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert reminders_send() == 3
    reminder = Notice.objects.get(user=medical, key__startswith=f"reminder:{run.pk}:")
    assert reminder.url == path
    assert "https://rounds.klinikum-nord.example" + path in mail.outbox[-1].body

    decision = decision_record(stage_run=run, reviewer=medical, verdict=Verdict.REJECT, comment="Keine Namen.")
    author_told(decision_id=decision.pk)
    told = Notice.objects.get(user=submitted.author, key__startswith="author:")
    assert told.url == path
    assert any(path in message.body and message.to == [submitted.author.email] for message in mail.outbox)


def test_digest_and_none_readers_get_the_notice_but_no_mail_at_once(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    submit: Any,
) -> None:
    reviewers["medical"].email_delivery = EmailDelivery.DIGEST
    reviewers["medical"].save()
    reviewers["medical2"].email_delivery = EmailDelivery.NONE
    reviewers["medical2"].save()
    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    submit(post, editor)
    assert sorted(address for message in mail.outbox for address in message.to) == ["all_rounder@example.org"]
    for name in ("medical", "medical2", "all_rounder"):
        assert Notice.objects.filter(user=reviewers[name], key__startswith="stage_reached:").count() == 1


def test_the_daily_digest_mails_each_reader_their_day_once(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    submit: Any,
) -> None:
    medical = reviewers["medical"]
    medical.email_delivery = EmailDelivery.DIGEST
    medical.time_zone = "Europe/Berlin"
    medical.save()
    for title in ("Impftag", "Blutspende"):
        post = post_factory(editor, review_campaign, title=title, targets=[account_factory("facebook")])
        submit(post, editor)
    Notice.objects.create(
        user=medical, key="old", subject="Vorgestern", created_at=timezone.now() - dt.timedelta(days=3)
    )
    mail.outbox.clear()
    tomorrow = timezone.now() + dt.timedelta(days=1)

    assert digests_send(now=tomorrow) == 1
    [digest] = mail.outbox
    assert digest.to == [medical.email]
    assert "2 notices" in digest.subject
    assert digest.body.count("/reviews/posts/") == 2 and "Vorgestern" not in digest.body
    assert "/me/notices/" in digest.body
    # Run again the same day (hourly schedule, a second worker): nobody is mailed twice.
    assert digests_send(now=tomorrow + dt.timedelta(minutes=30)) == 0
    assert len(mail.outbox) == 1
    # The digest itself makes no notice, and people who want each mail get no digest.
    assert not Notice.objects.filter(key__startswith="digest:").exists()
    assert digests_send(now=tomorrow + dt.timedelta(days=5)) == 0  # a day without notices: no mail


def test_a_person_chooses_their_e_mail_on_the_preferences_page_and_it_is_audited(editor: Any) -> None:
    client = client_for(editor)
    page = client.get(reverse("people:preferences")).content.decode()
    assert "E-mail notifications" in page and "One e-mail a day" in page
    response = client.post(
        reverse("people:preferences"),
        {"language": "de", "time_zone": "Europe/Berlin", "email_delivery": EmailDelivery.DIGEST},
    )
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.email_delivery == EmailDelivery.DIGEST
    event = AuditEvent.objects.filter(action="user.preferences_changed").latest("pk")
    assert event.changes["email_delivery"] == ["each", "digest"]


def test_governance_sets_a_persons_e_mail_choice_in_the_admin_and_it_is_audited(editor: Any, governance: Any) -> None:
    from tests.test_admin import user_form

    client = client_for(governance)
    url = reverse("admin:people_user_change", args=[editor.pk])
    assert 'name="email_delivery"' in client.get(url).content.decode()
    response = client.post(url, user_form(editor, email_delivery=EmailDelivery.NONE))
    assert response.status_code == 302, response.content.decode()[:2000]
    editor.refresh_from_db()
    assert editor.email_delivery == EmailDelivery.NONE
    event = AuditEvent.objects.filter(action="user.updated").latest("pk")
    assert event.changes == {"email_delivery": ["each", "none"]}


def test_notices_page_opens_marks_read_and_marks_all_read(editor: Any, other_editor: Any) -> None:
    first = Notice.objects.create(
        user=editor, key="a", subject="Review needed: post #1", url="/reviews/posts/1/#decision"
    )
    second = Notice.objects.create(user=editor, key="b", subject="Post #2: Approved", url="/reviews/posts/2/#decision")
    theirs = Notice.objects.create(user=other_editor, key="a", subject="Not yours", url="/")
    client = client_for(editor)
    page = client.get(reverse("people:notices")).content.decode()
    assert "Review needed: post #1" in page and "Not yours" not in page
    assert "data-notice-count>2<" in page

    response = client.get(reverse("people:notice_open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/reviews/posts/1/#decision"
    first.refresh_from_db()
    assert first.read_at is not None
    assert client.get(reverse("people:notice_open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("people:notice_read", args=[theirs.pk])).status_code == 404

    events = AuditEvent.objects.count()
    client.post(reverse("people:notices_read_all"))
    assert not Notice.objects.filter(user=editor, read_at__isnull=True).exists()
    assert Notice.objects.get(pk=theirs.pk).read_at is None
    assert AuditEvent.objects.count() == events  # reading is not a change of the hospital's work
    second.refresh_from_db()
    assert second.read_at is not None


def test_a_notice_never_sends_anyone_to_another_site(editor: Any) -> None:
    notice = Notice.objects.create(user=editor, key="x", subject="Odd", url="https://evil.example/phish")
    response = client_for(editor).get(reverse("people:notice_open", args=[notice.pk]))
    assert response["Location"] == reverse("people:notices")


def _notice_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("people:preferences")).status_code == 200
    return sum('"people_notice"' in query["sql"] for query in queries.captured_queries)


def test_the_unread_count_costs_one_query_however_many_notices(editor: Any) -> None:
    client = client_for(editor)
    Notice.objects.create(user=editor, key="n0", subject="Eins")
    assert _notice_queries(client) == 1
    Notice.objects.bulk_create([Notice(user=editor, key=f"n{i}", subject=f"Notiz {i}") for i in range(1, 50)])
    assert _notice_queries(client) == 1
    assert "data-notice-count>50<" in client.get(reverse("people:preferences")).content.decode()


def test_a_user_without_groups_sees_no_count_without_notices() -> None:
    nobody = make_user("nobody_notices")
    page = client_for(nobody).get(reverse("people:notices")).content.decode()
    assert "data-notice-count" not in page and "No notices yet." in page


def test_mails_of_other_apps_make_notices_too_linking_to_their_page(
    editor: Any,
    campaign: Any,
    post_factory: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from consent.services import consent_revoke
    from posts.services import FeatureSpec, post_update

    post = post_factory(editor, campaign, title="Zoës erster Lauf", body="Zoë (54) lief ihren ersten 5-km-Lauf 💙")
    zoe = subject_factory(display_name="Zoë Müller")
    record = record_factory(zoe)
    post_update(post=post, actor=editor, featured=[FeatureSpec(subject=zoe, consent=record, media_kinds=("story",))])
    editor.email_delivery = EmailDelivery.NONE
    editor.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(record=record, actor=officer, received_via="phone", reason="Möchte nicht mehr erscheinen")
    notice = Notice.objects.get(user=editor, key__startswith="post_blocked:")
    assert notice.url == reverse("posts:post_detail", args=[post.pk])
    assert notice.subject == f"Blocked: post #{post.pk} will not be published"
    assert editor.email not in [message.to[0] for message in mail.outbox]  # in Rounds only, as they chose


def test_the_notices_page_costs_the_same_queries_for_1_and_50_notices(editor: Any) -> None:
    client = client_for(editor)
    client.get(reverse("people:notices"))  # warm caches (content types) the way a running server has them
    counts = []
    for count in (1, 50):
        Notice.objects.filter(user=editor).delete()
        Notice.objects.bulk_create(
            [
                Notice(user=editor, key=f"k{i}", subject=f"Review needed: post #{i}", url=f"/reviews/posts/{i}/")
                for i in range(count)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("people:notices"))
        assert response.content.decode().count("data-notice=") == count
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
