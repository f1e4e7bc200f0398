"""Governance oversees posts and administers campaigns and accounts; acting on posts is an Editor's (SPEC section 1)."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from approvals.services import round_submit
from audit.models import AuditEvent
from people import roles
from posts.models import Account, Campaign, Post, PostStatus
from posts.policy import SET_TEAM, VIEW, CampaignPolicy, PostPolicy
from posts.services import campaign_update, post_create, post_schedule, post_update, post_withdraw
from tests.conftest import make_user
from tests.posts.test_services import approve_all, in_days, last_seq


@pytest.fixture
def stage_reviewers(db: None) -> dict[str, Any]:
    return {
        roles.MEDICAL_REVIEWER: make_user("medical", roles.MEDICAL_REVIEWER),
        roles.LEGAL_REVIEWER: make_user("legal", roles.LEGAL_REVIEWER),
        roles.COMMUNICATIONS_REVIEWER: make_user("comms", roles.COMMUNICATIONS_REVIEWER),
    }


@pytest.fixture
def team_campaign(editor: Any, campaign_factory: Any, stage_reviewers: dict[str, Any]) -> Campaign:
    return campaign_factory(editor, name="Stroke awareness", reviewers=list(stage_reviewers.values()))


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_governance_sees_posts_but_never_creates_edits_submits_schedules_or_withdraws_one(
    governance: Any,
    editor: Any,
    team_campaign: Campaign,
    account_factory: Any,
    post_factory: Any,
    stage_reviewers: dict[str, Any],
) -> None:
    facebook = account_factory("facebook")
    draft = post_factory(editor, team_campaign, targets=[facebook], when=in_days(3))
    approved = approve_all(
        post_factory(editor, team_campaign, targets=[facebook], when=in_days(4)), editor, stage_reviewers
    )
    policy = PostPolicy(governance)
    assert not policy.may_create_in(team_campaign)
    assert policy.actions(draft) == policy.actions(approved) == frozenset({VIEW})
    before = last_seq()
    with pytest.raises(PermissionDenied):
        post_create(actor=governance, campaign=team_campaign, data={"body": "Governance writes."})
    with pytest.raises(PermissionDenied):
        post_update(post=draft, actor=governance, data={"body": "Governance rewrites."})
    with pytest.raises(PermissionDenied):
        round_submit(post=draft, actor=governance)
    with pytest.raises(PermissionDenied):
        post_schedule(post=approved, actor=governance)
    with pytest.raises(PermissionDenied):
        post_withdraw(post=approved, actor=governance, reason="oversight")
    draft.refresh_from_db()
    approved.refresh_from_db()
    assert (draft.status, draft.body) == (PostStatus.DRAFT, "Wash your hands: it saves lives.")
    assert approved.status == PostStatus.APPROVED
    assert Post.objects.count() == 2 and last_seq() == before

    client = signed_in(governance)
    assert client.get(reverse("posts:post_detail", args=[draft.pk])).status_code == 200
    assert client.get(reverse("posts:post_create")).status_code == 403
    assert client.get(reverse("posts:post_edit", args=[draft.pk])).status_code == 403
    # The admin shows posts to Governance and changes none.
    assert client.get(reverse("admin:posts_post_change", args=[draft.pk])).status_code == 200
    assert client.post(reverse("admin:posts_post_change", args=[draft.pk]), {"body": "x"}).status_code == 403


def test_governance_does_not_import_plans_but_exports_them(governance: Any) -> None:
    client = signed_in(governance)
    assert client.get(reverse("plans:import")).status_code == 403
    assert client.get(reverse("admin:posts_post_import")).status_code == 403
    assert reverse("admin:posts_post_import") not in client.get(reverse("admin:posts_post_changelist")).text
    assert client.get(reverse("plans:export") + "?format=csv").status_code == 200


def test_governance_still_sets_a_campaigns_team_and_reviewers_and_manages_accounts(
    governance: Any, editor: Any, other_editor: Any, team_campaign: Campaign, stage_reviewers: dict[str, Any]
) -> None:
    assert SET_TEAM in CampaignPolicy(governance).actions(team_campaign)
    medical = stage_reviewers[roles.MEDICAL_REVIEWER]
    campaign_update(
        campaign=team_campaign,
        actor=governance,
        data={"goal": "Spot a stroke"},
        team=[other_editor],
        reviewers=[medical],
    )
    team_campaign.refresh_from_db()
    assert team_campaign.goal == "Spot a stroke"
    assert list(team_campaign.team.all()) == [other_editor] and list(team_campaign.reviewers.all()) == [medical]
    # The new team member may now add posts to it; Governance still may not.
    assert PostPolicy(other_editor).may_create_in(team_campaign)
    assert not PostPolicy(governance).may_create_in(team_campaign)

    client = signed_in(governance)
    added = client.post(
        reverse("admin:posts_account_add"),
        {
            "platform": "linkedin",
            "name": "Careers",
            "handle": "careers",
            "time_zone": "Europe/Berlin",
            "active": "on",
            "connector": "outbox",
            "new_credentials": '{"token": "abc"}',
            "_save": "Save",
        },
    )
    assert added.status_code == 302
    account = Account.objects.get(handle="careers")
    assert account.credentials == {"token": "abc"}
    assert AuditEvent.objects.for_object(account).get().actor == governance
