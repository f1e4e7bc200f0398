"""No lost update in review: a decision form opened before a colleague's decision or a new revision is refused."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from approvals.models import ApprovalRule, Decision, StageStatus, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record
from audit.versions import StaleVersion, version_of
from posts.models import Post, PostStatus
from posts.services import post_update

pytestmark = pytest.mark.django_db

COMMENT = "Bitte die Quelle (RKI, Stand 10/2026) für „schützt zu 90 %“ ergänzen. ‏Danke!"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def opened_form(client: Client, post: Post) -> dict[str, str]:
    """Return the hidden fields of the decision form on the review page, as the browser would send them."""
    page = client.get(reverse("approvals:review", args=[post.pk]))
    assert page.status_code == 200
    form = page.text[page.text.index('class="review-decision-form"') :]
    fields = {}
    for name in ("stage_run", "content_hash", "version"):
        marker = f'name="{name}" value="'
        fields[name] = form[form.index(marker) + len(marker) :].split('"', 1)[0]
    return fields


@pytest.fixture
def named(reviewers: dict[str, Any]) -> dict[str, Any]:
    reviewers["medical"].first_name, reviewers["medical"].last_name = "Dr. Aylin", "Öztürk"
    reviewers["medical"].save()
    return reviewers


def test_decision_after_a_colleague_decided_is_refused_with_409_and_the_comment_kept(
    submitted_post: Any, named: dict[str, Any]
) -> None:
    client = client_for(named["medical2"])
    fields = opened_form(client, submitted_post)
    decision_record(
        stage_run=current_stage_run(post=submitted_post),  # type: ignore[arg-type]
        reviewer=named["medical"],
        verdict=Verdict.APPROVE,
    )

    response = client.post(
        reverse("approvals:decide", args=[submitted_post.pk]),
        {**fields, "verdict": "request_changes", "comment": COMMENT},
    )

    assert response.status_code == 409
    assert list(Decision.objects.values_list("reviewer__username", flat=True)) == ["medical"]
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.IN_REVIEW
    assert "This post was changed by Dr. Aylin Öztürk at" in response.text
    assert response.context["stale"].when is not None
    assert response.context["decision_input"]["comment"] == COMMENT
    assert COMMENT in response.text  # the stage moved on, so the comment is shown apart from the form
    labels = [change.label for change in response.context["stale"].changes]
    assert labels == ["Review"]
    assert "approve" in response.context["stale"].changes[0].new


def test_decision_on_an_older_revision_is_refused_and_names_the_changed_text(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    client = client_for(reviewers["medical"])
    fields = opened_form(client, submitted_post)
    post_update(post=submitted_post, actor=editor, data={"body": "Grippeimpfung jetzt: Station 4B, 8–12 Uhr."})

    response = client.post(
        reverse("approvals:decide", args=[submitted_post.pk]), {**fields, "verdict": "reject", "comment": COMMENT}
    )

    assert response.status_code == 409
    assert not Decision.objects.exists()
    assert "This post was changed by editor at" in response.text
    assert COMMENT in response.text  # in the decision form again, nothing typed is lost
    labels = [change.label for change in response.context["stale"].changes]
    assert "Text" in labels


def test_decision_on_the_current_version_is_stored(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    client = client_for(reviewers["medical"])
    fields = opened_form(client, submitted_post)
    response = client.post(reverse("approvals:decide", args=[submitted_post.pk]), {**fields, "verdict": "approve"})
    assert response.status_code == 302
    assert Decision.objects.get().reviewer == reviewers["medical"]


def test_decision_record_checks_the_version_under_the_lock(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    seen = version_of(model=Post, pk=submitted_post.pk)
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE, expected_version=seen)
    with pytest.raises(StaleVersion) as caught:
        decision_record(
            stage_run=current_stage_run(post=submitted_post),  # type: ignore[arg-type]
            reviewer=reviewers["legal"],
            verdict=Verdict.APPROVE,
            expected_version=seen,
        )
    assert caught.value.name == "medical"
    assert caught.value.version == version_of(model=Post, pk=submitted_post.pk) > seen
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_a_review_decision_makes_an_open_editor_stale(submitted_post: Any, editor: Any, reviewers: Any) -> None:
    seen = version_of(model=Post, pk=submitted_post.pk)
    run = current_stage_run(post=submitted_post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.REQUEST_CHANGES, comment="Quelle?")
    with pytest.raises(StaleVersion) as caught:
        post_update(post=submitted_post, actor=editor, data={"body": "Neuer Text"}, expected_version=seen)
    labels = [change.label for change in caught.value.changes]
    assert labels == ["Review", "Status"]
    assert caught.value.name == "medical"


def test_two_reviewers_of_a_stage_needing_both_approve_side_by_side_from_forms_opened_together(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    """A colleague's approval of the same open stage is no change to what the other reviewer saw."""
    run = current_stage_run(post=submitted_post)
    assert run is not None
    run.stage.rule, run.stage.required_approvals = ApprovalRule.COUNT, 2
    run.stage.save(update_fields=["rule", "required_approvals"])
    first, second = client_for(reviewers["medical"]), client_for(reviewers["medical2"])
    first_form, second_form = opened_form(first, submitted_post), opened_form(second, submitted_post)

    answers = [
        client.post(reverse("approvals:decide", args=[submitted_post.pk]), {**fields, "verdict": "approve"})
        for client, fields in ((first, first_form), (second, second_form))
    ]

    assert [answer.status_code for answer in answers] == [302, 302]
    assert sorted(Decision.objects.values_list("reviewer__username", flat=True)) == ["medical", "medical2"]
    run.refresh_from_db()
    assert run.status == StageStatus.APPROVED


def test_a_colleagues_approval_does_not_hide_a_later_edit(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    run = current_stage_run(post=submitted_post)
    assert run is not None
    run.stage.rule, run.stage.required_approvals = ApprovalRule.COUNT, 2
    run.stage.save(update_fields=["rule", "required_approvals"])
    second = client_for(reviewers["medical2"])
    fields = opened_form(second, submitted_post)
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)
    post_update(post=submitted_post, actor=editor, data={"body": "Grippeimpfung jetzt: Station 4B, 8–12 Uhr."})

    response = second.post(reverse("approvals:decide", args=[submitted_post.pk]), {**fields, "verdict": "approve"})

    assert response.status_code == 409
    assert list(Decision.objects.values_list("reviewer__username", flat=True)) == ["medical"]
    assert "Text" in [change.label for change in response.context["stale"].changes]
