"""A move that compresses the open review must be confirmed (issue 14, point 5): service, calendar, editor."""

import datetime as dt
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from approvals.models import StageRun, StageStatus
from approvals.policy import current_stage_run
from approvals.services import round_submit
from audit.models import AuditEvent
from audit.versions import version_of
from posts.models import Post
from posts.services import post_move

NOW = dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC)  # a Monday evening
HOUR = dt.timedelta(hours=1)
JSON = {"HTTP_ACCEPT": "application/json"}
LATER = NOW + 10 * 24 * HOUR  # the chain's 120 hours fit
TOMORROW = NOW + 24 * HOUR  # 22 hours left before the margin: compressed


@pytest.fixture
def in_review(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Post:
    with time_machine.travel(NOW, tick=False):
        post: Post = post_factory(
            editor, review_campaign, title="Herzwoche", targets=[account_factory("facebook")], when=LATER
        )
        round_submit(post=post, actor=editor, compressed_ok=False)  # fits: nothing to confirm
    return post


def move_data(post: Post, **extra: str) -> dict[str, Any]:
    return {"date": TOMORROW.date().isoformat(), "version": version_of(model=Post, pk=post.pk), **extra}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_run(post: Post) -> StageRun:
    run = current_stage_run(post=post)
    assert run is not None and run.status == StageStatus.IN_PROGRESS
    return run


def test_a_move_that_compresses_the_review_is_refused_unconfirmed_naming_the_hours(
    in_review: Post, editor: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(ValidationError) as refused:
            post_move(post=in_review, actor=editor, scheduled_at=TOMORROW, compressed_ok=False)
        assert "120.0 hours" in refused.value.messages[0] and "22.0 hours" in refused.value.messages[0]
        in_review.refresh_from_db()
        assert in_review.scheduled_at == LATER
        # Further out, nothing is asked; closer again, the already short review loses no more time.
        post_move(post=in_review, actor=editor, scheduled_at=NOW + 6 * 24 * HOUR, compressed_ok=False)
        post_move(post=in_review, actor=editor, scheduled_at=TOMORROW, compressed_ok=True)
        post_move(post=in_review, actor=editor, scheduled_at=TOMORROW + HOUR, compressed_ok=False)
    event = AuditEvent.objects.filter(action="post.moved", object_id=str(in_review.pk)).order_by("pk")
    assert [e.changes.get("compressed_review_confirmed", False) for e in event] == [False, True, False]


def test_calendar_move_answers_409_with_the_question_and_changes_nothing(in_review: Post, editor: Any) -> None:
    url = reverse("posts:post_move", args=[in_review.pk])
    run = open_run(in_review)
    with time_machine.travel(NOW, tick=False):
        response = client_for(editor).post(url, move_data(in_review), **JSON)
    body = response.json()
    assert response.status_code == 409, body
    assert body["ok"] is False and "120.0 hours" in body["confirm"] and "22.0 hours" in body["confirm"]
    in_review.refresh_from_db()
    assert in_review.scheduled_at == LATER
    assert StageRun.objects.get(pk=run.pk).deadline == run.deadline
    assert not AuditEvent.objects.filter(action="post.moved").exists()


def test_calendar_move_confirmed_moves_and_recomputes_the_deadlines(in_review: Post, editor: Any) -> None:
    url = reverse("posts:post_move", args=[in_review.pk])
    run = open_run(in_review)
    assert run.deadline == NOW + 48 * HOUR
    with time_machine.travel(NOW, tick=False):
        response = client_for(editor).post(url, move_data(in_review, confirm="1"), **JSON)
    assert response.status_code == 200 and response.json()["ok"] is True
    in_review.refresh_from_db()
    assert in_review.scheduled_at == TOMORROW
    run.refresh_from_db()
    assert NOW < run.deadline <= TOMORROW - 2 * HOUR  # its share of the 22 hours left
    moved = AuditEvent.objects.get(action="post.moved", object_id=str(in_review.pk))
    assert moved.changes["compressed_review_confirmed"] is True
    assert AuditEvent.objects.filter(action="review.deadline_changed", object_id=str(run.pk)).exists()


def edit_data(post: Post, when: dt.datetime, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "campaign": post.campaign_id,
        "title": post.title,
        "body": post.body,
        "link": post.link,
        "hashtags": "",
        "content_type": post.content_type,
        "language": post.language,
        "sources": post.sources,
        "targets": list(post.targets.values_list("account_id", flat=True)),
        "scheduled_date": when.date().isoformat(),
        "scheduled_time": when.strftime("%H:%M"),
        "time_zone": "UTC",
        "version": version_of(model=Post, pk=post.pk),
    }
    data.update(extra)
    return data


def test_editor_refuses_the_new_time_without_the_tick_and_saves_with_it(in_review: Post, editor: Any) -> None:
    url = reverse("posts:post_edit", args=[in_review.pk])
    client = client_for(editor)
    label = "I know the review has less time than its turnarounds"
    with time_machine.travel(NOW, tick=False):
        assert label not in client.get(url).content.decode()
        refused = client.post(url, edit_data(in_review, TOMORROW))
        assert refused.status_code == 200
        errors = refused.context["form"].errors
        assert "120.0 hours" in errors["scheduled_time"][0]
        assert label in refused.content.decode()
        in_review.refresh_from_db()
        assert in_review.scheduled_at == LATER
        saved = client.post(url, edit_data(in_review, TOMORROW, compressed_ok="on"))
    assert saved.status_code == 302
    in_review.refresh_from_db()
    assert in_review.scheduled_at == TOMORROW and in_review.status == "in_review"
    run = open_run(in_review)
    assert run.deadline is not None and run.deadline <= TOMORROW - 2 * HOUR


def test_editor_saving_text_with_the_time_untouched_asks_nothing_and_moves_nothing(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    """The form shows minutes: a slot with seconds, left as it was, is no move, even in a squeezed review."""
    squeezed = TOMORROW + dt.timedelta(seconds=37, microseconds=120)
    with time_machine.travel(NOW, tick=False):
        post: Post = post_factory(
            editor, review_campaign, title="Grippeimpfung", targets=[account_factory("facebook")], when=squeezed
        )
        round_submit(post=post, actor=editor, compressed_ok=True)
        response = client_for(editor).post(
            reverse("posts:post_edit", args=[post.pk]),
            edit_data(
                post,
                squeezed.astimezone(zoneinfo.ZoneInfo(post.time_zone)),
                time_zone=post.time_zone,
                body="Impfsprechstunde: Mo–Fr, 8–14 Uhr, Tel. 040 1234-0.",
                restart_ok="on",  # the review starts again: the page asks first
            ),
        )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.scheduled_at == squeezed and post.body.startswith("Impfsprechstunde")
    assert not AuditEvent.objects.filter(action="post.moved", object_id=str(post.pk)).exists()


def test_calendar_move_by_form_asks_on_the_move_page_then_moves_once_confirmed(in_review: Post, editor: Any) -> None:
    url = reverse("posts:post_move", args=[in_review.pk])
    client = client_for(editor)
    with time_machine.travel(NOW, tick=False):
        response = client.post(url, move_data(in_review, time="16:00", next="/calendar/"))
    html = response.content.decode()
    assert response.status_code == 409
    assert "120.0 hours" in html and 'name="confirm" value="1"' in html and "Move anyway" in html
    assert f'value="{TOMORROW.date().isoformat()}" required' in html and 'value="16:00"' in html
    in_review.refresh_from_db()
    assert in_review.scheduled_at == LATER

    with time_machine.travel(NOW, tick=False):
        response = client.post(url, move_data(in_review, time="16:00", next="/calendar/", confirm="1"))
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.scheduled_at.date() == TOMORROW.date()
