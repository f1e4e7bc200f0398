"""Publishing end to end: real database, real outbox folder, a real local HTTP server with faults.

Posts are approved through the review chain's own services and scheduled by the posts service;
time moves with time-machine; the dispatcher's pass and the send task run as in production
(django-q2 runs tasks inline in the test settings, after commit).
"""

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from calendar_project.schedules import SCHEDULES
from people import roles
from posts.models import Post, PostStatus
from posts.services import (
    FeatureSpec,
    account_save,
    post_move,
    post_schedule,
    post_unschedule,
    post_update,
    post_withdraw,
)
from publishing import services as publishing
from publishing import views as publishing_views
from publishing.models import AttemptOutcome, Publication, PublicationAttempt
from publishing.models import PublicationStatus as P
from publishing.services import (
    dispatch_once,
    publication_claim,
    publication_retry,
    publication_send,
    publications_claim_due,
)
from tests.conftest import deliver_again, make_user
from tests.posts.fakeplatform import FakePlatform

pytestmark = pytest.mark.django_db


# The world ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _publishing_settings(settings: Any, tmp_path: Path) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    settings.ROUNDS_PUBLISH_HTTP_TIMEOUT = 0.5
    settings.ROUNDS_PUBLISH_BACKOFF_SECONDS = 30
    settings.ROUNDS_PUBLISH_MAX_ATTEMPTS = 6
    settings.ROUNDS_PUBLISH_CUTOFF_MINUTES = 60


@pytest.fixture
def reviewers(db: None) -> dict[str, Any]:
    return {
        "medical": make_user("medical", roles.MEDICAL_REVIEWER),
        "legal": make_user("legal", roles.LEGAL_REVIEWER),
        "comms": make_user("comms", roles.COMMUNICATIONS_REVIEWER),
    }


@pytest.fixture
def flu(editor: Any, campaign_factory: Any, reviewers: dict[str, Any]) -> Any:
    return campaign_factory(editor, name="Flu season", reviewers=list(reviewers.values()))


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    with FakePlatform(hang_seconds=1.5) as server:
        yield server


@pytest.fixture
def hook(account_factory: Any, fake: FakePlatform, governance: Any) -> Any:
    account = account_factory("webhook", connector="webhook")
    return account_save(account=account, actor=governance, credentials=fake.credentials())


WHEN = dt.timedelta(days=3)


def approve_all(post: Any, reviewers: dict[str, Any]) -> None:
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(
            stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
        )
        post.refresh_from_db()


@pytest.fixture
def scheduled(editor: Any, flu: Any, reviewers: dict[str, Any], post_factory: Any) -> Callable[..., Any]:
    """Return a maker of posts approved by the whole chain and scheduled for ``when``."""

    def make(targets: list[Any], *, when: dt.datetime | None = None, **data: Any) -> Any:
        data.setdefault("content_type", "event")
        data.setdefault("body", "Open day at the children's ward on Saturday.")
        post = post_factory(editor, flu, targets=targets, when=when or timezone.now() + WHEN, **data)
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        approve_all(post, reviewers)
        post_schedule(post=post, actor=editor)
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
        return post

    return make


@pytest.fixture
def run_pass(django_capture_on_commit_callbacks: Any) -> Callable[[], dict[str, int]]:
    """Return one dispatcher pass, with the tasks it queues (and their e-mails) run after commit."""

    def run() -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return dispatch_once()

    return run


def outbox_files(settings: Any) -> list[Path]:
    folder = Path(settings.ROUNDS_OUTBOX_DIR)
    return sorted(folder.glob("*.json")) if folder.exists() else []


def at(post: Any, seconds: float = 1) -> dt.datetime:
    return post.scheduled_at + dt.timedelta(seconds=seconds)


def pub(post: Any, account: Any | None = None) -> Publication:
    publications = Publication.objects.filter(post=post)
    return publications.get(account=account) if account else publications.get()


# Outbox end to end ----------------------------------------------------------------------------


def test_scheduled_post_goes_to_the_outbox_once_at_its_time(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    facebook, linkedin = account_factory("facebook"), account_factory("linkedin")
    post = scheduled([facebook, linkedin])
    assert {p.status for p in Publication.objects.filter(post=post)} == {P.PENDING}

    assert run_pass()["claimed"] == 0  # not due yet
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=1), tick=False)
    assert run_pass()["claimed"] == 0
    assert outbox_files(settings) == []

    time_machine.move_to(at(post, 0.2), tick=False)
    assert run_pass()["claimed"] == 2

    files = outbox_files(settings)
    assert len(files) == 2
    documents = [json.loads(path.read_text()) for path in files]
    assert {document["handle"] for document in documents} == {facebook.handle, linkedin.handle}
    assert all("Open day at the children's ward" in document["text"] for document in documents)
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    for publication in Publication.objects.filter(post=post):
        assert publication.status == P.CONFIRMED
        assert publication.attempts == 1
        assert publication.external_id == f"{publishing.publication_key(publication)}.json"
        assert publication.published_at == at(post, 0.2)
        assert publication.content_hash == post.approved_hash
    assert PublicationAttempt.objects.filter(outcome=AttemptOutcome.CONFIRMED).count() == 2

    time_machine.move_to(at(post, 5), tick=False)
    assert run_pass() == {"recovered": 0, "overdue": 0, "claimed": 0}
    assert len(outbox_files(settings)) == 2
    actions = [event.action for event in AuditEvent.objects.filter(object_type="posts.publication")]
    assert actions.count("publication.created") == 2
    assert actions.count("publication.status_changed") == 2  # confirmed, for each (the "sent" lease is not audited)


