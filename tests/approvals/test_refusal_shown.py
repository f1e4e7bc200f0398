"""The review page tells a member of the current stage's group why they see no decision form."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from approvals.policy import current_stage_run
from approvals.services import REFUSALS, decision_record, round_submit
from posts.services import post_crisis_declare

pytestmark = pytest.mark.django_db


def page_for(user: Any, post: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/reviews/posts/{post.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_who_declared_a_crisis_is_told_why_they_do_not_decide_its_communications_stage(
    editor: Any, reviewers: dict[str, Any], review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Stromausfall Haus B",
        body="⚠️ Stromausfall in Haus B: die Ambulanz ist heute in Haus A, 2. OG. Zentrale: 040 1234-0.",
        content_type="other",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(hours=8),
    )
    post_crisis_declare(post=post, actor=reviewers["comms"])
    post.refresh_from_db()
    round_submit(post=post, actor=editor)
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict="approve")
    page = page_for(reviewers["comms"], post)
    assert 'id="decision"' not in page
    assert 'data-refusal="declared_crisis"' in page
    assert str(REFUSALS["declared_crisis"]) in page
    # Who is not in the stage's group is told nothing: the page is not theirs to decide.
    assert "data-refusal" not in page_for(reviewers["legal"], post)
    assert "data-refusal" not in page_for(editor, post)


def test_a_medical_reviewer_who_decided_the_stage_before_is_not_told_a_refusal_for_the_next(
    editor: Any, reviewers: dict[str, Any], submitted_post: Any
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict="approve")
    assert "data-refusal" not in page_for(reviewers["medical"], submitted_post)
