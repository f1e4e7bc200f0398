import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.forms import modelform_factory
from django.test import Client
from django.urls import reverse

from approvals.admin import ReviewStageForm
from approvals.models import CampaignChain, Decision, PostChain, ReviewChain, ReviewStage, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record
from audit.models import AuditEvent
from core.durations import duration_words
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
    assert (
        "Standard" in html and "Medical review (2 days) → Legal review (2 days) → Communications review (1 day)" in html
    )
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
            turnaround="24",
            must_acknowledge_findings="on",
        ),
        **stage_row(
            1,
            position=2,
            name="Two doctors",
            group=medical.pk,
            rule="count",
            required_approvals=2,
            turnaround="48",
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


# Chains are written by chain_save and chain_delete ----------------------------------------------------


def chain_form(chain: ReviewChain, stage_changes: dict[int, dict[str, Any]] | None = None, **fields: Any) -> dict:
    """Return the chain's change form as the admin posts it, with ``fields`` and stage rows changed."""
    stage_changes = stage_changes or {}
    flags = {"is_default": chain.is_default, "is_expedited": chain.is_expedited, "active": chain.active}
    data: dict[str, Any] = {"name": chain.name, "description": chain.description, "_save": "Save"}
    data.update({name: "on" for name, value in flags.items() if value})
    stages = list(chain.stages.order_by("position"))
    data.update(
        {
            "stages-TOTAL_FORMS": str(len(stages)),
            "stages-INITIAL_FORMS": str(len(stages)),
            "stages-MIN_NUM_FORMS": "0",
            "stages-MAX_NUM_FORMS": "1000",
        }
    )
    for index, stage in enumerate(stages):
        row: dict[str, Any] = {
            "id": stage.pk,
            "chain": chain.pk,
            "position": stage.position,
            "name": stage.name,
            "group": stage.group_id,
            "rule": stage.rule,
            "required_approvals": stage.required_approvals,
            "turnaround": str(stage.turnaround.total_seconds() / 3600),
        }
        flags = ("must_acknowledge_findings", "checks_claims", "after_publication")
        row.update({name: "on" for name in flags if getattr(stage, name)})
        row.update(stage_changes.get(stage.position, {}))
        data.update(stage_row(index, **{name: value for name, value in row.items() if value is not None}))
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def stage_names(chain: ReviewChain) -> list[tuple[int, str]]:
    return list(chain.stages.order_by("position").values_list("position", "name"))


def test_swapping_two_stages_in_the_inline_saves_them_and_records_the_order_before_and_after(governance: Any) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    assert stage_names(chain) == [(1, "Medical review"), (2, "Legal review"), (3, "Communications review")]
    before = AuditEvent.objects.count()
    response = admin_client(governance).post(
        reverse("admin:approvals_reviewchain_change", args=[chain.pk]),
        chain_form(chain, {1: {"position": 2}, 2: {"position": 1}}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert stage_names(chain) == [(1, "Legal review"), (2, "Medical review"), (3, "Communications review")]
    event = AuditEvent.objects.get(seq__gt=before)  # exactly the one event chain_save writes
    assert (event.action, event.actor, event.object_id) == ("review.chain_changed", governance, str(chain.pk))
    old, new = event.changes["stages"]
    assert [stage["name"] for stage in old] == ["Medical review", "Legal review", "Communications review"]
    assert [stage["name"] for stage in new] == ["Legal review", "Medical review", "Communications review"]
    assert set(event.changes) == {"stages"}


def test_saving_a_chain_unchanged_writes_no_event(governance: Any) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    before = AuditEvent.objects.count()
    response = admin_client(governance).post(
        reverse("admin:approvals_reviewchain_change", args=[chain.pk]), chain_form(chain)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AuditEvent.objects.count() == before


def test_renaming_a_chain_and_deleting_a_stage_records_both(governance: Any) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    response = admin_client(governance).post(
        reverse("admin:approvals_reviewchain_change", args=[chain.pk]),
        chain_form(chain, {3: {"DELETE": "on"}}, name="Standard (Klinikum Süd) 🏥"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    chain.refresh_from_db()
    assert chain.name == "Standard (Klinikum Süd) 🏥"
    assert stage_names(chain) == [(1, "Medical review"), (2, "Legal review")]
    event = AuditEvent.objects.for_object(chain).get()
    assert event.changes["name"] == ["Standard", "Standard (Klinikum Süd) 🏥"]
    assert [len(stages) for stages in event.changes["stages"]] == [3, 2]


def test_a_normal_chain_may_not_review_after_publishing(governance: Any) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    before = AuditEvent.objects.count()
    response = admin_client(governance).post(
        reverse("admin:approvals_reviewchain_change", args=[chain.pk]),
        chain_form(chain, {3: {"after_publication": "on"}}),
    )
    assert response.status_code == 200
    assert "Only an expedited chain may review after publishing." in response.content.decode()
    assert not chain.stages.filter(after_publication=True).exists()
    assert AuditEvent.objects.count() == before


def test_a_stage_that_decided_posts_cannot_be_deleted_in_the_inline(
    governance: Any, submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    response = admin_client(governance).post(
        reverse("admin:approvals_reviewchain_change", args=[chain.pk]), chain_form(chain, {1: {"DELETE": "on"}})
    )
    assert response.status_code == 200
    assert chain.stages.count() == 3
    assert not AuditEvent.objects.for_object(chain).exists()


def make_chain(name: str) -> ReviewChain:
    chain = ReviewChain.objects.create(name=name, description="Für die Kinderklinik")
    for position, role in enumerate((roles.MEDICAL_REVIEWER, roles.LEGAL_REVIEWER), start=1):
        ReviewStage.objects.create(chain=chain, position=position, name=role, group=Group.objects.get(name=role))
    return chain


def bulk_delete(client: Client, *chains: ReviewChain) -> Any:
    return client.post(
        reverse("admin:approvals_reviewchain_changelist"),
        {"action": "delete_selected", "_selected_action": [chain.pk for chain in chains], "post": "yes"},
    )


def test_bulk_delete_of_two_chains_writes_one_event_per_chain(governance: Any) -> None:
    first, second = make_chain("Pädiatrie"), make_chain("Onkologie – Studien")
    before = AuditEvent.objects.count()
    response = bulk_delete(admin_client(governance), first, second)
    assert response.status_code == 302
    assert not ReviewChain.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert not ReviewStage.objects.filter(chain_id__in=[first.pk, second.pk]).exists()
    events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [(event.action, event.object_id, event.actor) for event in events] == [
        ("review.chain_deleted", str(first.pk), governance),
        ("review.chain_deleted", str(second.pk), governance),
    ]
    assert events[1].changes["name"] == "Onkologie – Studien"
    assert [stage["group"] for stage in events[1].changes["stages"]] == [roles.MEDICAL_REVIEWER, roles.LEGAL_REVIEWER]


def test_bulk_delete_refuses_a_chain_reviewing_a_post_and_deletes_nothing(governance: Any, submitted_post: Any) -> None:
    unused = make_chain("Pädiatrie")
    standard = ReviewChain.objects.get(name="Standard")
    before = AuditEvent.objects.count()
    response = bulk_delete(admin_client(governance), unused, standard)
    assert response.status_code == 200
    page = response.content.decode()
    assert "“Standard” is reviewing posts now" in page and submitted_post.title in page
    assert ReviewChain.objects.filter(pk__in=[unused.pk, standard.pk]).count() == 2
    assert AuditEvent.objects.count() == before


def test_deleting_a_chain_a_campaign_uses_is_refused_with_a_message(governance: Any, review_campaign: Any) -> None:
    from approvals.services import campaign_chain_set

    chain = make_chain("Pädiatrie")
    campaign_chain_set(campaign=review_campaign, chain=chain, actor=governance)
    client = admin_client(governance)
    url = reverse("admin:approvals_reviewchain_delete", args=[chain.pk])
    before = AuditEvent.objects.count()
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "Campaigns use “Pädiatrie” (Flu season)" in response.content.decode()
    assert ReviewChain.objects.filter(pk=chain.pk).exists()
    assert AuditEvent.objects.count() == before


def test_deleting_an_unused_chain_records_it(governance: Any) -> None:
    chain = make_chain("Pädiatrie")
    response = admin_client(governance).post(
        reverse("admin:approvals_reviewchain_delete", args=[chain.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="review.chain_deleted")
    assert (event.object_id, event.changes["name"], event.actor) == (str(chain.pk), "Pädiatrie", governance)


def test_the_post_chain_admin_offers_only_active_chains(
    governance: Any, editor: Any, review_campaign: Any, post_factory: Any
) -> None:
    retired = make_chain("Retired")
    retired.active = False
    retired.save()
    draft = post_factory(editor, review_campaign)
    response = admin_client(governance).post(
        reverse("admin:approvals_postchain_add"), {"post": draft.pk, "chain": retired.pk}
    )
    assert response.status_code == 200
    assert not PostChain.objects.exists()
    assert not AuditEvent.objects.filter(action="review.post_chain_set").exists()


# Names and durations as Governance reads them -------------------------------------------------

# The stage form as the chain page's inline builds it.
StageForm = modelform_factory(
    ReviewStage, form=ReviewStageForm, fields=["position", "name", "group", "rule", "required_approvals", "turnaround"]
)


def test_the_three_chain_entries_have_distinct_names_on_the_admin_index(governance: Any) -> None:
    page = admin_client(governance).get(reverse("admin:index")).content.decode()
    names = [str(model._meta.verbose_name_plural) for model in (ReviewChain, CampaignChain, PostChain)]
    assert len(set(names)) == 3
    assert sum(name.endswith("review chains") for name in names) == 0
    for name in names:
        assert name.capitalize() in page


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("36", dt.timedelta(hours=36)), ("1.5", dt.timedelta(minutes=90)), ("2,5", dt.timedelta(minutes=150))],
)
def test_a_turnaround_is_typed_in_hours(governance: Any, typed: str, stored: dt.timedelta) -> None:
    chain = ReviewChain.objects.get(name="Standard")
    stage = chain.stages.get(position=1)
    form = StageForm(instance=stage)
    assert 'name="turnaround"' in str(form["turnaround"]) and 'value="48"' in str(form["turnaround"])
    data = {field: form[field].value() for field in ("position", "name", "group", "rule", "required_approvals")}

    changed = StageForm({**data, "turnaround": typed}, instance=stage)

    assert changed.is_valid(), changed.errors
    assert changed.cleaned_data["turnaround"] == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1 00:00:00", "Enter the number of hours"),
        ("two days", "Enter the number of hours"),
        ("0", "at least one minute"),
        ("-4", "at least one minute"),
        ("99999", "at most 2160 hours"),
        ("NaN", "Enter the number of hours"),
    ],
)
def test_a_turnaround_that_is_no_duration_is_refused_with_a_reason(typed: str, message: str) -> None:
    stage = ReviewChain.objects.get(name="Standard").stages.get(position=1)
    form = StageForm(instance=stage)
    data = {field: form[field].value() for field in ("position", "name", "group", "rule", "required_approvals")}

    refused = StageForm({**data, "turnaround": typed}, instance=stage)

    assert not refused.is_valid()
    assert message in " ".join(refused.errors["turnaround"])


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (dt.timedelta(days=1), "1 day"),
        (dt.timedelta(hours=48), "2 days"),
        (dt.timedelta(hours=36), "36 hours"),
        (dt.timedelta(hours=1), "1 hour"),
        (dt.timedelta(minutes=90), "1 hour 30 minutes"),
        (dt.timedelta(minutes=45), "45 minutes"),
    ],
)
def test_durations_read_as_days_or_hours(duration: dt.timedelta, words: str) -> None:
    assert duration_words(duration) == words