def test_the_safety_net_runs_the_same_pass_every_minute() -> None:
    assert SCHEDULES["publish-safety-net"] == ("publishing.services.dispatch_once", 1)


def test_publish_dispatcher_command_runs_a_pass(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.management import call_command

    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_dispatcher", "--once")
    assert len(outbox_files(settings)) == 1
    assert pub(post).status == P.CONFIRMED


# Webhook and faults ---------------------------------------------------------------------------


def test_webhook_receives_one_signed_post_with_the_publication_key(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook], link="https://example.org/open-day", hashtags=["OpenDay"])
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.CONFIRMED
    assert len(fake.received) == 1
    received = fake.received[0]
    assert received.signature_ok
    assert received.key == publishing.publication_key(publication)
    assert received.json["text"].endswith("https://example.org/open-day\n\n#OpenDay")
    assert publication.external_id == "fake-1"
    assert publication.url == "https://fake.example/posts/1"


def test_500_is_retried_after_backoff_and_looked_up_first(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook])
    fake.fail_next("500")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.RETRY_WAIT
    assert publication.attempts == 1
    assert "500" in publication.last_error
    wait = (publication.next_attempt_at - at(post)).total_seconds()
    assert 15 <= wait <= 30  # 30 s base, jitter between half and all of it

    time_machine.move_to(at(post, 14), tick=False)
    assert run_pass()["claimed"] == 0
    time_machine.move_to(publication.next_attempt_at + dt.timedelta(seconds=1), tick=False)
    run_pass()

    publication.refresh_from_db()
    assert publication.status == P.CONFIRMED
    assert publication.attempts == 2
    assert fake.lookups == [publication and publishing.publication_key(publication)]  # looked before re-sending
    assert len(fake.received) == 2 and fake.duplicates() == {}
    outcomes = list(publication.attempt_log.values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.TRANSIENT, AttemptOutcome.CONFIRMED]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED


@pytest.mark.parametrize("mode", ["429", "429-reset"])
def test_429_waits_as_long_as_the_platform_says(
    mode: str, scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    fake.retry_after = 600
    fake.reset_in = 600
    post = scheduled([hook])
    fake.fail_next(mode)
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.RETRY_WAIT
    assert (publication.next_attempt_at - at(post)).total_seconds() >= 590
    time_machine.move_to(at(post, 300), tick=False)
    assert run_pass()["claimed"] == 0
    time_machine.move_to(at(post, 601), tick=False)
    run_pass()
    publication.refresh_from_db()
    assert publication.status == P.CONFIRMED
    assert fake.duplicates() == {}


def test_permanent_error_fails_at_once_and_tells_communications(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, reviewers: dict[str, Any]
) -> None:
    post = scheduled([hook])
    mail.outbox.clear()
    fake.fail_next("422")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.FAILED
    assert "longer than 280" in publication.last_error
    assert publication.attempts == 1
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED
    assert [message.to for message in mail.outbox] == [[reviewers["comms"].email]]
    assert "longer than 280" in mail.outbox[0].body
    assert reverse("publishing:publishing") in mail.outbox[0].body

    time_machine.move_to(at(post, 3600), tick=False)
    run_pass()
    assert len(fake.received) == 1  # a failed publication is never tried again by itself


def test_a_failure_is_mailed_once_however_often_the_task_runs_and_again_when_a_retry_fails(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, reviewers: dict[str, Any]
) -> None:
    post = scheduled([hook], title="Herz & Kreislauf: Tag der offenen Tür 💙")
    mail.outbox.clear()
    fake.fail_next("422")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    (message,) = mail.outbox
    assert message.to == [reviewers["comms"].email]
    assert message.subject == f"Publishing failed: post #{post.pk} on {hook}"
    assert message.body.startswith(
        f"The post “Herz & Kreislauf: Tag der offenen Tür 💙” of the campaign Flu season could not be published "
        f"on {hook} after 1 attempt(s).\n\nThe platform said: "
    )
    assert message.body.rstrip().endswith("— Rounds")
    assert deliver_again("publishing.services.publication_failed_notify") == 0
    assert len(mail.outbox) == 1

    publication_retry(publication=pub(post), actor=reviewers["comms"])
    fake.fail_next("422")
    run_pass()
    assert pub(post).status == P.FAILED
    assert [message.to for message in mail.outbox] == [[reviewers["comms"].email]] * 2
    assert "after 2 attempt(s)" in mail.outbox[1].body
    assert deliver_again("publishing.services.publication_failed_notify") == 0
    assert len(mail.outbox) == 2


def test_a_webhook_echoing_secrets_in_its_refusal_leaves_none_in_the_stored_attempt(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook])
    fake.fail_next("echo")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.FAILED
    attempt = PublicationAttempt.objects.get(publication=publication)
    stored = " ".join([attempt.response_excerpt, attempt.error, publication.last_error])
    assert "rejected" in stored  # the refusal is kept as proof
    for secret in (fake.secret, "abc123def456", "EAAB-leaked-token-123"):
        assert secret not in stored, secret
    assert "[redacted]" in attempt.response_excerpt


