import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from approvals.models import Decision, ReviewChain, ReviewRound, RoundStatus, StageStatus, Verdict
from approvals.policy import APPROVE, SUBMIT, ApprovalPolicy, current_stage_run
from approvals.services import (
    StageSpec,
    chain_delete,
    chain_save,
    decision_record,
    finding_keys,
    post_chain_set,
    round_submit,
)
from audit.models import AuditEvent
from people import roles
from posts.models import PostStatus
from posts.services import post_move, post_schedule, post_update
from tests.approvals.conftest import declare_crisis

pytestmark = pytest.mark.django_db(transaction=False)


def approve(post: Any, user: Any, **kwargs: Any) -> Decision:
    run = current_stage_run(post=post)
    assert run is not None, "no stage is open"
    decision = decision_record(stage_run=run, reviewer=user, verdict=Verdict.APPROVE, **kwargs)
    post.refresh_from_db()
    return decision


def approve_all(post: Any, reviewers: dict[str, Any]) -> None:
    approve(post, reviewers["medical"])
    approve(post, reviewers["legal"], acknowledged=finding_keys(post=post))
    approve(post, reviewers["comms"])


def test_submit_opens_a_round_at_the_first_stage_on_the_current_revision(submitted_post: Any) -> None:
    review_round = ReviewRound.objects.get(post=submitted_post)
    assert submitted_post.status == PostStatus.IN_REVIEW
    assert review_round.content_hash == submitted_post.content_hash
    assert review_round.revision_id == submitted_post.current_revision_id
    run = current_stage_run(post=submitted_post)
    assert run is not None and run.stage.name == "Medical review"
    assert run.deadline is not None and run.deadline <= submitted_post.scheduled_at


