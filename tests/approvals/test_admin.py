from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from approvals.models import CampaignChain, Decision, PostChain, ReviewChain, ReviewStage, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record
from audit.models import AuditEvent
from people import roles

pytestmark = pytest.mark.django_db


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stage_row(index: int, **fields: Any) -> dict[str, Any]:
    return {f"stages-{index}-{name}": value for name, value in fields.items()}


def test_governance_opens_the_chain_admin(governance: Any) -> None:
    assert not governance.is_superuser
    client = admin_client(governance)
    response = client.get(reverse("admin:approvals_reviewchain_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Standard" in html and "Medical review → Legal review → Communications review" in html
    chain = ReviewChain.objects.get(name="Standard")
    assert client.get(reverse("admin:approvals_reviewchain_change", args=[chain.pk])).status_code == 200


def test_governance_adds_a_chain_with_ordered_stages(governance: Any) -> None:
    medical = Group.objects.get(name=roles.MEDICAL_REVIEWER)
    legal = Group.objects.get(name=roles.LEGAL_REVIEWER)
    data: dict[str, Any] = {
        "name": "Recruiting",
        "description": "Legal first, then two medical reviewers",
        "active": "on",
        "stages-TOTAL_FORMS": "2",
        "stages-INITIAL_FORMS": "0",
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
        **stage_row(
            0,
            position=1,
            name="Legal check",
            group=legal.pk,
            rule="any",
            required_approvals=1,
            turnaround="24:00:00",
            must_acknowledge_findings="on",
        ),
        **stage_row(
            1,
            position=2,
            name="Two doctors",
            group=medical.pk,
            rule="count",
            required_approvals=2,
            turnaround="2 00:00:00",
        ),
    }
    response = admin_client(governance).post(reverse("admin:approvals_reviewchain_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    chain = ReviewChain.objects.get(name="Recruiting")
    stages = list(chain.stages.order_by("position").values_list("name", "group__name", "rule", "required_approvals"))
    assert stages == [
        ("Legal check", roles.LEGAL_REVIEWER, "any", 1),
        ("Two doctors", roles.MEDICAL_REVIEWER, "count", 2),
    ]
    assert ReviewStage.objects.get(name="Legal check").must_acknowledge_findings
    event = AuditEvent.objects.for_object(chain).get()
    assert event.action == "review.chain_created" and event.actor == governance
    assert [stage["name"] for stage in event.changes["stages"]] == ["Legal check", "Two doctors"]


def test_editors_have_no_chain_admin(editor: Any) -> None:
    editor.is_staff = True
    editor.save()
    assert admin_client(editor).get(reverse("admin:approvals_reviewchain_changelist")).status_code == 403


def test_decisions_rounds_and_notifications_are_read_only(
    governance: Any, submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    run = current_stage_run(post=submitted_post)
    decision = decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)  # type: ignore[arg-type]
    client = admin_client(governance)
    # The mail ledger (notification) moved to audit with its table.
    for name in ("approvals_decision", "approvals_reviewround", "approvals_stagerun", "audit_notification"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403, name
    url = reverse("admin:approvals_decision_change", args=[decision.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"verdict": "reject", "comment": "forged"}).status_code == 403
    assert (
        client.post(reverse("admin:approvals_decision_delete", args=[decision.pk]), {"post": "yes"}).status_code == 403
    )
    decision.refresh_from_db()
    assert (decision.verdict, decision.comment) == (Verdict.APPROVE, "")
    assert Decision.objects.count() == 1
    round_page = client.get(reverse("admin:approvals_reviewround_change", args=[run.round_id])).content.decode()  # type: ignore[union-attr]
    assert "Medical review" in round_page


def test_governance_sets_a_campaign_chain_through_the_service(governance: Any, review_campaign: Any) -> None:
    expedited = ReviewChain.objects.get(is_expedited=True)
    response = admin_client(governance).post(
        reverse("admin:approvals_campaignchain_add"), {"campaign": review_campaign.pk, "chain": expedited.pk}
    )
    assert response.status_code == 302
    assert CampaignChain.objects.get(campaign=review_campaign).chain == expedited
    assert AuditEvent.objects.for_object(review_campaign).filter(action="review.campaign_chain_set").exists()


def test_post_chain_admin_asks_the_policy(governance: Any, submitted_post: Any, editor: Any, post_factory: Any) -> None:
    expedited = ReviewChain.objects.get(is_expedited=True)
    client = admin_client(governance)
    url = reverse("admin:approvals_postchain_add")
    refused = client.post(url, {"post": submitted_post.pk, "chain": expedited.pk})
    assert refused.status_code == 200  # the form again, with the refusal
    assert "only before it is submitted" in refused.content.decode()
    assert not PostChain.objects.exists()
    draft = post_factory(editor, submitted_post.campaign)
    assert client.post(url, {"post": draft.pk, "chain": expedited.pk}).status_code == 302
    assert PostChain.objects.get(post=draft).chain == expedited
    assert AuditEvent.objects.for_object(draft).filter(action="review.post_chain_set").exists()