def test_transient_errors_give_up_after_the_attempt_limit(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    settings.ROUNDS_PUBLISH_MAX_ATTEMPTS = 2
    post = scheduled([hook])
    mail.outbox.clear()
    fake.fail_next("500", "500")
    time_machine.move_to(at(post), tick=False)
    run_pass()
    time_machine.move_to(pub(post).next_attempt_at + dt.timedelta(seconds=1), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.FAILED
    assert publication.attempts == 2
    assert len(mail.outbox) == 1


def test_timeout_after_sending_is_reconciled_and_not_resent(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook])
    fake.fail_next("timeout")
    time_machine.move_to(at(post), tick=True)
    run_pass()

    publication = pub(post)
    assert publication.status == P.CONFIRMED
    assert publication.external_id == "fake-1"
    assert len(fake.received) == 1
    outcomes = list(publication.attempt_log.values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.UNKNOWN, AttemptOutcome.RECONCILED]


def test_dropped_connection_after_receipt_is_found_by_lookup(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook])
    fake.fail_next("drop")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    assert pub(post).status == P.CONFIRMED
    assert len(fake.received) == 1
    assert fake.lookups == [publishing.publication_key(pub(post))]


# Crashes and races ----------------------------------------------------------------------------


def test_two_claims_of_one_publication_only_one_wins(scheduled: Any, account_factory: Any, time_machine: Any) -> None:
    post = scheduled([account_factory("facebook")])
    publication = pub(post)
    time_machine.move_to(at(post), tick=False)

    first = publication_claim(publication_id=publication.pk)
    second = publication_claim(publication_id=publication.pk)
    assert first is not None and second is None
    assert publications_claim_due() == []
    publication.refresh_from_db()
    assert publication.status == P.CLAIMED and publication.lease_token == first


def test_a_stale_token_never_sends(scheduled: Any, account_factory: Any, time_machine: Any, settings: Any) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post), tick=False)
    token = publication_claim(publication_id=pub(post).pk)
    assert token is not None

    assert publication_send(pub(post).pk, "not-the-token") == "stale"
    assert publication_send(pub(post).pk, token) == P.CONFIRMED
    assert publication_send(pub(post).pk, token) == "stale"  # a task delivered twice by the broker
    assert len(outbox_files(settings)) == 1


def test_expired_claim_goes_back_in_line_and_the_old_worker_loses(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post), tick=False)
    claims = publications_claim_due()  # claimed, but the task was lost (e.g. Redis broker, worker died)
    assert len(claims) == 1

    time_machine.move_to(at(post, settings.ROUNDS_PUBLISH_LEASE_SECONDS + 2), tick=False)
    assert run_pass() == {"recovered": 1, "overdue": 0, "claimed": 1}
    assert pub(post).status == P.CONFIRMED
    assert publication_send(claims[0].publication_id, claims[0].token) == "stale"
    assert len(outbox_files(settings)) == 1


