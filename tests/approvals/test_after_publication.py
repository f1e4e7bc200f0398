"""A stage after publication (Legal on a crisis post): decided from the review page once the post is out."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, ReviewRound, RoundStatus, StageRun, StageStatus, Verdict
from approvals.notifications import after_publication_told
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent, Notification
from audit.versions import version_of
from people import roles
from posts.models import Post, PostStatus
from posts.services import post_schedule, post_withdraw
from publishing import services as publishing
from publishing.models import PublicationStatus, TakedownCause, TakedownItem
from publishing.services import dispatch_once, publication_retry, publications_claim_due
from tests.approvals.conftest import declare_crisis

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
    post = send_crisis(
        editor=editor, campaign=campaign, accounts=[account], post_factory=post_factory, reviewers=reviewers
    )
    assert post.status == PostStatus.PUBLISHED
    return post


def send_crisis(
    *, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any, reviewers: dict[str, Any]
) -> Any:
    """Return a crisis post approved by Medical and Communications after one publishing pass at its time."""
    post = schedule_crisis(
        editor=editor, campaign=campaign, accounts=accounts, post_factory=post_factory, reviewers=reviewers
    )
    with time_machine.travel(due(post), tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        dispatch_once()
    post.refresh_from_db()
    return post


def due(post: Any) -> dt.datetime:
    return post.scheduled_at + dt.timedelta(seconds=1)


def schedule_crisis(
    *, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any, reviewers: dict[str, Any]
) -> Any:
    """Return a crisis post approved by Medical and Communications and scheduled six hours ahead."""
    post = post_factory(
        editor,
        campaign,
        title="Emergency room closed tonight",
        body="Our emergency room is closed tonight after a power failure. Please call 112 in an emergency.",
        targets=accounts,
        when=timezone.now() + dt.timedelta(hours=6),
    )
    post = declare_crisis(post)
    round_submit(post=post, actor=editor)
    for name in ("medical", "comms"):
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE)
    post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    post.refresh_from_db()
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
    assert post.status == PostStatus.PUBLISHED  # fully out: nothing left to withdraw, only to take down
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


# Rejected after publication: what is not out is withdrawn, what is live is listed for takedown --------

COMMENT = "Die Nummer im Hinweis ist falsch (0800 123 456 statt 112) — bitte sofort herausnehmen. ⚠️"


def legal_decides(post: Any, legal: Any, verdict: str, capture: Any) -> Decision:
    with capture(execute=True):
        return decision_record(stage_run=legal_run(post), reviewer=legal, verdict=verdict, comment=COMMENT)


def actions_since(seq: int) -> list[str]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True))


@pytest.fixture
def going_out(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
) -> Any:
    """A crisis post out on two of its three targets; LinkedIn's rate budget holds the third back."""
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    settings.ROUNDS_PUBLISH_BUDGETS = {"linkedin": (0, 3600)}
    post = send_crisis(
        editor=editor,
        campaign=review_campaign,
        accounts=[account_factory("facebook"), account_factory("x"), account_factory("linkedin")],
        post_factory=post_factory,
        reviewers=reviewers,
    )
    statuses = dict(post.publications.values_list("account__platform", "status"))
    assert statuses == {
        "facebook": PublicationStatus.CONFIRMED,
        "x": PublicationStatus.CONFIRMED,
        "linkedin": PublicationStatus.RETRY_WAIT,
    }
    assert post.status == PostStatus.SCHEDULED
    mail.outbox.clear()
    return post


