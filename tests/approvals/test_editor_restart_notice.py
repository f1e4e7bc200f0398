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
    said = save(editor, walking_post, body=BODY.replace(" Los geht’s!", ""))
    assert "The draft was saved." in said
    assert "The content changed: review starts again from the first stage." in said
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
    said = save(editor, walking_post, title="Tipp 3: Spazieren gehen")
    assert "The content changed: the approval no longer holds. Submit it for review again." in said


def test_a_draft_saved_says_nothing_of_review(editor: Any, walking_post: Any) -> None:
    said = save(editor, walking_post, body=BODY + " 🙂")
    assert said == ["The draft was saved."]