def test_worker_killed_after_the_call_is_looked_up_not_resent(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([hook])
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    # What a worker does up to its death: check the gates, mark sent, make the call; no answer recorded.
    job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
    assert not isinstance(job, str) and job.payload is not None
    job.connector.publish(account=job.account, payload=job.payload, key=job.key)
    assert pub(post).status == P.SENT

    time_machine.move_to(at(post, 60), tick=False)
    assert run_pass()["recovered"] == 0  # the call's lease has not run out
    time_machine.move_to(at(post, settings.ROUNDS_PUBLISH_SENT_LEASE_SECONDS + 2), tick=False)
    report = run_pass()

    assert report["recovered"] == 1
    publication = pub(post)
    assert publication.status == P.CONFIRMED
    assert publication.external_id == "fake-1"
    assert len(fake.received) == 1
    # The call the dead worker made is on record (outcome unknown), then the lookup that found it.
    assert list(publication.attempt_log.values_list("outcome", flat=True)) == [
        AttemptOutcome.UNKNOWN,
        AttemptOutcome.RECONCILED,
    ]
    # Published when the call was made, not when the lease ran out and the lookup found it.
    assert publication.published_at == at(post)


def test_worker_killed_before_the_request_left_publishes_once_after_lookup(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([hook])
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)

    time_machine.move_to(at(post, settings.ROUNDS_PUBLISH_SENT_LEASE_SECONDS + 2), tick=False)
    run_pass()

    assert pub(post).status == P.CONFIRMED
    assert len(fake.lookups) == 1 and len(fake.received) == 1


def test_overdue_publication_waits_for_a_person(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any, reviewers: dict[str, Any]
) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post, 61 * 60), tick=False)  # the dispatcher and the safety net were down
    assert run_pass() == {"recovered": 0, "overdue": 1, "claimed": 0}

    publication = pub(post)
    assert publication.status == P.OVERDUE
    assert "61 minutes late" in publication.last_error
    assert outbox_files(settings) == []
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED

    publication_retry(publication=publication, actor=reviewers["comms"])
    run_pass()
    assert pub(post).status == P.CONFIRMED
    assert len(outbox_files(settings)) == 1


def test_a_publication_late_but_within_the_cutoff_is_sent(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post, 59 * 60), tick=False)
    assert run_pass()["claimed"] == 1
    assert pub(post).status == P.CONFIRMED


# Gates at send time ---------------------------------------------------------------------------


def test_content_changed_after_scheduling_never_goes_out(
    scheduled: Any, editor: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook"), account_factory("linkedin")])
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=1), tick=False)
    post_update(post=post, actor=editor, data={"body": "Open day moved to Sunday."})

    assert {p.status for p in Publication.objects.filter(post=post)} == {P.CANCELLED}
    time_machine.move_to(at(post), tick=False)
    assert run_pass()["claimed"] == 0
    assert outbox_files(settings) == []


