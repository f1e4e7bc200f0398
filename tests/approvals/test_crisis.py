"""Independence for crises (issue 14, point 4): editors ask, Communications or Governance declare it."""

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import ReviewRound, RoundStatus
from approvals.policy import ApprovalPolicy, current_stage_run
from approvals.selectors import stage_runs_awaiting
from approvals.services import REFUSALS, decision_record, round_submit
from audit.models import AuditEvent
from people import roles
from posts.forms import PostForm
from posts.models import ContentType, PostStatus
from posts.services import post_create, post_crisis_declare, post_crisis_request, post_update
from tests.conftest import make_user

REASON = "Stromausfall: Notaufnahme Nord heute bis 18 Uhr geschlossen ⚠️ Patienten bitte zur Notaufnahme Süd."

CONFIRMED = {"confirm_irreversible": "yes"}  # the ticked "I understand …" box of an irreversible act


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def crisis_draft(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    return post_factory(
        editor,
        review_campaign,
        title="Notaufnahme Nord geschlossen",
        body="Wegen eines Stromausfalls ist die Notaufnahme Nord bis 18 Uhr geschlossen. Notfälle: 112.",
        content_type="other",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(hours=6),
    )


def test_the_editors_form_offers_crisis_only_to_who_may_declare_it(
    editor: Any, reviewers: dict[str, Any], crisis_draft: Any
) -> None:
    offered = dict(PostForm(user=editor).fields["content_type"].choices)  # type: ignore[attr-defined]
    assert ContentType.CRISIS not in offered and ContentType.EVENT in offered
    declarer = make_user("desk", roles.EDITOR, roles.COMMUNICATIONS_REVIEWER)
    assert ContentType.CRISIS in dict(PostForm(user=declarer).fields["content_type"].choices)  # type: ignore[attr-defined]
    post_crisis_declare(post=crisis_draft, actor=reviewers["comms"])
    crisis_draft.refresh_from_db()
    kept = dict(PostForm(user=editor, post=crisis_draft).fields["content_type"].choices)  # type: ignore[attr-defined]
    assert ContentType.CRISIS in kept  # a crisis post stays one while its editor edits it


def test_an_editor_cannot_make_a_post_a_crisis_through_the_services(
    editor: Any, review_campaign: Any, crisis_draft: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        post_create(actor=editor, campaign=review_campaign, data={"body": "Notfall", "content_type": "crisis"})
    assert "ask for crisis handling" in str(refused.value)
    with pytest.raises(ValidationError):
        post_update(post=crisis_draft, actor=editor, data={"content_type": "crisis"})
    crisis_draft.refresh_from_db()
    assert crisis_draft.content_type == ContentType.OTHER


def test_an_editor_requests_crisis_handling_with_a_reason_and_communications_is_mailed_once(
    editor: Any, reviewers: dict[str, Any], crisis_draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with pytest.raises(ValidationError):
        post_crisis_request(post=crisis_draft, actor=editor, reason="   ")
    with django_capture_on_commit_callbacks(execute=True):
        post_crisis_request(post=crisis_draft, actor=editor, reason=REASON)
    crisis_draft.refresh_from_db()
    assert crisis_draft.crisis_requested_by == editor and crisis_draft.crisis_request_reason == REASON
    assert crisis_draft.content_type == ContentType.OTHER  # asked, not declared
    assert [message.to for message in mail.outbox] == [["comms@example.org"]]
    assert REASON in mail.outbox[0].body and reverse("posts:post_detail", args=[crisis_draft.pk]) in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="post.crisis_requested", object_id=str(crisis_draft.pk)).count() == 1
    with pytest.raises(PermissionDenied):  # asked once; Communications answers
        post_crisis_request(post=crisis_draft, actor=editor, reason=REASON)
    with pytest.raises(PermissionDenied):
        post_crisis_request(post=crisis_draft, actor=reviewers["medical"], reason=REASON)


def test_communications_declares_a_crisis_and_review_restarts_on_the_expedited_chain(
    editor: Any, reviewers: dict[str, Any], crisis_draft: Any
) -> None:
    round_submit(post=crisis_draft, actor=editor)
    first = ReviewRound.objects.get(post=crisis_draft)
    assert not first.chain.is_expedited
    with pytest.raises(PermissionDenied):
        post_crisis_declare(post=crisis_draft, actor=editor)
    with pytest.raises(PermissionDenied):
        post_crisis_declare(post=crisis_draft, actor=reviewers["medical"])
    post_crisis_declare(post=crisis_draft, actor=reviewers["comms"])
    crisis_draft.refresh_from_db()
    assert crisis_draft.content_type == ContentType.CRISIS and crisis_draft.crisis_declared_by == reviewers["comms"]
    assert crisis_draft.current_revision.number == 2 and crisis_draft.status == PostStatus.IN_REVIEW
    first.refresh_from_db()
    assert first.status == RoundStatus.SUPERSEDED
    assert ReviewRound.objects.get(post=crisis_draft, status=RoundStatus.IN_PROGRESS).chain.is_expedited
    event = AuditEvent.objects.get(action="post.crisis_declared", object_id=str(crisis_draft.pk))
    assert event.actor_id == reviewers["comms"].pk


def test_who_declared_the_crisis_decides_no_stage_and_does_not_see_it_in_their_inbox(
    editor: Any, reviewers: dict[str, Any], crisis_draft: Any
) -> None:
    desk = make_user("desk", roles.COMMUNICATIONS_REVIEWER, roles.MEDICAL_REVIEWER)
    crisis_draft.campaign.reviewers.add(desk)
    from posts.services import campaign_permissions_sync

    campaign_permissions_sync(campaign=crisis_draft.campaign)
    post_crisis_declare(post=crisis_draft, actor=desk)
    crisis_draft.refresh_from_db()
    round_submit(post=crisis_draft, actor=editor)
    run = current_stage_run(post=crisis_draft)
    assert run is not None and run.stage.group.name == roles.MEDICAL_REVIEWER
    assert ApprovalPolicy(desk).decide_refusal(run) == "declared_crisis"
    assert run not in stage_runs_awaiting(user=desk)
    assert run in stage_runs_awaiting(user=reviewers["medical"])
    with pytest.raises(PermissionDenied) as refused:
        decision_record(stage_run=run, reviewer=desk, verdict="approve")
    assert str(refused.value) == str(REFUSALS["declared_crisis"])


def test_the_post_page_offers_request_to_editors_and_declare_to_communications(
    editor: Any, reviewers: dict[str, Any], governance: Any, crisis_draft: Any
) -> None:
    url = reverse("posts:post_detail", args=[crisis_draft.pk])
    page = client_for(editor).get(url).content.decode()
    assert "Request crisis handling" in page and "Declare crisis" not in page
    response = client_for(editor).post(
        reverse("posts:post_crisis_request", args=[crisis_draft.pk]), {"reason": REASON}, follow=True
    )
    assert "Communications has been told" in response.content.decode()
    comms_page = client_for(reviewers["comms"]).get(url).content.decode()
    assert "Declare crisis" in comms_page and "requested crisis handling" in comms_page
    assert "Request crisis handling" not in client_for(editor).get(url).content.decode()  # asked already
    refused = client_for(editor).post(
        reverse("posts:post_crisis_declare", args=[crisis_draft.pk]), CONFIRMED, follow=True
    )
    assert "Only Communications or Governance declare a crisis post." in refused.content.decode()
    client_for(governance).post(reverse("posts:post_crisis_declare", args=[crisis_draft.pk]), CONFIRMED)
    crisis_draft.refresh_from_db()
    assert crisis_draft.content_type == ContentType.CRISIS and crisis_draft.crisis_declared_by == governance
    assert "Declared a crisis by" in client_for(editor).get(url).content.decode()
