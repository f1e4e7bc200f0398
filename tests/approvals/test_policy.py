"""ApprovalPolicy: the review actions each role may take in each state, and what asking costs."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals.models import StageRun, StageStatus, Verdict
from approvals.policy import APPROVE, CHANGE_CHAIN, CHECK_SOURCES, DECIDE, SUBMIT, ApprovalPolicy, current_stage_run
from approvals.selectors import rounds_for_post
from approvals.services import decision_record, finding_keys, round_submit
from people import roles
from people.models import User
from posts.models import PostStatus
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

NOTHING: frozenset[str] = frozenset()


def fresh(user: Any) -> User:
    """The user as a new request would load them: no permission cache from earlier questions."""
    return User.objects.get(pk=user.pk)


def decide(post: Any, user: Any, verdict: str = Verdict.APPROVE) -> None:
    run = current_stage_run(post=post)
    assert run is not None
    comment = "" if verdict == Verdict.APPROVE else "Please cite the vaccination schedule (STIKO 2026)."
    decision_record(
        stage_run=run, reviewer=user, verdict=verdict, comment=comment, acknowledged=finding_keys(post=post)
    )
    post.refresh_from_db()


@pytest.fixture
def people(editor: Any, other_editor: Any, governance: Any, viewer: Any, reviewers: dict[str, Any]) -> dict[str, Any]:
    return {"editor": editor, "other_editor": other_editor, "governance": governance, "viewer": viewer, **reviewers}


@pytest.fixture
def draft(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    return post_factory(
        editor,
        review_campaign,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=4),
        body="Grippeimpfung für Über-60-Jährige: Termine unter 040 1234-567 💉",
    )


def actions_of(people: dict[str, Any], post: Any) -> dict[str, frozenset[str]]:
    return {name: ApprovalPolicy(fresh(user)).actions(post) for name, user in people.items()}


def test_a_draft_may_be_submitted_by_its_campaigns_editors_and_rechained_by_governance(
    people: dict[str, Any], draft: Any
) -> None:
    assert actions_of(people, draft) == {
        "editor": {SUBMIT},
        "other_editor": NOTHING,  # not on this campaign's team
        "governance": {CHANGE_CHAIN},  # Governance sets chains; submitting is an Editor's
        "viewer": NOTHING,
        "medical": NOTHING,
        "medical2": NOTHING,
        "legal": NOTHING,
        "comms": NOTHING,
        "all_rounder": NOTHING,
    }
    assert ApprovalPolicy(AnonymousUser()).actions(draft) == NOTHING


def test_in_review_only_the_current_stages_members_decide(people: dict[str, Any], draft: Any, editor: Any) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    assert draft.status == PostStatus.IN_REVIEW
    assert actions_of(people, draft) == {
        "editor": NOTHING,  # the author never decides
        "other_editor": NOTHING,
        "governance": NOTHING,
        "viewer": NOTHING,
        # The medical stage checks claims' sources (approvals.claims): who decides it checks them.
        "medical": DECIDE | {CHECK_SOURCES},
        "medical2": DECIDE | {CHECK_SOURCES},
        "legal": NOTHING,
        "comms": NOTHING,
        "all_rounder": DECIDE | {CHECK_SOURCES},
    }


def test_after_medical_approves_legal_decides_and_no_one_decides_two_stages(
    people: dict[str, Any], draft: Any, editor: Any, reviewers: dict[str, Any]
) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    decide(draft, reviewers["all_rounder"])
    assert current_stage_run(post=draft).stage.name == "Legal review"  # type: ignore[union-attr]
    actions = actions_of(people, draft)
    assert actions["legal"] == DECIDE
    assert actions["all_rounder"] == NOTHING  # decided the medical stage of this round
    assert {name for name, granted in actions.items() if granted} == {"legal"}


def test_changes_requested_goes_back_to_the_author_to_submit(
    people: dict[str, Any], draft: Any, editor: Any, reviewers: dict[str, Any]
) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    decide(draft, reviewers["medical"], Verdict.REQUEST_CHANGES)
    assert draft.status == PostStatus.CHANGES_REQUESTED
    actions = actions_of(people, draft)
    assert actions["editor"] == {SUBMIT}
    assert actions["governance"] == {CHANGE_CHAIN}
    assert all(not granted for name, granted in actions.items() if name not in {"editor", "governance"})


def test_approved_and_rejected_posts_offer_no_review_action(
    people: dict[str, Any], draft: Any, editor: Any, reviewers: dict[str, Any], post_factory: Any
) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    for name in ("medical", "legal", "comms"):
        decide(draft, reviewers[name])
    assert draft.status == PostStatus.APPROVED
    assert all(not granted for granted in actions_of(people, draft).values())

    refused = post_factory(editor, draft.campaign, targets=[target.account for target in draft.targets.all()])
    round_submit(post=refused, actor=editor)
    refused.refresh_from_db()
    decide(refused, reviewers["medical"], Verdict.REJECT)
    assert refused.status == PostStatus.REJECTED
    assert all(not granted for granted in actions_of(people, refused).values())


def test_refusal_codes_name_each_rule(
    draft: Any, editor: Any, governance: Any, reviewers: dict[str, Any], campaign_factory: Any, post_factory: Any
) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    run = current_stage_run(post=draft)
    assert run is not None
    outsider = make_user("medical_elsewhere", roles.MEDICAL_REVIEWER)  # in the group, not on the campaign
    assert ApprovalPolicy(AnonymousUser()).decide_refusal(run) == "not_logged_in"
    assert ApprovalPolicy(editor).decide_refusal(run) == "author"
    assert ApprovalPolicy(reviewers["legal"]).decide_refusal(run) == "not_in_group"
    assert ApprovalPolicy(outsider).decide_refusal(run) == "cannot_see"
    assert ApprovalPolicy(reviewers["medical"]).decide_refusal(run) == ""
    later = run.round.stage_runs.get(stage__name="Legal review")
    assert later.status == StageStatus.WAITING
    assert ApprovalPolicy(reviewers["legal"]).decide_refusal(later) == "not_current"

    decide(draft, reviewers["medical"])
    done = StageRun.objects.select_related("round__post", "stage").get(pk=run.pk)
    assert ApprovalPolicy(reviewers["medical2"]).decide_refusal(done) == "not_current"  # the stage is done
    assert ApprovalPolicy(reviewers["medical"]).decide_refusal(run) == "already_decided"  # as the form saw it
    legal_run = current_stage_run(post=draft)
    assert legal_run is not None
    assert ApprovalPolicy(reviewers["all_rounder"]).decide_refusal(legal_run) == ""
    decide(draft, reviewers["legal"])
    comms_run = current_stage_run(post=draft)
    assert comms_run is not None
    reviewers["legal"].groups.add(comms_run.stage.group)
    assert ApprovalPolicy(fresh(reviewers["legal"])).decide_refusal(comms_run) == "decided_other_stage"


def test_a_page_that_loaded_the_rounds_answers_from_their_decisions_as_the_database_does(
    draft: Any, editor: Any, reviewers: dict[str, Any]
) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    decide(draft, reviewers["medical"])
    decide(draft, reviewers["legal"])
    comms_run = current_stage_run(post=draft)
    assert comms_run is not None
    reviewers["legal"].groups.add(comms_run.stage.group)  # decided Legal; now in Communications too
    reviewers["medical"].groups.add(comms_run.stage.group)
    loaded = rounds_for_post(post=draft)[0]
    page_run = next(run for run in loaded.stage_runs.all() if run.pk == comms_run.pk)
    legal_run = next(run for run in loaded.stage_runs.all() if run.pk != comms_run.pk and run.decisions.all())
    asked = {
        (name, run.pk): ApprovalPolicy(fresh(reviewers[name])).decide_refusal(
            StageRun.objects.select_related("round__post", "stage").get(pk=run.pk)
        )
        for name in ("medical", "legal", "comms", "all_rounder")
        for run in (page_run, legal_run)
    }
    assert asked[("legal", page_run.pk)] == "decided_other_stage"
    assert asked[("comms", page_run.pk)] == ""
    answered = {}
    with CaptureQueriesContext(connection) as read:
        for name in ("medical", "legal", "comms", "all_rounder"):
            policy = ApprovalPolicy(fresh(reviewers[name]))
            for run in (page_run, legal_run):
                answered[(name, run.pk)] = policy.decide_refusal(run)
    assert answered == asked
    assert not [query for query in read.captured_queries if '"approvals_decision"' in query["sql"]]


def test_one_policy_answers_for_the_stage_passed_in(draft: Any, editor: Any, reviewers: dict[str, Any]) -> None:
    round_submit(post=draft, actor=editor)
    draft.refresh_from_db()
    run = current_stage_run(post=draft)
    later = run.round.stage_runs.get(stage__name="Legal review")  # type: ignore[union-attr]
    policy = ApprovalPolicy(reviewers["all_rounder"])
    assert APPROVE in policy.actions(draft, stage_run=run)
    assert APPROVE not in policy.actions(draft, stage_run=later)
    assert policy.stage_run_for(draft) == run


# What asking costs ----------------------------------------------------------------------------


@pytest.fixture
def in_review(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> list[Any]:
    account = account_factory("facebook")
    posts = []
    for n in range(20):
        post = post_factory(
            editor,
            review_campaign,
            targets=[account],
            when=timezone.now() + dt.timedelta(days=3, hours=n),
            body=f"Sprechstunde {n + 1}: Diabetes im Alltag, Anmeldung unter 040 555-{n:03d}.",
        )
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        posts.append(post)
    return posts


def _queries(user: Any, posts: list[Any], *, one_policy: bool = True) -> tuple[list[str], list[frozenset[str]]]:
    user = fresh(user)
    policy = ApprovalPolicy(user)
    with CaptureQueriesContext(connection) as captured:
        answers = [(policy if one_policy else ApprovalPolicy(user)).actions(post) for post in posts]
    return [query["sql"] for query in captured.captured_queries], answers


@pytest.mark.parametrize("who", ["medical", "legal", "governance"])
def test_one_policy_reads_the_users_groups_and_campaigns_once_for_1_or_20_posts(
    who: str, in_review: list[Any], reviewers: dict[str, Any], governance: Any
) -> None:
    user = governance if who == "governance" else reviewers[who]
    one, one_answers = _queries(user, in_review[:1])
    twenty, answers = _queries(user, in_review)
    warm = ApprovalPolicy(fresh(user))
    warm.actions(in_review[0])
    with CaptureQueriesContext(connection) as per_post:
        warm.actions(in_review[1])
    # Total minus the per-post reads (the post's open stages, the round's decisions) is the per-user part.
    per_user_one = len(one) - len(per_post)
    per_user_twenty = len(twenty) - 20 * len(per_post)
    assert per_user_one == per_user_twenty
    assert per_user_one >= 1  # the user's groups (and campaigns, for a member of the stage's group)
    expected = DECIDE | {CHECK_SOURCES} if who == "medical" else frozenset()
    assert one_answers == [expected]
    assert answers == [expected] * 20


def test_a_policy_per_post_shares_the_per_user_reads_through_the_user(
    in_review: list[Any], reviewers: dict[str, Any]
) -> None:
    # The groups and campaigns are memoised on the user (people.rights), not only on the policy.
    shared, shared_answers = _queries(reviewers["medical"], in_review)
    separate, separate_answers = _queries(reviewers["medical"], in_review, one_policy=False)
    assert len(separate) == len(shared) and separate_answers == shared_answers


def on_team(campaign: Any, user: Any) -> None:
    from posts.services import campaign_permissions_sync

    campaign.team.add(user)
    campaign.reviewers.add(user)
    campaign_permissions_sync(campaign=campaign)


def test_who_submitted_or_wrote_a_version_of_a_post_never_decides_it(
    draft: Any, editor: Any, other_editor: Any, reviewers: dict[str, Any]
) -> None:
    from django.contrib.auth.models import Group

    from approvals.selectors import stage_runs_awaiting
    from posts.services import post_update

    medical = Group.objects.get(name=roles.MEDICAL_REVIEWER)
    other_editor.groups.add(medical)  # an editor who is also a physician on the medical stage
    on_team(draft.campaign, other_editor)
    co_author = fresh(other_editor)
    post_update(post=draft, actor=co_author, data={"body": draft.body + " Keine Anmeldung nötig."})
    draft.refresh_from_db()
    round_submit(post=draft, actor=editor)
    run = current_stage_run(post=draft)
    assert run is not None
    assert ApprovalPolicy(fresh(co_author)).decide_refusal(run) == "wrote_revision"
    assert run not in stage_runs_awaiting(user=fresh(co_author))  # nor in their inbox
    assert ApprovalPolicy(reviewers["medical"]).decide_refusal(run) == ""


def test_who_submitted_a_post_never_decides_it(draft: Any, other_editor: Any, reviewers: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group

    from approvals.selectors import stage_runs_awaiting

    other_editor.groups.add(Group.objects.get(name=roles.MEDICAL_REVIEWER))
    on_team(draft.campaign, other_editor)
    submitter = fresh(other_editor)
    round_submit(post=draft, actor=submitter)  # a colleague's post, submitted by them
    run = current_stage_run(post=draft)
    assert run is not None
    assert ApprovalPolicy(fresh(submitter)).decide_refusal(run) == "submitter"
    assert run not in stage_runs_awaiting(user=fresh(submitter))
    assert ApprovalPolicy(reviewers["medical"]).decide_refusal(run) == ""