def test_content_changed_while_a_worker_holds_the_claim_never_goes_out(
    scheduled: Any, editor: Any, account_factory: Any, time_machine: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    post_update(post=post, actor=editor, data={"body": "Changed in the last second."})

    assert publication_send(claim.publication_id, claim.token) == "stale"
    assert outbox_files(settings) == []


def test_a_publication_whose_hash_is_not_the_approved_one_is_blocked(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    # A record from an older approval (or a tampered row): what would be sent is not what was approved.
    Publication.objects.filter(post=post).update(content_hash="0" * 64)
    mail.outbox.clear()
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.BLOCKED
    assert "approved" in publication.last_error
    assert outbox_files(settings) == []
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED
    assert list(publication.attempt_log.values_list("outcome", flat=True)) == [AttemptOutcome.BLOCKED]
    assert mail.outbox  # the author and Communications hear about the block


def test_content_edited_behind_the_services_back_is_blocked(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    Post.objects.filter(pk=post.pk).update(body="Not what the reviewers saw.")
    time_machine.move_to(at(post), tick=False)
    run_pass()
    assert pub(post).status == P.BLOCKED
    assert outbox_files(settings) == []


def test_consent_revoked_a_second_before_stops_the_post(
    story: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    account_factory: Any,
    time_machine: Any,
    run_pass: Any,
    settings: Any,
) -> None:
    anna = subject_factory(display_name="Anna")
    record = record_factory(anna, purposes=["education"])
    post = story(anna, record, account_factory("facebook"))
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=1), tick=False)
    from consent.services import consent_revoke

    consent_revoke(record=record, actor=officer, received_via="email", reason="Changed her mind")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    assert pub(post).status == P.CANCELLED
    assert outbox_files(settings) == []
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED


def test_consent_revoked_while_a_worker_holds_the_claim_never_goes_out(
    story: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    account_factory: Any,
    time_machine: Any,
    settings: Any,
) -> None:
    from consent.services import consent_revoke

    anna = subject_factory(display_name="Anna")
    record = record_factory(anna)
    post = story(anna, record, account_factory("facebook"))
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    consent_revoke(record=record, actor=officer, received_via="email", reason="Changed her mind")

    assert publication_send(claim.publication_id, claim.token) == "stale"
    assert outbox_files(settings) == []


def test_consent_expired_by_send_time_blocks_even_before_the_expiry_job_ran(
    story: Any,
    subject_factory: Any,
    record_factory: Any,
    account_factory: Any,
    time_machine: Any,
    settings: Any,
) -> None:
    anna = subject_factory(display_name="Anna")
    record = record_factory(anna, expires_on=timezone.localdate() + dt.timedelta(days=5))
    post = story(anna, record, account_factory("facebook"))
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    # The worker only gets to it days later (queue stalled); the consent ended in between.
    time_machine.move_to(timezone.now() + dt.timedelta(days=6), tick=False)

    assert publication_send(claim.publication_id, claim.token) == "blocked"
    publication = pub(post)
    assert publication.status == P.BLOCKED
    assert "expire" in publication.last_error.lower()
    assert outbox_files(settings) == []
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED


def test_disabled_account_blocks_at_send_time(
    scheduled: Any, account_factory: Any, governance: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    facebook, linkedin = account_factory("facebook"), account_factory("linkedin")
    post = scheduled([facebook, linkedin])
    facebook.active = False
    account_save(account=facebook, actor=governance)
    time_machine.move_to(at(post), tick=False)
    run_pass()

    statuses = dict(Publication.objects.filter(post=post).values_list("account_id", "status"))
    assert statuses[facebook.pk] == P.BLOCKED
    assert statuses[linkedin.pk] == P.CANCELLED  # by the post's block, not blocked from a stale copy
    assert "disabled" in pub(post, facebook).last_error
    assert outbox_files(settings) == []
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED


def test_spent_rate_budget_waits_and_says_why(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    settings.ROUNDS_PUBLISH_BUDGETS = {"facebook": (1, 3600)}
    facebook = account_factory("facebook")
    first = scheduled([facebook])
    second = scheduled([facebook], when=first.scheduled_at, body="Second post of the day.")
    time_machine.move_to(at(first), tick=False)
    run_pass()

    statuses = sorted(Publication.objects.values_list("status", flat=True))
    assert statuses == [P.CONFIRMED, P.RETRY_WAIT]
    waiting = Publication.objects.get(status=P.RETRY_WAIT)
    assert "rate budget" in waiting.last_error
    assert waiting.attempts == 0 and not waiting.attempt_log.exists()
    assert waiting.next_attempt_at >= at(first, 3590)
    assert len(outbox_files(settings)) == 1

    time_machine.move_to(waiting.next_attempt_at + dt.timedelta(seconds=1), tick=False)
    run_pass()
    assert {pub(first).status, pub(second).status} == {P.CONFIRMED}


@pytest.fixture
def story(editor: Any, flu: Any, reviewers: dict[str, Any]) -> Callable[..., Any]:
    """Return a maker of patient stories featuring a person with a consent, approved and scheduled."""
    from posts.services import TargetSpec, post_create

    def make(subject: Any, record: Any, account: Any) -> Any:
        post = post_create(
            actor=editor,
            campaign=flu,
            data={"body": "Anna ran her first 5k after heart surgery.", "content_type": "patient_story"},
            targets=[TargetSpec(account=account)],
            scheduled_at=timezone.now() + dt.timedelta(days=1),
        )
        # The featured person is part of the reviewed content: feature first, then review.
        post_update(
            post=post, actor=editor, featured=[FeatureSpec(subject=subject, consent=record, media_kinds=("story",))]
        )
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        approve_all(post, reviewers)
        post_schedule(post=post, actor=editor)
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
        return post

    return make


# Following the post ---------------------------------------------------------------------------


def test_unschedule_and_withdraw_cancel_and_rescheduling_reopens(
    scheduled: Any, editor: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    post_unschedule(post=post, actor=editor)
    assert pub(post).status == P.CANCELLED

    post_schedule(post=post, actor=editor)
    assert pub(post).status == P.PENDING
    assert Publication.objects.filter(post=post).count() == 1

    post_withdraw(post=post, actor=editor, reason="Event cancelled")
    assert pub(post).status == P.CANCELLED
    time_machine.move_to(at(post), tick=False)
    run_pass()
    assert outbox_files(settings) == []


def test_moving_a_scheduled_post_moves_its_publications(
    scheduled: Any, editor: Any, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    old_time = post.scheduled_at
    new_time = old_time + dt.timedelta(hours=2)
    post_move(post=post, actor=editor, scheduled_at=new_time)

    assert pub(post).due_at == new_time
    time_machine.move_to(old_time + dt.timedelta(seconds=1), tick=False)
    assert run_pass()["claimed"] == 0
    time_machine.move_to(new_time + dt.timedelta(seconds=1), tick=False)
    assert run_pass()["claimed"] == 1
    assert len(outbox_files(settings)) == 1


def test_partial_failure_then_retry_publishes_the_rest(
    scheduled: Any,
    hook: Any,
    account_factory: Any,
    fake: FakePlatform,
    time_machine: Any,
    run_pass: Any,
    editor: Any,
) -> None:
    facebook = account_factory("facebook")
    post = scheduled([facebook, hook])
    fake.fail_next("422")
    time_machine.move_to(at(post), tick=False)
    run_pass()
    post.refresh_from_db()
    assert post.status == PostStatus.PARTIALLY_PUBLISHED

    publication_retry(publication=pub(post, hook), actor=editor)
    run_pass()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert fake.lookups  # looked up before calling again


def test_retry_of_a_failed_post_puts_it_back_on_the_schedule(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, editor: Any
) -> None:
    post = scheduled([hook])
    fake.fail_next("422")
    time_machine.move_to(at(post), tick=False)
    run_pass()
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED

    publication_retry(publication=pub(post), actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    run_pass()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert len(fake.created) == 1


def test_retry_refuses_when_a_gate_fails_now(
    scheduled: Any, account_factory: Any, governance: Any, time_machine: Any, run_pass: Any, editor: Any
) -> None:
    from django.core.exceptions import ValidationError

    facebook = account_factory("facebook")
    post = scheduled([facebook])
    time_machine.move_to(at(post, 61 * 60), tick=False)
    run_pass()
    facebook.active = False
    account_save(account=facebook, actor=governance)

    with pytest.raises(ValidationError, match="disabled"):
        publication_retry(publication=pub(post), actor=editor)
    assert pub(post).status == P.OVERDUE


def test_retry_is_refused_to_people_outside_the_campaign(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, other_editor: Any, viewer: Any
) -> None:
    from django.core.exceptions import PermissionDenied

    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post, 61 * 60), tick=False)
    run_pass()
    for person in (other_editor, viewer):
        with pytest.raises(PermissionDenied):
            publication_retry(publication=pub(post), actor=person)


# Pages ----------------------------------------------------------------------------------------


def _overdue_posts(scheduled: Any, accounts: list[Any], count: int) -> list[Any]:
    base = timezone.now() + WHEN
    return [scheduled(accounts, when=base, body=f"Open day notice {n}.") for n in range(count)]


@pytest.mark.parametrize("count", [1, 50])
def test_publishing_page_lists_what_needs_attention_in_constant_queries(
    count: int,
    scheduled: Any,
    account_factory: Any,
    time_machine: Any,
    run_pass: Any,
    client: Any,
    reviewers: dict[str, Any],
) -> None:
    posts = _overdue_posts(scheduled, [account_factory("facebook")], count)
    time_machine.move_to(at(posts[0], 61 * 60), tick=True)
    run_pass()
    client.force_login(reviewers["comms"])

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("publishing:publishing"))
    assert response.status_code == 200
    html = response.content.decode()
    shown = min(count, publishing_views.PAGE_SIZE)
    assert html.count('data-status="overdue"') == shown
    assert html.count(">Retry publishing</button>") == shown
    # session, user, the menu's review counts, unread notices and attention counts (one query, and the due
    # re-certifications), the policy's group check, the lists (blocked posts too), the filters' campaigns and
    # accounts: never per row
    assert len(queries) <= 16, "\n".join(query["sql"][:100] for query in queries)


@pytest.mark.slow  # its 50-row case also runs in make test, in the test above
def test_publishing_page_query_count_does_not_grow(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, client: Any, editor: Any
) -> None:
    facebook = account_factory("facebook")
    first = _overdue_posts(scheduled, [facebook], 1)
    time_machine.move_to(at(first[0], 61 * 60), tick=True)
    run_pass()
    client.force_login(editor)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("publishing:publishing"))
    time_machine.move_to(timezone.now() - dt.timedelta(minutes=62), tick=False)
    more = _overdue_posts(scheduled, [facebook], 49)
    time_machine.move_to(at(more[0], 61 * 60), tick=True)
    run_pass()
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(reverse("publishing:publishing"))
    assert response.content.decode().count('data-status="overdue"') == publishing_views.PAGE_SIZE
    assert len(one) == len(fifty)


def test_publishing_page_is_closed_to_viewers_and_shows_editors_only_their_campaigns(
    scheduled: Any,
    account_factory: Any,
    time_machine: Any,
    run_pass: Any,
    client: Any,
    viewer: Any,
    other_editor: Any,
    campaign_factory: Any,
) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post, 61 * 60), tick=True)
    run_pass()

    client.force_login(viewer)
    assert client.get(reverse("publishing:publishing")).status_code == 403
    campaign_factory(other_editor, name="Other campaign")
    client.force_login(other_editor)
    response = client.get(reverse("publishing:publishing"))
    assert response.status_code == 200
    assert 'data-status="overdue"' not in response.content.decode()