def test_legal_rejecting_a_crisis_post_still_going_out_withdraws_the_rest_and_lists_the_live_targets(
    going_out: Any, reviewers: dict[str, Any], editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post, legal, comms = going_out, reviewers["legal"], reviewers["comms"]
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    decision = legal_decides(post, legal, Verdict.REJECT, django_capture_on_commit_callbacks)

    run = legal_run(post)
    assert run.status == StageStatus.REJECTED
    assert ReviewRound.objects.get(post=post).status == RoundStatus.APPROVED
    post.refresh_from_db()
    assert post.status == PostStatus.WITHDRAWN
    assert post.approved_hash == ""  # no send gate passes for this content again
    statuses = dict(post.publications.values_list("account__platform", "status"))
    assert statuses == {
        "facebook": PublicationStatus.CONFIRMED,  # live: published stays published, listed for takedown
        "x": PublicationStatus.CONFIRMED,
        "linkedin": PublicationStatus.CANCELLED,
    }
    items = list(TakedownItem.objects.filter(post=post).order_by("account__platform"))
    assert [item.account.platform for item in items] == ["facebook", "x"]
    for item in items:
        assert item.cause == TakedownCause.REVIEW_REJECTED
        assert item.consent is None
        assert item.reason == "rejected by the stage “Legal review after publishing”"
        assert item.comment == COMMENT
        assert item.confirmed_at is None
    # Every step wrote its audit event, in the decision's transaction.
    actions = actions_since(before)
    assert actions[:3] == ["review.reject", "review.stage_status_changed", "post.status_changed"]
    assert actions.count("publication.status_changed") == 1
    assert actions[-3:] == ["post.retracted", "takedown.created", "takedown.created"]
    withdrawn = AuditEvent.objects.for_object(post).get(action="post.status_changed", seq__gt=before)
    assert withdrawn.changes["status"] == [PostStatus.SCHEDULED, PostStatus.WITHDRAWN]
    assert withdrawn.changes["retracted"] == {"stage": "Legal review after publishing", "comment": COMMENT}
    retracted = AuditEvent.objects.for_object(post).get(action="post.retracted")
    assert (retracted.actor_id, retracted.changes["withdrawn"]) == (legal.pk, True)

    # Told once: the author and Communications, the post by number only in the subject, its path in the body.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([editor.email, comms.email])
    for message in mail.outbox:
        assert message.subject == f"Post #{post.pk} after publication: Rejected (Legal review after publishing)"
        assert "Emergency" not in message.subject
        assert COMMENT in message.body
        assert reverse("posts:post_detail", args=[post.pk]) in message.body
        assert "2 live publications are listed for takedown" in message.body
        assert "What had not gone out yet is withdrawn" in message.body
    assert after_publication_told(decision_id=decision.pk, withdrawn=True, takedowns=2) == 0
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(key=f"after_publication:{run.pk}").count() == 1


def test_the_publishing_page_lists_review_takedowns_and_confirming_works_as_for_consent(
    going_out: Any, reviewers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    post, comms = going_out, reviewers["comms"]
    legal_decides(post, reviewers["legal"], Verdict.REJECT, django_capture_on_commit_callbacks)
    client = client_for(comms)

    page = client.get(reverse("publishing:publishing"))

    assert page.status_code == 200
    html = page.content.decode()
    items = list(TakedownItem.objects.filter(post=post).order_by("pk"))
    for item in items:
        assert f'data-takedown="{item.pk}"' in html
    assert html.count('data-cause="review_rejected"') == 2
    assert "Rejected by review after publication" in html
    assert "0800 123 456" in html  # the reviewer's comment

    response = client.post(reverse("publishing:takedown_confirm", args=[items[0].pk]))

    assert response.status_code == 302
    items[0].refresh_from_db()
    assert items[0].confirmed_by == comms
    assert AuditEvent.objects.for_object(items[0]).filter(action="takedown.confirmed").count() == 1
    html = client.get(reverse("publishing:publishing")).content.decode()
    assert f'data-taken-down="{items[0].pk}"' in html
    assert f'data-takedown="{items[1].pk}"' in html


def test_a_fully_published_post_rejected_after_publication_gets_a_takedown_for_every_target(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    accounts = [account_factory("facebook"), account_factory("linkedin")]
    post = send_crisis(
        editor=editor, campaign=review_campaign, accounts=accounts, post_factory=post_factory, reviewers=reviewers
    )
    assert post.status == PostStatus.PUBLISHED
    mail.outbox.clear()

    legal_decides(post, reviewers["legal"], Verdict.REJECT, django_capture_on_commit_callbacks)

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED  # what is out stays out until a person takes it down
    items = TakedownItem.objects.filter(post=post)
    assert {item.account for item in items} == set(accounts)
    assert {item.cause for item in items} == {TakedownCause.REVIEW_REJECTED}
    assert legal_run(post).status == StageStatus.REJECTED
    retracted = AuditEvent.objects.for_object(post).get(action="post.retracted")
    assert retracted.changes["withdrawn"] is False
    assert len(mail.outbox) == 2
    assert all("What had not gone out yet" not in message.body for message in mail.outbox)


def test_request_changes_after_publication_lists_no_takedown_and_keeps_the_post_live(
    going_out: Any, reviewers: dict[str, Any], editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post, comms = going_out, reviewers["comms"]
    approved_hash = post.approved_hash

    legal_decides(post, reviewers["legal"], Verdict.REQUEST_CHANGES, django_capture_on_commit_callbacks)

    assert legal_run(post).status == StageStatus.CHANGES_REQUESTED
    post.refresh_from_db()
    assert (post.status, post.approved_hash) == (PostStatus.SCHEDULED, approved_hash)
    assert post.publications.get(account__platform="linkedin").status == PublicationStatus.RETRY_WAIT
    assert not TakedownItem.objects.filter(post=post).exists()
    assert not AuditEvent.objects.for_object(post).filter(action="post.retracted").exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([editor.email, comms.email])
    for message in mail.outbox:
        assert "Changes requested" in message.subject
        assert "Nothing is withdrawn or taken down" in message.body


def test_the_failed_target_of_a_partly_published_post_rejected_after_publication_cannot_be_retried(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A partly published post cannot be withdrawn; the chain's approval is gone, so its failed target stays off."""
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    facebook, x = account_factory("facebook"), account_factory("x", connector="x")  # X: no access token
    post = send_crisis(
        editor=editor, campaign=review_campaign, accounts=[facebook, x], post_factory=post_factory, reviewers=reviewers
    )
    assert post.status == PostStatus.PARTIALLY_PUBLISHED
    failed = post.publications.get(account=x)
    assert failed.status == PublicationStatus.FAILED
    comms = reviewers["comms"]
    publication_retry(publication=failed, actor=comms)  # before the rejection a retry is allowed
    with (
        time_machine.travel(timezone.now() + dt.timedelta(seconds=1), tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        dispatch_once()
    failed.refresh_from_db()
    assert failed.status == PublicationStatus.FAILED

    legal_decides(post, reviewers["legal"], Verdict.REJECT, django_capture_on_commit_callbacks)

    post.refresh_from_db()
    assert post.status == PostStatus.PARTIALLY_PUBLISHED
    assert [item.account for item in TakedownItem.objects.filter(post=post)] == [facebook]
    with pytest.raises(ValidationError, match="no longer the content the review chain approved"):
        publication_retry(publication=failed, actor=comms)
    failed.refresh_from_db()
    assert failed.status == PublicationStatus.FAILED


def test_a_call_in_flight_when_legal_rejects_comes_back_live_and_is_listed_for_takedown(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    facebook = account_factory("facebook")
    post = schedule_crisis(
        editor=editor, campaign=review_campaign, accounts=[facebook], post_factory=post_factory, reviewers=reviewers
    )
    with time_machine.travel(due(post), tick=False):
        (claim,) = publications_claim_due()
        job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
        assert not isinstance(job, str) and job.payload is not None
        answer = publishing._publish(job, job.payload)  # the call is out
        legal_decides(post, reviewers["legal"], Verdict.REJECT, django_capture_on_commit_callbacks)
        post.refresh_from_db()
        assert post.status == PostStatus.WITHDRAWN
        assert not TakedownItem.objects.filter(post=post).exists()  # nothing live yet, as far as anyone knew

        assert publishing._record(answer) == PublicationStatus.CONFIRMED

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED  # it is live, and says so
    (item,) = TakedownItem.objects.filter(post=post)
    assert (item.account, item.cause, item.comment) == (facebook, TakedownCause.REVIEW_REJECTED, COMMENT)
    assert AuditEvent.objects.for_object(item).filter(action="takedown.created").exists()


def test_a_post_withdrawn_by_its_editor_while_a_call_is_out_gets_no_review_takedown(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    post = schedule_crisis(
        editor=editor,
        campaign=review_campaign,
        accounts=[account_factory("facebook")],
        post_factory=post_factory,
        reviewers=reviewers,
    )
    with time_machine.travel(due(post), tick=False):
        (claim,) = publications_claim_due()
        job = publishing._prepare(publication_id=claim.publication_id, token=claim.token, looked_up=False)
        assert not isinstance(job, str) and job.payload is not None
        answer = publishing._publish(job, job.payload)
        post_withdraw(post=post, actor=editor, reason="Wasserschaden behoben, Notaufnahme wieder offen")
        assert publishing._record(answer) == PublicationStatus.CONFIRMED

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert not TakedownItem.objects.filter(post=post).exists()
