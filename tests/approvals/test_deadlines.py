"""Deadlines that hold (issue 14, point 5): compressed chains, the confirmation at submit, moves."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.deadlines import review_time, stage_deadline
from approvals.models import ReviewChain, ReviewRound, StageRun, StageStatus
from approvals.policy import current_stage_run
from approvals.selectors import inbox_for_user
from approvals.services import decision_record, round_submit
from audit.models import AuditEvent
from posts.models import PostStatus
from posts.services import post_move, post_update

NOW = dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC)  # a Monday evening
HOUR = dt.timedelta(hours=1)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_chain_that_fits_gets_each_stage_its_full_turnaround() -> None:
    deadline = stage_deadline(start=NOW, now=NOW, turnaround=48 * HOUR, later=72 * HOUR, scheduled_at=NOW + 200 * HOUR)
    assert deadline == NOW + 48 * HOUR


def test_a_compressed_chain_shares_the_time_left_in_proportion_to_the_turnarounds() -> None:
    # Tomorrow 09:00 less a two-hour margin leaves 13 hours for 48 + 48 + 24 hours of review.
    slot = NOW + 15 * HOUR
    first = stage_deadline(start=NOW, now=NOW, turnaround=48 * HOUR, later=72 * HOUR, scheduled_at=slot)
    assert first == NOW + 13 * HOUR * 48 / 120
    assert first > NOW  # never "overdue" on arrival
    last = stage_deadline(start=NOW, now=NOW, turnaround=24 * HOUR, later=dt.timedelta(), scheduled_at=slot)
    assert last == NOW + 13 * HOUR


def test_inside_the_margin_the_slot_itself_bounds_the_share() -> None:
    slot = NOW + HOUR  # the margin (two hours) has passed, the slot has not
    deadline = stage_deadline(start=NOW, now=NOW, turnaround=24 * HOUR, later=24 * HOUR, scheduled_at=slot)
    assert NOW < deadline == NOW + HOUR / 2


def test_only_a_slot_already_past_gives_a_deadline_already_past() -> None:
    slot = NOW - HOUR
    deadline = stage_deadline(start=NOW, now=NOW, turnaround=24 * HOUR, later=dt.timedelta(), scheduled_at=slot)
    assert deadline < NOW


def test_review_time_counts_only_the_stages_before_publication(db: None) -> None:
    expedited = ReviewChain.objects.get(is_expedited=True)
    stages = list(expedited.stages.all())
    before = sum((stage.turnaround for stage in stages if not stage.after_publication), dt.timedelta())
    time = review_time(stages=stages, scheduled_at=NOW + 100 * HOUR, now=NOW)
    assert time.needed == before and time.available == 98 * HOUR and not time.compressed


@pytest.fixture
def tomorrow_morning(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return post_factory(
            editor,
            review_campaign,
            title="Grippeimpfung morgen früh",
            body="Morgen ab 8 Uhr impfen wir ohne Termin in Haus B. Fragen: 030 1234567 ☎️",
            targets=[account_factory("facebook")],
            when=NOW + 15 * HOUR,
        )


def test_submit_of_a_compressed_chain_is_refused_without_confirmation_naming_the_hours(
    tomorrow_morning: Any, editor: Any
) -> None:
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as refused:
        round_submit(post=tomorrow_morning, actor=editor, compressed_ok=False)
    assert "120.0 hours" in refused.value.messages[0] and "13.0 hours" in refused.value.messages[0]
    assert not ReviewRound.objects.filter(post=tomorrow_morning).exists()


def test_a_confirmed_compressed_review_arrives_due_not_overdue(
    tomorrow_morning: Any, editor: Any, reviewers: dict[str, Any]
) -> None:
    with time_machine.travel(NOW, tick=False):
        round_submit(post=tomorrow_morning, actor=editor, compressed_ok=True)
        run = current_stage_run(post=tomorrow_morning)
        assert run is not None and run.deadline is not None
        assert NOW < run.deadline <= tomorrow_morning.scheduled_at - 2 * HOUR
        [item] = inbox_for_user(user=reviewers["medical"])
        assert not item.is_overdue
    with time_machine.travel(NOW + HOUR, tick=False):
        decision_record(stage_run=run, reviewer=reviewers["medical"], verdict="approve")
        legal = current_stage_run(post=tomorrow_morning)
        assert legal is not None and legal.deadline is not None and legal.deadline > NOW + HOUR
        assert legal.deadline <= tomorrow_morning.scheduled_at - 2 * HOUR


def test_submit_page_asks_to_confirm_a_compressed_review_and_refuses_without_the_tick(
    tomorrow_morning: Any, editor: Any
) -> None:
    client = client_for(editor)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("posts:post_detail", args=[tomorrow_morning.pk])).content.decode()
        assert "I know the review has less time than its turnarounds" in page
        refused = client.post(reverse("approvals:submit", args=[tomorrow_morning.pk]), follow=True)
        assert "The review needs 120.0 hours" in refused.content.decode()
        tomorrow_morning.refresh_from_db()
        assert tomorrow_morning.status == PostStatus.DRAFT
        client.post(reverse("approvals:submit", args=[tomorrow_morning.pk]), {"compressed_ok": "1"})
        tomorrow_morning.refresh_from_db()
        assert tomorrow_morning.status == PostStatus.IN_REVIEW


def test_submit_page_asks_nothing_when_the_chain_fits(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(
        editor, review_campaign, targets=[account_factory("facebook")], when=timezone.now() + dt.timedelta(days=8)
    )
    page = client_for(editor).get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "I know the review has less time" not in page and "The review needs up to 120" in page
    client_for(editor).post(reverse("approvals:submit", args=[post.pk]))
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_moving_a_post_recomputes_the_open_stage_deadline_and_audits_it(tomorrow_morning: Any, editor: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        round_submit(post=tomorrow_morning, actor=editor, compressed_ok=True)
        run = current_stage_run(post=tomorrow_morning)
        assert run is not None
        compressed = run.deadline
        post_move(post=tomorrow_morning, actor=editor, scheduled_at=NOW + 10 * 24 * HOUR)
    run.refresh_from_db()
    assert run.deadline == NOW + 48 * HOUR != compressed  # the full turnaround again
    event = AuditEvent.objects.filter(action="review.deadline_changed", object_id=str(run.pk)).get()
    assert event.actor_id == editor.pk and event.changes["stage"] == "Medical review"
    with time_machine.travel(NOW + HOUR, tick=False):
        post_update(post=tomorrow_morning, actor=editor, scheduled_at=NOW + 8 * HOUR)
    run.refresh_from_db()
    assert NOW + HOUR < run.deadline <= NOW + 6 * HOUR  # the editor's time change: compressed again
    assert AuditEvent.objects.filter(action="review.deadline_changed", object_id=str(run.pk)).count() == 2


def test_a_move_leaves_closed_stages_alone(submitted_post: Any, editor: Any, reviewers: dict[str, Any]) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict="approve")
    run.refresh_from_db()
    closed_deadline = run.deadline
    post_move(post=submitted_post, actor=editor, scheduled_at=timezone.now() + dt.timedelta(days=3))
    run.refresh_from_db()
    assert run.status == StageStatus.APPROVED and run.deadline == closed_deadline
    legal = StageRun.objects.get(round__post=submitted_post, status=StageStatus.IN_PROGRESS)
    submitted_post.refresh_from_db()
    assert legal.deadline is not None and legal.deadline <= submitted_post.scheduled_at - 2 * HOUR


def test_the_post_page_tells_the_editor_when_a_move_leaves_review_short_of_time(
    tomorrow_morning: Any, editor: Any
) -> None:
    url = reverse("posts:post_detail", args=[tomorrow_morning.pk])
    with time_machine.travel(NOW, tick=False):
        round_submit(post=tomorrow_morning, actor=editor, compressed_ok=True)
        page = client_for(editor).get(url).content.decode()
        assert "The stages still to decide need 120.0 hours; only 13.0 hours are left" in page
        post_move(post=tomorrow_morning, actor=editor, scheduled_at=NOW + 10 * 24 * HOUR)
        page = client_for(editor).get(url).content.decode()
        assert "The stages still to decide need up to 120.0 hours; 238.0 hours are left" in page