def test_retry_button_puts_the_publication_back_and_publishes(
    scheduled: Any, account_factory: Any, time_machine: Any, run_pass: Any, client: Any, editor: Any, settings: Any
) -> None:
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(at(post, 61 * 60), tick=True)
    run_pass()
    client.force_login(editor)

    response = client.post(reverse("publishing:publication_retry", args=[pub(post).pk]))
    assert response.status_code == 302
    assert pub(post).status == P.PENDING
    run_pass()
    assert pub(post).status == P.CONFIRMED
    event = AuditEvent.objects.filter(
        object_type="posts.publication", actor=editor, action="publication.status_changed"
    ).get()
    assert event.changes["status"] == [P.OVERDUE, P.PENDING]


def test_post_page_shows_each_targets_publication(
    scheduled: Any,
    hook: Any,
    account_factory: Any,
    fake: FakePlatform,
    time_machine: Any,
    run_pass: Any,
    client: Any,
    editor: Any,
) -> None:
    facebook = account_factory("facebook")
    post = scheduled([facebook, hook])
    fake.fail_next("500")
    time_machine.move_to(at(post), tick=True)
    run_pass()
    client.force_login(editor)

    html = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "publications-panel" in html
    assert f'data-publication="{pub(post, facebook).pk}" data-status="confirmed"' in html
    assert f'data-publication="{pub(post, hook).pk}" data-status="retry_wait"' in html
    assert "upstream exploded" in html


