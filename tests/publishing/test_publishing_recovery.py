# ruff: noqa: F811  (the fixtures of test_publishing.py are imported by name)
"""Fast recovery (issue 11): claims of a dead worker come back within seconds, ``published_at`` is
the platform's time or the call's, a post edited while it went out says it is live, and
withdrawing a post in review closes its round.

Same world as tests/publishing/test_publishing.py (its fixtures): a stopped clock, django-q2 inline,
the local fake platform.
"""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from approvals.models import ReviewRound, RoundStatus
from approvals.services import round_submit
from audit.models import AuditEvent
from audit.selectors import chain_verify
from posts.models import PostStatus
from posts.services import post_update, post_withdraw
from publishing import services as publishing
from publishing.connectors.base import platform_time
from publishing.models import AttemptOutcome, Publication
from publishing.models import PublicationStatus as P
from publishing.services import claims_touch, publications_claim_due, publications_recover
from tests.posts.fakeplatform import FakePlatform
from tests.publishing.test_publishing import (  # noqa: F401  (fixtures)
    _publishing_settings,
    approve_all,
    at,
    fake,
    flu,
    hook,
    outbox_files,
    pub,
    reviewers,
    run_pass,
    scheduled,
    story,
)

pytestmark = pytest.mark.django_db


# Claims of a dead worker ----------------------------------------------------------------------


def test_a_started_workers_claims_come_back_seconds_after_it_stops_beating(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any
) -> None:
    settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 10
    post = scheduled([account_factory("facebook"), account_factory("linkedin")])
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=8), tick=False)
    claims = publications_claim_due()
    assert len(claims) == 2
    token = claims[0].token
    ids = [claim.publication_id for claim in claims]

    # The worker started the task and beats (every second in production) ...
    assert claims_touch(publication_ids=ids, token=token) == 2
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=4), tick=False)
    assert claims_touch(publication_ids=ids, token=token) == 2
    assert claims_touch(publication_ids=ids, token="another-worker") == 0
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=0.5), tick=False)
    assert publications_recover() == 0  # kept alive by its heartbeat

    # ... then dies 4 s before the due second: its claims are free 5 s after its last beat.
    time_machine.move_to(
        post.scheduled_at + dt.timedelta(seconds=settings.ROUNDS_PUBLISH_CLAIM_STALE_SECONDS - 4 + 0.1), tick=False
    )
    assert publications_recover() == 2
    assert {p.status for p in Publication.objects.filter(post=post)} == {P.PENDING}
    again = publications_claim_due()
    assert len(again) == 2 and again[0].token != token

    assert publishing.publications_send(ids, token) == {"stale": 2}  # the dead worker's task, redelivered
    assert publishing.publications_send(ids, again[0].token) == {P.CONFIRMED: 2}
    assert len(outbox_files(settings)) == 2


def test_a_claim_no_worker_started_comes_back_soon_after_its_due_time(
    scheduled: Any, account_factory: Any, time_machine: Any, settings: Any
) -> None:
    settings.ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 10
    post = scheduled([account_factory("facebook")])
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=10), tick=False)
    (_claim,) = publications_claim_due()  # the task is lost with its cluster before a worker starts it
    lease = pub(post).lease_until
    assert lease is not None
    assert lease <= post.scheduled_at + dt.timedelta(seconds=settings.ROUNDS_PUBLISH_LEASE_SECONDS)
    assert settings.ROUNDS_PUBLISH_LEASE_SECONDS <= 10

    time_machine.move_to(lease - dt.timedelta(seconds=0.1), tick=False)
    assert publications_recover() == 0
    time_machine.move_to(lease + dt.timedelta(seconds=0.1), tick=False)
    assert publications_recover() == 1
    assert pub(post).status == P.PENDING


def test_a_call_in_flight_is_never_taken_back_by_the_heartbeat(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, settings: Any
) -> None:
    post = scheduled([hook])
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
    assert not isinstance(job, str)
    # Sent: the heartbeat no longer touches it, and the sent lease (longer than any call) holds.
    assert claims_touch(publication_ids=[claim.publication_id], token=claim.token) == 0
    time_machine.move_to(at(post, settings.ROUNDS_PUBLISH_CLAIM_STALE_SECONDS * 10), tick=False)
    assert publications_recover() == 0
    assert pub(post).status == P.SENT


