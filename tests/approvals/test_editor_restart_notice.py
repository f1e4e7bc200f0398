"""An editor who changes a post in review or approved is told what their save did to the review."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from posts.models import PostStatus
from tests.posts.test_editor_views import edit_data

pytestmark = pytest.mark.django_db

BODY = "Täglich 30 Minuten zügiges Gehen 🚶‍♀️ Los geht’s! Fragen an die Zentrale: 040 1234-0."


@pytest.fixture
def walking_post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    return post_factory(
        editor,
        review_campaign,
        title="Tipp 3: Spazierengehen",
        body=BODY,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=8),
    )


def save(editor: Any, post: Any, **changes: Any) -> list[str]:
    client = Client()
    client.force_login(editor)
    response = client.post(f"/posts/{post.pk}/edit/", edit_data(post, **changes))
    assert response.status_code == 302
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_changing_a_post_in_review_says_review_starts_again(editor: Any, walking_post: Any) -> None:
    round_submit(post=walking_post, actor=editor)
    said = save(editor, walking_post, body=BODY.replace(" Los geht’s!", ""), restart_ok="on")
    assert said == ["The content changed: review starts again from the first stage."]
    walking_post.refresh_from_db()
    assert walking_post.status == PostStatus.IN_REVIEW


def test_changing_an_approved_post_says_the_approval_no_longer_holds(
    editor: Any, reviewers: dict[str, Any], walking_post: Any
) -> None:
    round_submit(post=walking_post, actor=editor)
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=walking_post)
        assert run is not None
        decision_record(
            stage_run=run,
            reviewer=reviewers[name],
            verdict="approve",
            acknowledged=finding_keys(post=walking_post) if run.stage.must_acknowledge_findings else (),
        )
    walking_post.refresh_from_db()
    assert walking_post.status == PostStatus.APPROVED
    said = save(editor, walking_post, title="Tipp 3: Spazieren gehen", restart_ok="on")
    assert said == ["The content changed: the approval no longer holds and the post goes back to review."]
    walking_post.refresh_from_db()
    assert walking_post.status == PostStatus.IN_REVIEW


def test_a_draft_saved_says_nothing_of_review(editor: Any, walking_post: Any) -> None:
    said = save(editor, walking_post, body=BODY + " 🙂")
    assert said == ["The draft was saved."]


def test_a_change_to_a_post_in_review_needs_the_editors_confirmation(editor: Any, walking_post: Any) -> None:
    round_submit(post=walking_post, actor=editor)
    walking_post.refresh_from_db()
    revision = walking_post.current_revision_id
    client = Client()
    client.force_login(editor)
    page = client.get(f"/posts/{walking_post.pk}/edit/").content.decode()
    assert "This post is in review. Saving a change to its content starts the review again" in page
    assert 'name="restart_ok"' in page

    response = client.post(f"/posts/{walking_post.pk}/edit/", edit_data(walking_post, body=BODY + " Neu: 17.03.2027."))

    assert response.status_code == 200
    assert "restart_ok" in response.context["form"].errors
    assert "Nothing was saved." in response.text
    walking_post.refresh_from_db()
    assert (walking_post.body, walking_post.current_revision_id) == (BODY, revision)
    assert walking_post.status == PostStatus.IN_REVIEW


def test_a_new_time_alone_for_a_post_in_review_needs_no_confirmation(editor: Any, walking_post: Any) -> None:
    round_submit(post=walking_post, actor=editor)
    later = walking_post.scheduled_at + dt.timedelta(days=1)

    said = save(editor, walking_post, scheduled_date=later.astimezone(dt.UTC).date().isoformat())

    assert said == ["The changes were saved."]
    walking_post.refresh_from_db()
    assert walking_post.status == PostStatus.IN_REVIEW


def test_saving_a_change_to_a_scheduled_post_is_confirmed_and_says_it_left_the_schedule(
    editor: Any, reviewers: dict[str, Any], walking_post: Any
) -> None:
    from posts.services import post_schedule

    round_submit(post=walking_post, actor=editor)
    for name in ("medical", "legal", "comms"):
        run = current_stage_run(post=walking_post)
        assert run is not None
        decision_record(
            stage_run=run,
            reviewer=reviewers[name],
            verdict="approve",
            acknowledged=finding_keys(post=walking_post) if run.stage.must_acknowledge_findings else (),
        )
    walking_post.refresh_from_db()
    post_schedule(post=walking_post, actor=editor)
    walking_post.refresh_from_db()
    assert walking_post.status == PostStatus.SCHEDULED
    client = Client()
    client.force_login(editor)
    page = client.get(f"/posts/{walking_post.pk}/edit/").content.decode()
    assert "This post is scheduled. Saving a change to its content takes it off the schedule" in page
    assert "Save changes" in page

    refused = client.post(f"/posts/{walking_post.pk}/edit/", edit_data(walking_post, title="Tipp 3: Gehen"))
    assert refused.status_code == 200 and "restart_ok" in refused.context["form"].errors
    walking_post.refresh_from_db()
    assert walking_post.status == PostStatus.SCHEDULED

    said = save(editor, walking_post, title="Tipp 3: Gehen", restart_ok="on")

    assert said == ["The post left the schedule and goes back to review: the approval no longer holds."]
    walking_post.refresh_from_db()
    assert (walking_post.status, walking_post.title) == (PostStatus.IN_REVIEW, "Tipp 3: Gehen")
    assert walking_post.scheduled_at is not None  # the time stays planned for the next approval