# Claims ahead of time, and the batch task -------------------------------------------------------


def test_a_claim_made_ahead_waits_for_its_second(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 10
    post = scheduled([account_factory("facebook"), account_factory("linkedin")])
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=20), tick=False)
    assert dispatch_once()["claimed"] == 0  # beyond the lookahead

    # 0.6 s before the due second, on a running clock: claimed now, sent at its time.
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=0.6), tick=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_once()["claimed"] == 2
    publications = list(Publication.objects.filter(post=post))
    assert {p.status for p in publications} == {P.CONFIRMED}
    assert all(p.published_at is not None and p.published_at >= post.scheduled_at for p in publications)
    assert len(outbox_files(settings)) == 2


def test_a_claim_whose_time_never_comes_is_given_back(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 10
    monkeypatch.setattr(publishing, "_CLOCK_GRACE_SECONDS", 0.1)
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=0.3), tick=False)  # a stopped clock
    (claim,) = publications_claim_due()

    assert publishing.publications_send([claim.publication_id], claim.token) == {"released": 1}
    publication = pub(post)
    assert publication.status == P.PENDING
    assert publication.lease_token == ""
    assert publication.attempts == 0
    assert outbox_files(settings) == []


def test_content_changed_while_the_claim_waits_for_its_second_never_goes_out(
    scheduled: Any, editor: Any, account_factory: Any, time_machine: Any, settings: Any
) -> None:
    settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 10
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=5), tick=False)
    (claim,) = publications_claim_due()
    post_update(post=post, actor=editor, data={"body": "Changed while the worker waited."})
    time_machine.move_to(at(post), tick=False)

    assert publishing.publications_send([claim.publication_id], claim.token) == {"stale": 1}
    assert outbox_files(settings) == []


def test_a_post_moved_later_while_claimed_ahead_goes_out_at_its_new_time(
    scheduled: Any, editor: Any, account_factory: Any, time_machine: Any, settings: Any, run_pass: Any
) -> None:
    settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 10
    post = scheduled([account_factory("facebook")])
    old = post.scheduled_at
    time_machine.move_to(old - dt.timedelta(seconds=5), tick=False)
    (claim,) = publications_claim_due()
    post_move(post=post, actor=editor, scheduled_at=old + dt.timedelta(hours=1))
    time_machine.move_to(old + dt.timedelta(seconds=1), tick=False)

    assert publishing.publications_send([claim.publication_id], claim.token) == {"stale": 1}
    assert outbox_files(settings) == []
    time_machine.move_to(old + dt.timedelta(hours=1, seconds=1), tick=False)
    run_pass()
    assert pub(post).status == P.CONFIRMED
    assert len(outbox_files(settings)) == 1


def test_one_batch_checks_every_gate_of_each_claim(
    scheduled: Any,
    story: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    account_factory: Any,
    governance: Any,
    time_machine: Any,
    settings: Any,
) -> None:
    from consent.services import consent_revoke

    anna = subject_factory(display_name="Anna")
    record = record_factory(anna)
    story_post = story(anna, record, account_factory("facebook"))
    plain = scheduled([account_factory("linkedin")], when=story_post.scheduled_at)
    disabled_account = account_factory("x")
    on_disabled = scheduled([disabled_account], when=story_post.scheduled_at)
    tampered = scheduled([account_factory("facebook")], when=story_post.scheduled_at)
    time_machine.move_to(at(story_post), tick=False)
    claims = publications_claim_due()
    assert len(claims) == 4
    # Between the claim and the send: consent revoked (cancels), account disabled, content changed.
    consent_revoke(record=record, actor=officer, received_via="email", reason="Changed her mind")
    disabled_account.active = False
    account_save(account=disabled_account, actor=governance)
    Post.objects.filter(pk=tampered.pk).update(body="Not what the reviewers saw.")

    report = publishing.publications_send([c.publication_id for c in claims], claims[0].token)

    assert report == {"stale": 1, "blocked": 2, P.CONFIRMED: 1}
    assert pub(story_post).status == P.CANCELLED
    assert pub(on_disabled).status == P.BLOCKED
    assert "disabled" in pub(on_disabled).last_error
    assert pub(tampered).status == P.BLOCKED
    assert pub(plain).status == P.CONFIRMED
    (document,) = [json.loads(path.read_text()) for path in outbox_files(settings)]
    assert document["text"].startswith("Open day at the children's ward")