def test_full_chain_approves_the_exact_content_and_allows_scheduling(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    approve_all(submitted_post, reviewers)
    assert submitted_post.status == PostStatus.APPROVED
    assert submitted_post.approved_hash == submitted_post.content_hash
    post_schedule(post=submitted_post, actor=editor)
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.SCHEDULED
    actions = [e.action for e in AuditEvent.objects.for_object(submitted_post).order_by("seq")]
    assert actions.count("review.approve") == 3
    assert "review.round_approved" in actions


def test_author_never_decides_on_their_own_post(submitted_post: Any, editor: Any) -> None:
    editor.groups.add(Group.objects.get(name="Medical reviewer"))
    with pytest.raises(PermissionDenied):
        approve(submitted_post, editor)
    assert not Decision.objects.exists()


def test_one_person_decides_at_most_one_stage_per_round(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    approve(submitted_post, reviewers["all_rounder"])  # as medical reviewer
    assert current_stage_run(post=submitted_post).stage.name == "Legal review"  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        approve(submitted_post, reviewers["all_rounder"], acknowledged=finding_keys(post=submitted_post))


def test_only_members_of_the_stage_group_decide(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        approve(submitted_post, reviewers["legal"])  # first stage is medical


def test_superusers_get_no_shortcut(submitted_post: Any) -> None:
    from people.models import User

    root = User.objects.create_superuser("root", "root@example.org", "pw")
    assert APPROVE not in ApprovalPolicy(root).actions(submitted_post)
    with pytest.raises(PermissionDenied):
        approve(submitted_post, root)


def test_reviewer_not_assigned_to_the_campaign_cannot_decide(submitted_post: Any) -> None:
    from people.models import User

    outsider = User.objects.create_user("outsider", password="pw")
    outsider.groups.add(Group.objects.get(name="Medical reviewer"))
    with pytest.raises(PermissionDenied):
        approve(submitted_post, outsider)


def test_request_changes_needs_a_comment_and_returns_the_post_to_the_author(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    run = current_stage_run(post=submitted_post)
    with pytest.raises(ValidationError):
        decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.REQUEST_CHANGES)  # type: ignore[arg-type]
    decision_record(
        stage_run=run,  # type: ignore[arg-type]
        reviewer=reviewers["medical"],
        verdict=Verdict.REQUEST_CHANGES,
        comment="Cite the study.",
    )
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.CHANGES_REQUESTED
    assert ReviewRound.objects.get(post=submitted_post).status == RoundStatus.CHANGES_REQUESTED


def test_reject_ends_the_post(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    run = current_stage_run(post=submitted_post)
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.REJECT, comment="Wrong.")  # type: ignore[arg-type]
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.REJECTED
    assert ApprovalPolicy(submitted_post.author).actions(submitted_post) == frozenset()


def test_edit_after_legal_approval_restarts_review_at_the_first_stage(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    approve(submitted_post, reviewers["medical"])
    approve(submitted_post, reviewers["legal"], acknowledged=finding_keys(post=submitted_post))
    old_hash = submitted_post.content_hash
    post_update(post=submitted_post, actor=editor, data={"body": "A better text."})
    submitted_post.refresh_from_db()
    assert submitted_post.content_hash != old_hash
    assert submitted_post.status == PostStatus.IN_REVIEW
    rounds = list(ReviewRound.objects.filter(post=submitted_post).order_by("pk"))
    assert [r.status for r in rounds] == [RoundStatus.SUPERSEDED, RoundStatus.IN_PROGRESS]
    assert rounds[1].content_hash == submitted_post.content_hash
    assert current_stage_run(post=submitted_post).stage.name == "Medical review"  # type: ignore[union-attr]


def test_edit_of_a_scheduled_post_withdraws_its_approval(
    submitted_post: Any, reviewers: dict[str, Any], editor: Any
) -> None:
    approve_all(submitted_post, reviewers)
    post_schedule(post=submitted_post, actor=editor)
    post_update(post=submitted_post, actor=editor, data={"link": "https://example.org/new"})
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.IN_REVIEW
    assert submitted_post.approved_hash == ""
    assert not submitted_post.is_approved_as_is


def test_moving_the_date_keeps_the_approval(submitted_post: Any, reviewers: dict[str, Any], editor: Any) -> None:
    approve_all(submitted_post, reviewers)
    post_move(post=submitted_post, actor=editor, scheduled_at=timezone.now() + dt.timedelta(days=9))
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.APPROVED
    assert submitted_post.is_approved_as_is


def test_legal_must_acknowledge_every_finding(submitted_post: Any, reviewers: dict[str, Any], editor: Any) -> None:
    post_update(post=submitted_post, actor=editor, data={"body": "x" * 3100})  # over LinkedIn's limit
    submitted_post.refresh_from_db()
    approve(submitted_post, reviewers["medical"])
    keys = finding_keys(post=submitted_post)
    assert keys
    with pytest.raises(ValidationError):
        approve(submitted_post, reviewers["legal"], acknowledged=keys[:-1])
    approve(submitted_post, reviewers["legal"], acknowledged=keys)
    assert current_stage_run(post=submitted_post).stage.name == "Communications review"  # type: ignore[union-attr]


def test_count_rule_needs_that_many_approvals(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    run = current_stage_run(post=submitted_post)
    stage = run.stage  # type: ignore[union-attr]
    stage.rule, stage.required_approvals = "count", 2
    stage.save()
    approve(submitted_post, reviewers["medical"])
    assert current_stage_run(post=submitted_post).pk == run.pk  # type: ignore[union-attr]
    approve(submitted_post, reviewers["medical2"])
    assert current_stage_run(post=submitted_post).stage.name == "Legal review"  # type: ignore[union-attr]


def test_governance_sets_a_chain_before_submission_only(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, governance: Any
) -> None:
    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    expedited = ReviewChain.objects.get(is_expedited=True)
    post_chain_set(post=post, chain=expedited, actor=governance)
    round_submit(post=post, actor=editor)
    assert ReviewRound.objects.get(post=post).chain == expedited
    with pytest.raises(PermissionDenied):
        post_chain_set(post=post, chain=ReviewChain.objects.get(is_default=True), actor=governance)


def test_expedited_chain_approves_before_legal_and_keeps_a_legal_review_after_publishing(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(hours=6),
    )
    post = declare_crisis(post)
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    approve(post, reviewers["medical"])
    approve(post, reviewers["comms"])
    assert post.status == PostStatus.APPROVED
    legal_run = ReviewRound.objects.get(post=post).stage_runs.get(stage__after_publication=True)
    assert legal_run.status == StageStatus.IN_PROGRESS
    assert legal_run.deadline == post.scheduled_at + dt.timedelta(hours=24)


def test_submit_needs_edit_rights_and_targets(
    editor: Any, other_editor: Any, review_campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, review_campaign)
    assert SUBMIT not in ApprovalPolicy(other_editor).actions(post)
    with pytest.raises(ValidationError):
        round_submit(post=post, actor=editor)  # no target account
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_stage_members_are_mailed_once_and_only_after_commit(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from approvals.notifications import reminders_send, stage_reached

    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        round_submit(post=post, actor=editor)
    assert mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["all_rounder@example.org", "medical2@example.org", "medical@example.org"]
    run = current_stage_run(post=post)
    assert stage_reached(stage_run_id=run.pk) == 0  # type: ignore[union-attr]  # a second delivery sends nothing
    assert len(mail.outbox) == 3

    type(run).objects.filter(pk=run.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))  # type: ignore[union-attr]
    assert reminders_send() == 3
    assert reminders_send() == 0


def test_author_is_mailed_when_changes_are_requested(
    submitted_post: Any, reviewers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    run = current_stage_run(post=submitted_post)
    with django_capture_on_commit_callbacks(execute=True):
        decision_record(
            stage_run=run,
            reviewer=reviewers["medical"],
            verdict=Verdict.REQUEST_CHANGES,
            comment="Cite it.",  # type: ignore[arg-type]
        )
    to_author = [m for m in mail.outbox if m.to == [submitted_post.author.email]]
    assert len(to_author) == 1
    assert "Cite it." in to_author[0].body


def test_expedited_chain_leaves_legal_review_after_publishing_open_and_decidable(
    editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    from approvals.models import StageRun
    from approvals.selectors import stage_runs_awaiting
    from people import roles
    from tests.conftest import make_user

    governance = make_user("gov_exp", roles.GOVERNANCE, is_staff=True)
    post = post_factory(
        editor, review_campaign, targets=[account_factory("facebook")], when=timezone.now() + dt.timedelta(days=2)
    )
    post_chain_set(post=post, chain=ReviewChain.objects.get(is_expedited=True), actor=governance)
    round_submit(post=post, actor=editor)
    for name in ("medical", "comms"):
        decision_record(stage_run=current_stage_run(post=post), reviewer=reviewers[name], verdict=Verdict.APPROVE)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED

    legal_run = StageRun.objects.get(round__post=post, stage__after_publication=True)
    assert legal_run.status == StageStatus.IN_PROGRESS
    assert ApprovalPolicy(reviewers["legal"]).decide_refusal(legal_run) == ""
    assert list(stage_runs_awaiting(user=reviewers["legal"])) == [legal_run]

    decision_record(
        stage_run=legal_run, reviewer=reviewers["legal"], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
    )

    legal_run.refresh_from_db()
    assert legal_run.status == StageStatus.APPROVED
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


# Chains -------------------------------------------------------------------------------------


def test_chain_save_creates_a_chain_with_its_stages_in_one_audited_step(governance: Any) -> None:
    legal, medical = (Group.objects.get(name=name) for name in (roles.LEGAL_REVIEWER, roles.MEDICAL_REVIEWER))
    chain = chain_save(
        chain=ReviewChain(name="Studien & Forschung"),
        actor=governance,
        stages=[StageSpec(position=2, name="Ärztin", group=medical), StageSpec(position=1, name="Recht", group=legal)],
    )
    assert list(chain.stages.order_by("position").values_list("name", flat=True)) == ["Recht", "Ärztin"]
    event = AuditEvent.objects.for_object(chain).get()
    assert event.action == "review.chain_created"
    assert [stage["name"] for stage in event.changes["stages"]] == ["Recht", "Ärztin"]


def test_chain_save_refuses_two_stages_at_one_position_and_writes_nothing(governance: Any) -> None:
    legal = Group.objects.get(name=roles.LEGAL_REVIEWER)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="position of its own"):
        chain_save(
            chain=ReviewChain(name="Doppelt"),
            actor=governance,
            stages=[StageSpec(position=1, name="A", group=legal), StageSpec(position=1, name="B", group=legal)],
        )
    assert not ReviewChain.objects.filter(name="Doppelt").exists()
    assert AuditEvent.objects.count() == before


def test_only_who_may_change_chains_saves_or_deletes_one(editor: Any) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    chain.name = "Hijacked"
    with pytest.raises(PermissionDenied):
        chain_save(chain=chain, actor=editor)
    with pytest.raises(PermissionDenied):
        chain_delete(chain=chain, actor=editor)
    assert ReviewChain.objects.filter(name="Standard").exists()


def test_a_chain_that_reviewed_posts_is_kept_when_its_rounds_are_over(
    governance: Any, submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    approve_all(submitted_post, reviewers)
    chain = ReviewChain.objects.get(name="Standard")
    assert not chain.rounds.filter(status=RoundStatus.IN_PROGRESS).exists()
    with pytest.raises(ValidationError, match="has reviewed posts"):
        chain_delete(chain=chain, actor=governance)
    assert ReviewChain.objects.filter(pk=chain.pk).exists()


def test_a_post_cannot_be_given_an_inactive_chain(
    governance: Any, editor: Any, review_campaign: Any, post_factory: Any
) -> None:
    retired = ReviewChain.objects.get(is_expedited=True)
    retired.active = False
    retired.save()
    draft = post_factory(editor, review_campaign)
    with pytest.raises(ValidationError, match="not active"):
        post_chain_set(post=draft, chain=retired, actor=governance)
