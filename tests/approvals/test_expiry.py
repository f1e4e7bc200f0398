"""Approvals that expire (issue 14, point 6): validity before publishing, re-certification of live evergreen posts."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.expiry import certification_of, months_add, recertification_candidates
from approvals.expiry_services import approval_expire, approvals_expire, recertification_record
from approvals.models import (
    Recertification,
    RecertificationOutcome,
    ReviewChain,
    ReviewRound,
    RoundStatus,
    StageStatus,
    Verdict,
)
from approvals.policy import current_stage_run
from approvals.recertifications import recertifications_due
from approvals.services import chain_save, decision_record, finding_keys, recertification_due_refresh, round_submit
from audit.models import AuditEvent
from posts.locks import post_lock
from posts.models import Post, PostStatus
from posts.services import post_schedule, post_transition
from publishing.models import Publication, PublicationStatus, TakedownCause, TakedownItem
from publishing.services import dispatch_once

pytestmark = pytest.mark.django_db

REASON = "Die Leitlinie (AWMF 2026) gilt weiter – geprüft von Dr. Özdemir, Tel. intern 4711. ✅"


def approve(post: Any, reviewers: dict[str, Any], editor: Any) -> Any:
    """Submit ``post`` and have Medical, Legal and Communications approve it; returns it fresh."""
    round_submit(post=post, actor=editor)
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(
            stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
        )
    post.refresh_from_db()
    return post


def approved_at(post: Any, moment: dt.datetime) -> None:
    """Date the approval of ``post`` back to ``moment`` (as if its round had been approved then)."""
    ReviewRound.objects.filter(post=post, status=RoundStatus.APPROVED).update(finished_at=moment)
    recertification_due_refresh(post_ids=[post.pk])


def default_chain(**fields: Any) -> ReviewChain:
    chain = ReviewChain.objects.get(is_default=True)
    ReviewChain.objects.filter(pk=chain.pk).update(**fields)
    chain.refresh_from_db()
    recertification_due_refresh(post_ids=Post.objects.values_list("pk", flat=True))
    return chain


def make_published(
    *, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any, reviewers: dict[str, Any], **data: Any
) -> Any:
    """Return a post approved by the whole chain and published to ``accounts`` (through the outbox)."""
    data.setdefault("title", "Händewaschen: so geht's richtig")
    data.setdefault("body", "Hände 20 Sekunden mit Seife waschen. Fragen? 030 1234567 🧼")
    post = post_factory(editor, campaign, targets=accounts, when=timezone.now() + dt.timedelta(hours=2), **data)
    approve(post, reviewers, editor)
    post_schedule(post=post, actor=editor)
    post.refresh_from_db()
    due = post.scheduled_at + dt.timedelta(seconds=1)
    with time_machine.travel(due, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        dispatch_once()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    return post


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox"


@pytest.fixture
def published(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any], outbox: Path
) -> Any:
    """An education post published on two accounts, approved 13 months ago by a chain re-certifying yearly."""
    post = make_published(
        editor=editor,
        campaign=review_campaign,
        accounts=[account_factory("facebook"), account_factory("linkedin")],
        post_factory=post_factory,
        reviewers=reviewers,
    )
    default_chain(recertify_months=12)
    approved_at(post, months_add(timezone.now(), -13))
    mail.outbox.clear()
    return post


# Approval validity -----------------------------------------------------------------------------------


def test_months_add_keeps_the_day_or_takes_the_months_last() -> None:
    moment = dt.datetime(2026, 1, 31, 9, 30, tzinfo=dt.UTC)
    assert months_add(moment, 1) == dt.datetime(2026, 2, 28, 9, 30, tzinfo=dt.UTC)
    assert months_add(moment, 12) == dt.datetime(2027, 1, 31, 9, 30, tzinfo=dt.UTC)
    assert months_add(moment, -13) == dt.datetime(2024, 12, 31, 9, 30, tzinfo=dt.UTC)


def test_the_chain_fields_are_written_and_audited_by_chain_save(governance: Any) -> None:
    chain = ReviewChain.objects.get(is_default=True)
    chain.approval_valid_days, chain.recertify_months = 30, 12
    chain_save(chain=chain, actor=governance)
    event = AuditEvent.objects.filter(action="review.chain_changed").latest("seq")
    assert event.changes["approval_valid_days"] == [None, 30]
    assert event.changes["recertify_months"] == [None, 12]
    chain.approval_valid_days = 0
    with pytest.raises(ValidationError):
        chain_save(chain=chain, actor=governance)


def test_an_expired_approval_is_refused_at_publish_time_even_if_the_task_did_not_run(
    editor: Any, submitted_post: Any, reviewers: dict[str, Any], outbox: Path
) -> None:
    post = submitted_post
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    default_chain(approval_valid_days=30)
    # Approved 31 days before its slot; nobody ran approvals_expire.
    approved_at(post, post.scheduled_at - dt.timedelta(days=31))
    due = post.scheduled_at + dt.timedelta(seconds=1)
    with time_machine.travel(due, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        dispatch_once()
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED
    assert not outbox.exists() or list(outbox.iterdir()) == []
    # The first claim checked is blocked; blocking the post cancels the other before any call.
    publications = Publication.objects.filter(post=post)
    assert {publication.status for publication in publications} <= {
        PublicationStatus.BLOCKED,
        PublicationStatus.CANCELLED,
    }
    blocked = publications.get(status=PublicationStatus.BLOCKED)
    assert "approval expired" in blocked.last_error
    assert not blocked.attempt_log.exclude(outcome="blocked").exists()


def test_scheduling_is_refused_when_the_approval_expires_before_the_slot(
    editor: Any, submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    post = submitted_post
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    default_chain(approval_valid_days=3)  # the slot is five days out
    post.refresh_from_db()
    certification = certification_of(post)
    assert certification is not None and certification.expires_at is not None
    assert certification.expires_at < post.scheduled_at
    with pytest.raises(ValidationError, match="approval expired"):
        post_schedule(post=post, actor=editor)


def test_the_task_sends_an_expired_approval_back_to_review_once_and_tells_editor_and_reviewers(
    editor: Any, submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    post = submitted_post
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    first_round = ReviewRound.objects.get(post=post, status=RoundStatus.APPROVED)
    default_chain(approval_valid_days=30)
    approved_at(post, timezone.now() - dt.timedelta(days=30, minutes=1))
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert approvals_expire() == 1
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.approved_hash == ""
    new_round = ReviewRound.objects.get(post=post, status=RoundStatus.IN_PROGRESS)
    assert new_round.submitted_by == first_round.submitted_by == editor
    assert new_round.content_hash == first_round.content_hash
    assert new_round.stage_runs.get(status=StageStatus.IN_PROGRESS).stage.position == 1
    assert set(Publication.objects.filter(post=post).values_list("status", flat=True)) == {PublicationStatus.CANCELLED}
    event = AuditEvent.objects.get(action="review.approval_expired")
    assert event.actor is None and event.changes["round"] == first_round.pk
    recipients = {(message.to[0], message.subject) for message in mail.outbox}
    assert (editor.email, f"Post #{post.pk}: approval expired, back in review") in recipients
    assert any(address == reviewers["medical"].email for address, _subject in recipients)
    # Idempotent: a second run finds nothing, mails nobody.
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert approvals_expire() == 0
        assert approval_expire(post_id=post.pk) is False
    assert mail.outbox == []


def test_an_approval_still_valid_is_left_alone(editor: Any, submitted_post: Any, reviewers: dict[str, Any]) -> None:
    post = submitted_post
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    default_chain(approval_valid_days=30)
    approved_at(post, timezone.now() - dt.timedelta(days=29))
    assert approvals_expire() == 0
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.is_approved_as_is


# Re-certification ------------------------------------------------------------------------------------


def test_a_published_education_post_falls_due_after_the_chains_interval(
    published: Any, reviewers: dict[str, Any]
) -> None:
    [item] = recertifications_due(user=reviewers["medical"])
    assert item.post == published
    assert item.actions == {"keep", "revise", "withdraw"}
    approved_at(published, months_add(timezone.now(), -11))
    assert recertifications_due(user=reviewers["medical"]) == []
    approved_at(published, months_add(timezone.now(), -12) - dt.timedelta(minutes=1))
    assert [item.post for item in recertifications_due(user=reviewers["medical"])] == [published]


def test_a_post_approved_on_the_31st_falls_due_on_the_shortest_months_last_day(
    published: Any, reviewers: dict[str, Any]
) -> None:
    # The list reads only posts approved 28 days per month ago or earlier: the shortest month still counts.
    default_chain(recertify_months=1)
    approved_at(published, dt.datetime(2027, 1, 31, 12, 0, tzinfo=dt.UTC))
    due = dt.datetime(2027, 2, 28, 12, 0, tzinfo=dt.UTC)
    assert recertifications_due(user=reviewers["medical"], now=due - dt.timedelta(seconds=1)) == []
    [item] = recertifications_due(user=reviewers["medical"], now=due)
    assert (item.post, item.due_at) == (published, due)


def test_event_posts_and_chains_without_interval_never_fall_due(published: Any, reviewers: dict[str, Any]) -> None:
    Post.objects.filter(pk=published.pk).update(content_type="event")
    assert recertifications_due(user=reviewers["medical"]) == []
    Post.objects.filter(pk=published.pk).update(content_type="education")
    default_chain(recertify_months=None)
    assert recertifications_due(user=reviewers["medical"]) == []


def test_only_the_first_stages_reviewers_answer_never_the_author(
    published: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    for name in ("legal", "comms"):
        assert recertifications_due(user=reviewers[name]) == []
        with pytest.raises(PermissionDenied, match="first stage"):
            recertification_record(post_id=published.pk, reviewer=reviewers[name], outcome="keep", reason=REASON)
    with pytest.raises(PermissionDenied, match="own posts"):
        recertification_record(post_id=published.pk, reviewer=editor, outcome="keep", reason=REASON)
    assert not Recertification.objects.exists()


def test_a_reason_is_required(published: Any, reviewers: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="keep", reason="  ")
    with pytest.raises(ValidationError):
        recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="shrug", reason=REASON)
    assert not Recertification.objects.exists()


def test_keep_records_a_signed_recertification_and_resets_the_clock(
    published: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        kept = recertification_record(
            post_id=published.pk, reviewer=reviewers["medical"], outcome="keep", reason=REASON
        )
    assert (kept.outcome, kept.reviewer, kept.reason) == (RecertificationOutcome.KEEP, reviewers["medical"], REASON)
    assert kept.content_hash == published.approved_hash
    assert recertifications_due(user=reviewers["medical"]) == []
    certification = certification_of(published)
    assert certification is not None and certification.since == kept.created_at
    assert certification.recertify_at == months_add(kept.created_at, 12)
    event = AuditEvent.objects.get(action="review.recertification_keep")
    assert event.actor_id == reviewers["medical"].pk and event.changes["reason"] == REASON
    assert {message.to[0] for message in mail.outbox} >= {editor.email, reviewers["comms"].email}
    with pytest.raises(TypeError):
        kept.save()
    published.refresh_from_db()
    assert published.status == PostStatus.PUBLISHED


def test_revise_asks_the_author_and_keeps_the_post_live_and_due(
    published: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="revise", reason=REASON)
    published.refresh_from_db()
    assert published.status == PostStatus.PUBLISHED and published.approved_hash
    [item] = recertifications_due(user=reviewers["medical"])
    assert item.certification.revision_requested_at is not None
    assert AuditEvent.objects.filter(action="review.recertification_revise").count() == 1
    assert not TakedownItem.objects.exists()
    assert editor.email in {message.to[0] for message in mail.outbox}


def test_withdraw_lists_a_takedown_per_live_target_and_tells_communications(
    published: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="withdraw", reason=REASON)
    published.refresh_from_db()
    assert published.approved_hash == ""  # no send gate passes for this content again
    items = list(TakedownItem.objects.filter(post=published).order_by("account__platform"))
    assert [item.account.platform for item in items] == ["facebook", "linkedin"]
    for item in items:
        assert item.cause == TakedownCause.RECERTIFICATION_WITHDRAWN
        assert item.comment == REASON and item.consent is None
        assert item.reason == "withdrawn at re-certification (re-certification)"
    actions = list(AuditEvent.objects.filter(seq__gt=0).order_by("seq").values_list("action", flat=True))
    assert actions[-4:] == [
        "review.recertification_withdraw",
        "post.retracted",
        "takedown.created",
        "takedown.created",
    ]
    assert recertifications_due(user=reviewers["medical"]) == []
    assert {message.to[0] for message in mail.outbox} >= {editor.email, reviewers["comms"].email}
    assert any("takedown" in message.body for message in mail.outbox)


# Views -----------------------------------------------------------------------------------------------


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inbox_shows_due_posts_to_medical_with_the_three_answers(published: Any, reviewers: dict[str, Any]) -> None:
    page = client_for(reviewers["medical"]).get(reverse("approvals:inbox")).content.decode()
    assert "Due for re-certification" in page
    for word in (">Keep<", ">Revise<", ">Withdraw<"):
        assert word in page
    legal_page = client_for(reviewers["legal"]).get(reverse("approvals:inbox")).content.decode()
    assert "Due for re-certification" not in legal_page


def test_medical_keeps_from_the_inbox(published: Any, reviewers: dict[str, Any]) -> None:
    client = client_for(reviewers["medical"])
    response = client.post(
        reverse("approvals:recertify", args=[published.pk]), {"outcome": "keep", "reason": REASON}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("approvals:inbox")
    assert "You kept the post" in response.content.decode()
    assert Recertification.objects.get().outcome == RecertificationOutcome.KEEP


def test_an_unconfirmed_withdrawal_at_recertification_writes_nothing(published: Any, reviewers: dict[str, Any]) -> None:
    client = client_for(reviewers["medical"])
    events = AuditEvent.objects.count()

    response = client.post(
        reverse("approvals:recertify", args=[published.pk]), {"outcome": "withdraw", "reason": REASON}, follow=True
    )

    assert "Nothing was changed: “Withdraw” cannot be undone" in response.content.decode()
    assert not Recertification.objects.exists() and not TakedownItem.objects.exists()
    assert AuditEvent.objects.count() == events


def test_legal_may_not_answer_and_nothing_is_written(published: Any, reviewers: dict[str, Any]) -> None:
    response = client_for(reviewers["legal"]).post(
        reverse("approvals:recertify", args=[published.pk]),
        {"outcome": "withdraw", "reason": REASON, "confirm_irreversible": "yes"},
        follow=True,
    )
    assert "first stage re-certify its posts" in response.content.decode()
    assert not Recertification.objects.exists()
    assert not TakedownItem.objects.exists()


def test_the_post_page_says_when_the_approval_expires(
    editor: Any, submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    post = submitted_post
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    default_chain(approval_valid_days=30)
    page = client_for(editor).get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "Approval expires on" in page


def test_the_post_page_says_a_live_post_is_due(published: Any, editor: Any) -> None:
    page = client_for(editor).get(reverse("posts:post_detail", args=[published.pk])).content.decode()
    assert "Due for re-certification since" in page


def test_the_inbox_query_count_is_the_same_for_1_and_6_due_posts(
    published: Any,
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(reviewers["medical"])
    url = reverse("approvals:inbox")
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url).context["recertifications"]) == 1
    facebook = account_factory("facebook", handle="more")
    for n in range(5):
        more = make_published(
            editor=editor,
            campaign=review_campaign,
            accounts=[facebook],
            post_factory=post_factory,
            reviewers=reviewers,
            title=f"Grippe-Impfung, Teil {n + 1}",
        )
        approved_at(more, months_add(timezone.now(), -14))
    with CaptureQueriesContext(connection) as six:
        assert len(client.get(url).context["recertifications"]) == 6
    assert len(six) == len(one)


def test_the_inbox_list_is_the_set_form_of_the_policy(
    published: Any, reviewers: dict[str, Any], editor: Any, governance: Any, campaign_factory: Any
) -> None:
    """Who sees a due post in the inbox is exactly who the policy lets answer (the SQL and the rules agree)."""
    from approvals.expiry import certification_of
    from approvals.policy import RecertificationPolicy
    from people import roles
    from tests.conftest import make_user

    outsider = make_user("medical_elsewhere", roles.MEDICAL_REVIEWER)  # in the group, not on the campaign
    writer = reviewers["medical2"]
    # medical2 wrote a revision of the post (a published post cannot be edited through the services,
    # and revisions are immutable in the ORM: so the row is changed in SQL).
    from django.db import connection

    from posts.models import Revision

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Revision._meta.db_table} SET created_by_id = %s WHERE post_id = %s", [writer.pk, published.pk]
        )
    people = [*reviewers.values(), editor, governance, outsider]
    certification = certification_of(published)
    now = timezone.now()
    for person in people:
        listed = [item.post.pk for item in recertifications_due(user=person, now=now)]
        refusal = RecertificationPolicy(person).refusal(published, certification=certification, now=now)
        assert (listed == [published.pk]) == (refusal == ""), (person.username, listed, refusal)
    assert [item.post.pk for item in recertifications_due(user=reviewers["medical"], now=now)] == [published.pk]
    assert recertifications_due(user=writer, now=now) == []
    assert recertifications_due(user=outsider, now=now) == []


# The stored due moment (issue 17: the inbox finds due posts by an index) -----------------------------


def stored_due(post: Any) -> dt.datetime | None:
    return Post.objects.values_list("recertify_due_at", flat=True).get(pk=post.pk)


def test_going_live_stores_the_due_moment_the_chains_months_after_the_approval(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any], outbox: Path
) -> None:
    ReviewChain.objects.filter(is_default=True).update(recertify_months=12)  # no post is live yet
    post = make_published(
        editor=editor,
        campaign=review_campaign,
        accounts=[account_factory("facebook")],
        post_factory=post_factory,
        reviewers=reviewers,
    )
    finished = ReviewRound.objects.get(post=post, status=RoundStatus.APPROVED).finished_at
    assert finished is not None
    assert stored_due(post) == months_add(finished, 12)


def test_an_approved_post_not_yet_live_has_no_due_moment(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    default_chain(recertify_months=12)
    post = approve(post_factory(editor, review_campaign, targets=[account_factory("facebook")]), reviewers, editor)
    assert post.status == PostStatus.APPROVED
    assert stored_due(post) is None


def test_keep_stores_the_due_moment_counted_from_the_keep(published: Any, reviewers: dict[str, Any]) -> None:
    assert stored_due(published) == certification_of(published).recertify_at  # type: ignore[union-attr]
    kept = recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="keep", reason=REASON)
    assert stored_due(published) == months_add(kept.created_at, 12)


def test_revise_leaves_the_due_moment_as_it_was(published: Any, reviewers: dict[str, Any]) -> None:
    due = stored_due(published)
    recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="revise", reason=REASON)
    assert due is not None and stored_due(published) == due


def test_withdraw_clears_the_due_moment(published: Any, reviewers: dict[str, Any]) -> None:
    recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="withdraw", reason=REASON)
    assert stored_due(published) is None


def test_changing_the_chains_months_moves_the_due_moment_to_the_months_last_day(
    published: Any, governance: Any
) -> None:
    approved_at(published, dt.datetime(2025, 1, 31, 9, 30, tzinfo=dt.UTC))
    chain = ReviewChain.objects.get(is_default=True)
    chain.recertify_months = 1
    chain_save(chain=chain, actor=governance)
    assert stored_due(published) == dt.datetime(2025, 2, 28, 9, 30, tzinfo=dt.UTC)
    chain.recertify_months = None
    chain_save(chain=chain, actor=governance)
    assert stored_due(published) is None


def test_the_due_posts_are_read_from_posts_alone_in_one_query_however_many_are_live(
    published: Any,
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
) -> None:
    now = timezone.now()

    def candidates() -> tuple[list[int], list[str]]:
        with CaptureQueriesContext(connection) as queries:
            found = [post.pk for post in recertification_candidates(due_by=now)]
        return found, [query["sql"] for query in queries.captured_queries]

    found, [sql] = candidates()
    assert found == [published.pk]
    assert "approvals_" not in sql  # no rounds nor answers are read to compute the moment
    others = [
        make_published(
            editor=editor,
            campaign=review_campaign,
            accounts=[account_factory("facebook")],
            post_factory=post_factory,
            reviewers=reviewers,
            title=f"Diabetes: Fragen und Antworten ({n})",
        )
        for n in range(2)
    ]
    approved_at(others[0], months_add(timezone.now(), -13))

    more, more_sql = candidates()
    assert sorted(more) == sorted([published.pk, others[0].pk])
    assert more_sql == [sql]


def test_a_post_that_stops_being_live_loses_its_due_moment(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    default_chain(recertify_months=12)
    post = post_factory(
        editor, review_campaign, targets=[account_factory("facebook")], when=timezone.now() + dt.timedelta(hours=2)
    )
    post_schedule(post=approve(post, reviewers, editor), actor=editor)
    finished = ReviewRound.objects.get(post=post, status=RoundStatus.APPROVED).finished_at
    assert finished is not None
    with transaction.atomic():
        post_transition(post=post_lock(post.pk), to=PostStatus.PARTIALLY_PUBLISHED, actor=None, reason="one target out")
    assert stored_due(post) == months_add(finished, 12)
    with transaction.atomic():
        post_transition(post=post_lock(post.pk), to=PostStatus.FAILED, actor=None, reason="the other target failed")
    assert stored_due(post) is None


def test_the_post_pages_certification_from_its_loaded_rounds_is_the_certification_read_alone(
    published: Any, reviewers: dict[str, Any], editor: Any, submitted_post: Any
) -> None:
    from approvals.expiry import certification_from
    from approvals.selectors import rounds_for_post

    def both(post: Any) -> tuple[Any, Any]:
        post = Post.objects.get(pk=post.pk)
        return certification_from(post, rounds_for_post(post=post)), certification_of(post)

    assert both(submitted_post) == (None, None)  # in review: nothing approved yet
    alone = both(published)
    assert alone[0] == alone[1] and alone[0] is not None
    assert alone[0].since == ReviewRound.objects.get(post=published, status=RoundStatus.APPROVED).finished_at
    kept = recertification_record(post_id=published.pk, reviewer=reviewers["medical"], outcome="keep", reason=REASON)
    assert both(published)[0] == both(published)[1]
    assert both(published)[0].since == kept.created_at  # type: ignore[union-attr]
    # A year later the post is due again, and Medical asks for a revision.
    with time_machine.travel(months_add(timezone.now(), 13), tick=False):
        revise = recertification_record(
            post_id=published.pk, reviewer=reviewers["medical"], outcome="revise", reason=REASON
        )
    from_rounds, read_alone = both(published)
    assert from_rounds == read_alone
    assert from_rounds is not None
    assert (from_rounds.since, from_rounds.revision_requested_at) == (kept.created_at, revise.created_at)