def _moves(publication: Publication) -> list[list[str]]:
    events = AuditEvent.objects.for_object(publication).filter(action="publication.status_changed").order_by("seq")
    return [event.changes["status"] for event in events]


@pytest.mark.parametrize("bad_first", [False, True], ids=["bad-target-second", "bad-target-first"])
def test_a_post_whose_other_target_fails_its_gate_stops_alone_in_its_batch(
    bad_first: bool,
    scheduled: Any,
    account_factory: Any,
    governance: Any,
    time_machine: Any,
    run_pass: Any,
    settings: Any,
) -> None:
    # The order of the accounts is the order of the publications in the batch.
    if bad_first:
        disabled, good = account_factory("x"), account_factory("linkedin")
    else:
        good, disabled = account_factory("linkedin"), account_factory("x")
    before = scheduled([account_factory("facebook")], body="Flu vaccination at the staff canteen on Monday.")
    mixed = scheduled([good, disabled], when=before.scheduled_at)
    after = scheduled(
        [account_factory("facebook"), account_factory("linkedin")],
        when=before.scheduled_at,
        body="Our maternity ward welcomes visitors again.",
    )
    disabled.active = False
    account_save(account=disabled, actor=governance)
    time_machine.move_to(at(before), tick=False)
    claims = publications_claim_due()
    assert len(claims) == 5

    report = publishing.publications_send([c.publication_id for c in claims], claims[0].token)

    assert report == {"blocked": 1, "cancelled": 1, P.CONFIRMED: 3}
    assert pub(before).status == P.CONFIRMED
    assert {p.status for p in Publication.objects.filter(post=after)} == {P.CONFIRMED}
    blocked, cancelled = pub(mixed, disabled), pub(mixed, good)
    assert blocked.status == P.BLOCKED
    assert "disabled" in blocked.last_error
    assert cancelled.status == P.CANCELLED
    assert (blocked.attempts, cancelled.attempts) == (0, 0)
    assert (blocked.lease_token, cancelled.lease_token) == ("", "")
    # Each ends in one audited move from its claim, and nothing moved it again from a stale copy.
    assert _moves(blocked) == [[P.CLAIMED, P.BLOCKED]]
    assert _moves(cancelled) == [[P.CLAIMED, P.CANCELLED]]
    assert list(PublicationAttempt.objects.filter(publication=blocked).values_list("outcome", flat=True)) == [
        AttemptOutcome.BLOCKED
    ]
    assert not PublicationAttempt.objects.filter(publication=cancelled).exists()
    mixed.refresh_from_db()
    assert mixed.status == PostStatus.BLOCKED
    documents = [json.loads(path.read_text()) for path in outbox_files(settings)]
    assert len(documents) == 3
    assert not {good.handle, disabled.handle} & {document["handle"] for document in documents}

    # Later passes (past every lease) find nothing more to do.
    for seconds in (5, 600):
        time_machine.move_to(at(before, seconds), tick=False)
        assert run_pass() == {"recovered": 0, "overdue": 0, "claimed": 0}
    assert len(outbox_files(settings)) == 3
    assert (pub(mixed, disabled).status, pub(mixed, good).status) == (P.BLOCKED, P.CANCELLED)


def test_a_batch_checks_its_claims_in_a_constant_number_of_queries(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any
) -> None:
    accounts = [account_factory("facebook"), account_factory("linkedin")]
    first = scheduled(accounts)
    for n in range(6):
        scheduled(accounts, when=first.scheduled_at, body=f"Post {n} of the batch.")
    time_machine.move_to(at(first), tick=False)
    counts = []
    for limit in (2, 14):
        Publication.objects.update(status=P.PENDING, lease_token="", lease_until=None, attempts=0)
        claims = publications_claim_due(limit=limit)
        assert len(claims) == limit
        ids = [claim.publication_id for claim in claims]
        with CaptureQueriesContext(connection) as queries:
            admitted = publishing._prepare_group(publication_ids=ids, token=claims[0].token)
        assert [job.publication_id for job in admitted if not isinstance(job, str)] == sorted(ids)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Publication.objects.filter(status=P.SENT, attempts=1).count() == 14


def test_a_pass_deals_its_claims_to_one_task_per_worker(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ROUNDS_PUBLISH_TASKS_PER_PASS = 2
    first = scheduled([account_factory("facebook"), account_factory("linkedin"), account_factory("x")])
    scheduled([account_factory("facebook")], when=first.scheduled_at, body="Another post at the same time.")
    time_machine.move_to(at(first), tick=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert dispatch_once()["claimed"] == 4
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert set(Publication.objects.values_list("status", flat=True)) == {P.CONFIRMED}
    assert len(outbox_files(settings)) == 4