# published_at ---------------------------------------------------------------------------------


def test_published_at_is_the_platforms_time_when_it_gives_one(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    fake.clock_offset = -2.5
    post = scheduled([hook])
    time_machine.move_to(at(post, 0.25), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.CONFIRMED
    assert publication.published_at == at(post, 0.25 - 2.5)


def test_published_at_of_a_lost_answer_is_the_time_of_the_call_not_of_the_lookup(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([hook])
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
    assert not isinstance(job, str) and job.payload is not None
    started = at(post)
    fake.fail_next("drop")  # created, then the connection drops: outcome unknown
    answer = publishing._publish(job, job.payload)
    assert answer.outcome == AttemptOutcome.UNKNOWN

    time_machine.move_to(at(post, 40), tick=False)  # the answer is recorded (and looked up) later
    assert publishing._record(answer) == P.CONFIRMED
    publication = pub(post)
    assert publication.published_at == started
    assert len(fake.received) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-04T21:00:05+0000", dt.datetime(2026, 12, 4, 21, 0, 5, tzinfo=dt.UTC)),
        ("2026-12-04T21:00:05Z", dt.datetime(2026, 12, 4, 21, 0, 5, tzinfo=dt.UTC)),
        ("2026-12-04T22:00:05+01:00", dt.datetime(2026, 12, 4, 21, 0, 5, tzinfo=dt.UTC)),
        (1796418005, dt.datetime(2026, 12, 4, 21, 0, 5, tzinfo=dt.UTC)),
        (1796418005000, dt.datetime(2026, 12, 4, 21, 0, 5, tzinfo=dt.UTC)),
        ("2026-12-04T21:00:05", None),  # no zone: not trusted
        ("yesterday", None),
        (None, None),
        (True, None),
        (10**20, None),
    ],
)
def test_platform_times_are_read_or_ignored(value: Any, expected: dt.datetime | None) -> None:
    assert platform_time(value) == expected


# Edited while going out -----------------------------------------------------------------------


def _edit_during_the_call(post: Any, editor: Any, fake: FakePlatform, target: Any) -> None:
    """Mark ``target``'s publication sent, make the call, edit the post, then record the answer."""
    claims = publications_claim_due()
    claim = next(c for c in claims if Publication.objects.get(pk=c.publication_id).account_id == target.pk)
    job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
    assert not isinstance(job, str) and job.payload is not None
    answer = publishing._publish(job, job.payload)
    assert answer.outcome == AttemptOutcome.CONFIRMED
    post_update(post=post, actor=editor, data={"body": "Open day moved to Sunday, 10 to 16 h."})
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW  # the edit restarted review while the call was out
    assert publishing._record(answer) == P.CONFIRMED


def test_a_post_edited_while_its_call_is_out_ends_published_and_its_edit_is_reviewed(
    scheduled: Any,
    hook: Any,
    fake: FakePlatform,
    editor: Any,
    reviewers: dict[str, Any],
    time_machine: Any,
    client: Any,
) -> None:
    post = scheduled([hook])
    sent_hash = post.content_hash
    time_machine.move_to(at(post), tick=False)
    _edit_during_the_call(post, editor, fake, hook)

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.content_hash != sent_hash
    publication = pub(post)
    assert publication.status == P.CONFIRMED and publication.content_hash == sent_hash
    event = AuditEvent.objects.for_object(post).filter(action="post.status_changed").order_by("pk").last()
    assert event is not None
    assert event.changes["status"] == [PostStatus.IN_REVIEW, PostStatus.PUBLISHED]
    assert event.changes["content_changed"] is True and event.changes["sent_hash"] == sent_hash
    # The edit is in a new round, on the new content; reviewers can decide it.
    review_round = ReviewRound.objects.get(post=post, status=RoundStatus.IN_PROGRESS)
    assert review_round.content_hash == post.content_hash

    client.force_login(editor)
    html = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "publication-edited-live" in html
    html = client.get(reverse("publishing:publishing")).content.decode()
    assert f'<tr data-publication="{publication.pk}">' in html.split('id="edited-live"')[1].split('id="takedowns"')[0]

    approve_all(post, reviewers)
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED  # the live post stays what it is
    assert post.approved_hash == post.content_hash
    assert AuditEvent.objects.for_object(post).filter(action="post.edit_approved_after_publication").exists()
    assert len(fake.received) == 1
    assert chain_verify() is None


def test_the_publishing_page_lists_a_post_edited_while_going_out_at_once_with_its_lists_kept_between_changes(
    scheduled: Any, hook: Any, fake: FakePlatform, editor: Any, time_machine: Any, client: Any, settings: Any
) -> None:
    from django.core.cache import cache

    settings.ROUNDS_STATE_CACHE_SECONDS = 60  # as in production: lists kept until the next state change
    cache.clear()
    post = scheduled([hook])
    time_machine.move_to(at(post), tick=False)
    client.force_login(editor)

    def edited_live() -> str:
        html = client.get(reverse("publishing:publishing")).content.decode()
        return html.split('id="edited-live"')[1].split('id="takedowns"')[0]

    assert "data-publication=" not in edited_live()  # nothing yet, and that answer is kept
    _edit_during_the_call(post, editor, fake, hook)
    assert f'<tr data-publication="{pub(post).pk}">' in edited_live()  # the confirmation's event shows it
    cache.clear()


def test_a_post_edited_while_one_of_two_calls_is_out_ends_partially_published(
    scheduled: Any, hook: Any, fake: FakePlatform, editor: Any, account_factory: Any, time_machine: Any, run_pass: Any
) -> None:
    facebook = account_factory("facebook")
    post = scheduled([hook, facebook])
    time_machine.move_to(at(post), tick=False)
    _edit_during_the_call(post, editor, fake, hook)

    post.refresh_from_db()
    assert post.status == PostStatus.PARTIALLY_PUBLISHED
    assert pub(post, hook).status == P.CONFIRMED
    assert pub(post, facebook).status == P.CANCELLED  # the edit stopped what had not gone out
    run_pass()
    assert pub(post, facebook).status == P.CANCELLED


def test_a_post_edited_while_its_call_is_out_stays_in_review_if_the_call_fails(
    scheduled: Any, hook: Any, fake: FakePlatform, editor: Any, time_machine: Any
) -> None:
    post = scheduled([hook])
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
    assert not isinstance(job, str) and job.payload is not None
    fake.fail_next("422")
    answer = publishing._publish(job, job.payload)
    post_update(post=post, actor=editor, data={"body": "Open day moved to Sunday."})
    assert publishing._record(answer) == P.FAILED

    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW  # nothing went out: nothing to record


def test_a_post_whose_consent_ended_while_its_call_was_out_ends_published_with_a_takedown(
    story: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    hook: Any,
    fake: FakePlatform,
    time_machine: Any,
    client: Any,
    editor: Any,
) -> None:
    from consent.services import consent_revoke
    from publishing.models import TakedownItem

    anna = subject_factory(display_name="Anna")
    record = record_factory(anna, purposes=["education"])
    post = story(anna, record, hook)
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
    assert not isinstance(job, str) and job.payload is not None
    answer = publishing._publish(job, job.payload)
    consent_revoke(record=record, actor=officer, received_via="email", reason="Changed her mind")
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED
    assert not TakedownItem.objects.filter(post=post).exists()  # not live yet, as far as anyone knew

    assert publishing._record(answer) == P.CONFIRMED
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    (item,) = TakedownItem.objects.filter(post=post)
    assert (item.account_id, item.consent_id, item.reason) == (hook.pk, record.pk, "consent revoked")
    assert AuditEvent.objects.for_object(item).filter(action="takedown.created").exists()
    client.force_login(editor)
    html = client.get(reverse("publishing:publishing")).content.decode()
    assert "Anna" in html.split('id="takedowns"')[1]


# Withdrawing closes the round -------------------------------------------------------------------


def test_withdrawing_a_post_in_review_cancels_its_open_round(
    editor: Any, flu: Any, post_factory: Any, account_factory: Any
) -> None:
    post = post_factory(editor, flu, targets=[account_factory("facebook")])
    review_round = round_submit(post=post, actor=editor)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    post_withdraw(post=post, actor=editor, reason="Event cancelled")

    review_round.refresh_from_db()
    assert review_round.status == RoundStatus.CANCELLED
    assert review_round.finished_at is not None
    assert not review_round.stage_runs.filter(status__in=["waiting", "in_progress"]).exists()
    assert AuditEvent.objects.for_object(post).filter(action="review.round_cancelled").exists()
