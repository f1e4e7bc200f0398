"""A stage after publication (Legal on a crisis post): decided from the review page once the post is out."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, ReviewRound, RoundStatus, StageRun, StageStatus, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.versions import version_of
from people import roles
from posts.models import Post, PostStatus
from posts.services import post_schedule
from publishing.services import dispatch_once

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review_page(user: Any, post: Any) -> Any:
    response = client_for(user).get(reverse("approvals:review", args=[post.pk]))
    assert response.status_code == 200
    return response


def inbox_posts(user: Any) -> list[int]:
    response = client_for(user).get(reverse("approvals:inbox"))
    assert response.status_code == 200
    return [item.post.pk for item in response.context["items"]]


def publish_crisis(*, editor: Any, campaign: Any, account: Any, post_factory: Any, reviewers: dict[str, Any]) -> Any:
    """Return a crisis post approved by Medical and Communications and published; Legal's review still open.

    The publishing pass runs at the post's time (a stopped clock, given back afterwards) and sends to
    the outbox folder of the settings.
    """
    post = post_factory(
        editor,
        campaign,
        title="Emergency room closed tonight",
        body="Our emergency room is closed tonight after a power failure. Please call 112 in an emergency.",
        targets=[account],
        content_type="crisis",
        when=timezone.now() + dt.timedelta(hours=6),
    )
    round_submit(post=post, actor=editor)
    for name in ("medical", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    post.refresh_from_db()
    at = post.scheduled_at + dt.timedelta(seconds=1)
    with time_machine.travel(at, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        dispatch_once()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    return post


@pytest.fixture
def published_crisis(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
) -> Any:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    post = publish_crisis(
        editor=editor,
        campaign=review_campaign,
        account=account_factory("facebook"),
        post_factory=post_factory,
        reviewers=reviewers,
    )
    mail.outbox.clear()
    return post


def legal_run(post: Any) -> StageRun:
    return StageRun.objects.select_related("stage").get(round__post=post, stage__after_publication=True)


def decide_data(post: Any, verdict: str, comment: str = "") -> dict[str, Any]:
    return {
        "stage_run": legal_run(post).pk,
        "verdict": verdict,
        "comment": comment,
        "acknowledged": finding_keys(post=post),
        "version": version_of(model=Post, pk=post.pk),
    }


def test_legal_decides_the_stage_after_publication_from_the_review_page(
    published_crisis: Any, reviewers: dict[str, Any]
) -> None:
    post, legal = published_crisis, reviewers["legal"]
    run = legal_run(post)
    assert run.status == StageStatus.IN_PROGRESS
    assert inbox_posts(legal) == [post.pk]

    page = review_page(legal, post)
    assert page.context["overview"].current_run == run
    html = page.content.decode()
    assert 'class="review-decision-form"' in html
    assert f'name="stage_run" value="{run.pk}"' in html
    assert f'name="version" value="{version_of(model=Post, pk=post.pk)}"' in html

    detail = client_for(legal).get(reverse("posts:post_detail", args=[post.pk]))
    assert detail.status_code == 200
    assert f'name="stage_run" value="{run.pk}"' in detail.content.decode()  # the post page's review panel too

    response = client_for(legal).post(reverse("approvals:decide", args=[post.pk]), decide_data(post, Verdict.APPROVE))

    assert response.status_code == 302
    assert "You approved “Legal review after publishing”." in [str(m) for m in get_messages(response.wsgi_request)]
    decision = Decision.objects.get(stage_run=run)
    assert (decision.reviewer, decision.verdict) == (legal, Verdict.APPROVE)
    assert legal_run(post).status == StageStatus.APPROVED
    assert inbox_posts(legal) == []
    assert 'class="review-decision-form"' not in review_page(legal, post).content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED


@pytest.mark.parametrize(
    ("verdict", "outcome", "label"),
    [
        (Verdict.REJECT, StageStatus.REJECTED, "Rejected"),
        (Verdict.REQUEST_CHANGES, StageStatus.CHANGES_REQUESTED, "Changes requested"),
    ],
)
def test_a_verdict_against_a_published_post_is_a_stage_status_and_the_author_is_told(
    published_crisis: Any,
    reviewers: dict[str, Any],
    verdict: str,
    outcome: str,
    label: str,
    editor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    post, legal = published_crisis, reviewers["legal"]
    client = client_for(legal)
    with_comment = decide_data(post, verdict, comment="The closure notice names the wrong number; take it down.")

    assert client.post(reverse("approvals:decide", args=[post.pk]), decide_data(post, verdict)).status_code == 302
    assert not Decision.objects.filter(stage_run=legal_run(post)).exists()  # a comment is required
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("approvals:decide", args=[post.pk]), with_comment)

    assert response.status_code == 302
    run = legal_run(post)
    assert run.status == outcome
    assert run.status in StageStatus.values
    assert run.finished_at is not None
    assert ReviewRound.objects.get(post=post).status == RoundStatus.APPROVED
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED  # taking it down is for people to decide
    (message,) = [m for m in mail.outbox if m.to == [editor.email]]
    assert label in message.subject
    assert "wrong number" in message.body
    # The post's team sees it on the review page: the stage's status, in words.
    stages = review_page(editor, post).context["overview"].latest_round.stages
    (line,) = [line for line in stages if line.stage.after_publication]
    assert (line.status, line.status_label, line.is_current) == (outcome, label, False)
    assert inbox_posts(legal) == []


def test_only_a_legal_reviewer_other_than_the_author_may_decide_it(
    published_crisis: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    post = published_crisis
    editor.groups.add(Group.objects.get(name=roles.LEGAL_REVIEWER))
    for user in (editor, reviewers["medical"], reviewers["comms"]):
        assert 'class="review-decision-form"' not in review_page(user, post).content.decode()
        response = client_for(user).post(
            reverse("approvals:decide", args=[post.pk]), decide_data(post, Verdict.APPROVE)
        )
        assert response.status_code == 302
    assert not Decision.objects.filter(stage_run=legal_run(post)).exists()
    assert legal_run(post).status == StageStatus.IN_PROGRESS


def test_a_stale_version_is_refused_with_409_and_the_input_kept(
    published_crisis: Any, reviewers: dict[str, Any]
) -> None:
    post, legal = published_crisis, reviewers["legal"]
    data = decide_data(post, Verdict.REJECT, comment="Wrong phone number in the notice.")
    data["version"] = int(data["version"]) - 1

    response = client_for(legal).post(reverse("approvals:decide", args=[post.pk]), data)

    assert response.status_code == 409
    assert "Wrong phone number in the notice." in response.content.decode()
    assert not Decision.objects.filter(stage_run=legal_run(post)).exists()


def test_the_service_writes_a_stage_status_for_a_reject_after_publication(
    published_crisis: Any, reviewers: dict[str, Any]
) -> None:
    decision_record(
        stage_run=legal_run(published_crisis),
        reviewer=reviewers["legal"],
        verdict=Verdict.REJECT,
        comment="Not cleared by Legal.",
    )
    run = legal_run(published_crisis)
    assert run.status == StageStatus.REJECTED  # never the verdict "reject", which is no stage status
    assert run.get_status_display() == "Rejected"
