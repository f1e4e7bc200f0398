"""Governance's admin for review chains; rounds, stage runs and decisions are read-only.

The admin only parses input: chains and their stages are written by ``chain_save`` and
``chain_delete``, which chain a campaign or post goes through by ``campaign_chain_set`` and
``post_chain_set``; these services validate, ask the review policy and record the audit trail.
"""

from typing import Any, TypeVar, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from approvals.models import (
    CampaignChain,
    ClaimCheck,
    Decision,
    PostChain,
    Recertification,
    ReviewChain,
    ReviewRound,
    ReviewStage,
    StageRun,
)
from approvals.policy import CHANGE_CHAIN, ApprovalPolicy
from approvals.services import (
    STAGE_FIELDS,
    StageSpec,
    campaign_chain_set,
    chain_delete,
    chain_delete_problems,
    chain_problems,
    chain_save,
    post_chain_set,
)
from core.durations import HoursField, duration_words
from people.http import admin_user
from people.twofactor import ReauthenticatedAdminMixin
from posts.models import Post

M = TypeVar("M", bound=models.Model)
P = TypeVar("P", bound=models.Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """Rows written only by the workflow: Governance may look, nobody edits."""

    def has_add_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[M, P]):
    extra = 0
    can_delete = False
    show_change_link = True

    # obj is the parent row (django-stubs' base types it as the inline's own model; either passes).
    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


# Chains ---------------------------------------------------------------------------------------


StageFormSet = BaseInlineFormSet[ReviewStage, ReviewChain, forms.ModelForm[ReviewStage]]


class ReviewStageFormSet(StageFormSet):
    """Asks `chain_problems` before the service does, so a refusal shows above the stages."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        stages, remove = stage_changes(self)
        problems = chain_problems(chain=self.instance, stages=stages, remove=remove)
        if problems:
            raise ValidationError(problems)


class ReviewStageForm(forms.ModelForm[ReviewStage]):
    turnaround = HoursField(
        label=_("turnaround (hours)"),
        initial=ReviewStage._meta.get_field("turnaround").default,
        help_text=_("How long the stage's reviewers have, in hours: 48 for two days, 1.5 for an hour and a half."),
    )

    def _get_validation_exclusions(self) -> set[str]:
        # Two stages may swap positions in one save, which a row-by-row check against the stored
        # rows would refuse; chain_problems checks the chain's positions as a whole instead.
        return {*super()._get_validation_exclusions(), "position"}  # type: ignore[misc]


class ReviewStageInline(admin.TabularInline[ReviewStage, ReviewChain]):
    model = ReviewStage
    form = ReviewStageForm
    formset = ReviewStageFormSet
    extra = 0
    ordering = ("position",)
    fields = STAGE_FIELDS  # what chain_save takes


def stage_changes(
    formset: BaseInlineFormSet[ReviewStage, ReviewChain, forms.ModelForm[ReviewStage]],
) -> tuple[list[StageSpec], list[ReviewStage]]:
    """Return the stage formset's input as `chain_save` takes it: (stages to create or change, stages to remove)."""
    stages: list[StageSpec] = []
    remove: list[ReviewStage] = []
    for form in formset.forms:
        stored = form.instance if form.instance.pk else None
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            if stored is not None:
                remove.append(stored)
            continue
        if stored is None and not form.has_changed():
            continue  # an empty extra row
        data = form.cleaned_data
        stages.append(StageSpec(stage=stored, **{field: data[field] for field in STAGE_FIELDS if field in data}))
    return stages, remove


@admin.register(ReviewChain)
class ReviewChainAdmin(ReauthenticatedAdminMixin, admin.ModelAdmin[ReviewChain]):
    """Chains and their stages are written by `chain_save` and `chain_delete`, which validate and audit."""

    list_display = (
        "name",
        "stage_names",
        "is_default",
        "is_expedited",
        "active",
        "approval_valid_days",
        "recertify_months",
    )
    list_filter = ("active", "is_default", "is_expedited")
    search_fields = ("name", "description")
    inlines = [ReviewStageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewChain]:
        return super().get_queryset(request).prefetch_related("stages")

    @admin.display(description=_("stages"))
    def stage_names(self, chain: ReviewChain) -> str:
        stages = sorted(chain.stages.all(), key=lambda stage: stage.position)
        return " → ".join(f"{stage.name} ({duration_words(stage.turnaround)})" for stage in stages)

    def save_model(self, request: HttpRequest, obj: ReviewChain, form: Any, change: bool) -> None:
        pass  # saved with its stages in save_related, in one service call

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        stages: list[StageSpec] = []
        remove: list[ReviewStage] = []
        for formset in formsets:
            if isinstance(formset, ReviewStageFormSet):
                stages, remove = stage_changes(formset)
        chain_save(chain=form.instance, actor=admin_user(request), stages=stages, remove=remove)
        for formset in formsets:
            # What the admin's history says (construct_change_message), as formset.save() would tell it.
            kept = [item for item in formset.forms if item not in formset.deleted_forms]
            formset.new_objects = [item.instance for item in kept if not item.instance.pk and item.has_changed()]
            formset.changed_objects = [
                (item.instance, item.changed_data) for item in kept if item.instance.pk and item.changed_data
            ]
            formset.deleted_objects = remove

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = [problem for chain in objs for problem in chain_delete_problems(chain=chain)]
        if refusals:
            # The confirmation page then says in words why nothing is deleted (Django's page would
            # list the rows that protect a chain, or a permission to delete them nobody has).
            return deleted, counts, set(), [*refusals, *protected]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: ReviewChain) -> None:
        chain_delete(chain=obj, actor=admin_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReviewChain]) -> None:
        for chain in queryset.order_by("pk"):
            chain_delete(chain=chain, actor=admin_user(request))


# Which chain applies ----------------------------------------------------------------------------


class ActiveChainsMixin:
    """Offers only active chains: the services refuse an inactive one."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "chain":
            kwargs["queryset"] = ReviewChain.objects.filter(active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(CampaignChain)
class CampaignChainAdmin(ReauthenticatedAdminMixin, ActiveChainsMixin, admin.ModelAdmin[CampaignChain]):
    list_display = ("campaign", "chain")
    list_select_related = ("campaign", "chain")
    autocomplete_fields = ("campaign",)
    search_fields = ("campaign__name", "chain__name")

    def get_readonly_fields(self, request: HttpRequest, obj: CampaignChain | None = None) -> tuple[str, ...]:
        return ("campaign",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: CampaignChain | None = None) -> bool:
        return False  # choose another chain instead; the services keep the trail

    def save_model(
        self, request: HttpRequest, obj: CampaignChain, form: forms.ModelForm[CampaignChain], change: bool
    ) -> None:
        setting = campaign_chain_set(campaign=obj.campaign, chain=obj.chain, actor=admin_user(request))
        obj.pk = setting.pk


class PostChainForm(forms.ModelForm[PostChain]):
    """Asks the review policy before the service does, so a refusal shows as a form error."""

    request: HttpRequest

    class Meta:
        model = PostChain
        fields = ("post", "chain")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        post = cleaned.get("post") or (self.instance.post if self.instance.pk else None)
        if post is not None and CHANGE_CHAIN not in ApprovalPolicy(self.request.user).actions(post):
            raise ValidationError(_("Only Governance may change a post's chain, and only before it is submitted."))
        return cleaned


@admin.register(PostChain)
class PostChainAdmin(ReauthenticatedAdminMixin, ActiveChainsMixin, admin.ModelAdmin[PostChain]):
    form = PostChainForm
    list_display = ("post", "chain")
    list_select_related = ("post", "chain")
    raw_id_fields = ("post",)
    search_fields = ("post__title", "chain__name")

    def get_form(
        self, request: HttpRequest, obj: PostChain | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[PostChain]]:
        form = super().get_form(request, obj, change=change, **kwargs)
        # A subclass of the form Django built, carrying the request: still a ModelForm of PostChain.
        return cast(type[forms.ModelForm[PostChain]], type(form.__name__, (form,), {"request": request}))

    def get_readonly_fields(self, request: HttpRequest, obj: PostChain | None = None) -> tuple[str, ...]:
        return ("post",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: PostChain | None = None) -> bool:
        return False  # choose another chain instead; the services keep the trail

    def save_model(self, request: HttpRequest, obj: PostChain, form: forms.ModelForm[PostChain], change: bool) -> None:
        setting = post_chain_set(post=obj.post, chain=obj.chain, actor=admin_user(request))
        obj.pk = setting.pk


# The runs (read-only) -------------------------------------------------------------------------


class StageRunInline(ReadOnlyInline[StageRun, ReviewRound]):
    model = StageRun
    fields = ("stage", "status", "started_at", "deadline", "finished_at", "reminded_at", "escalated_at")
    readonly_fields = fields
    ordering = ("stage__position",)


@admin.register(ReviewRound)
class ReviewRoundAdmin(ReadOnlyAdmin[ReviewRound]):
    list_display = ("post", "chain", "status", "revision", "submitted_by", "submitted_at", "finished_at")
    list_filter = ("status", "chain")
    list_select_related = ("post", "chain", "revision", "submitted_by")
    search_fields = ("post__title", "content_hash")
    date_hierarchy = "submitted_at"
    raw_id_fields = ("post", "revision")
    inlines = [StageRunInline]


class DecisionInline(ReadOnlyInline[Decision, StageRun]):
    model = Decision
    fields = (
        "reviewer",
        "signer_name",
        "signer_role",
        "verdict",
        "comment",
        "acknowledged_findings",
        "acknowledgement_reasons",
        "content_hash",
        "created_at",
        "signer_time_zone",
        "confirmation",
    )
    readonly_fields = fields


@admin.register(StageRun)
class StageRunAdmin(ReadOnlyAdmin[StageRun]):
    list_display = ("round", "stage", "status", "deadline", "finished_at")
    list_filter = ("status", "stage__chain", "stage__group")
    list_select_related = ("round__post", "round__chain", "stage__chain")
    raw_id_fields = ("round",)
    inlines = [DecisionInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin[Decision]):
    list_display = ("created_at", "post", "stage", "reviewer", "signer_name", "verdict", "short_hash")
    list_filter = ("verdict", "stage_run__stage__group")
    list_select_related = ("stage_run__round__post", "stage_run__stage", "reviewer")
    search_fields = ("comment", "reviewer__username", "signer_name", "stage_run__round__post__title", "content_hash")
    date_hierarchy = "created_at"
    raw_id_fields = ("stage_run",)

    @admin.display(description=_("post"))
    def post(self, decision: Decision) -> Post:
        return decision.stage_run.round.post

    @admin.display(description=_("stage"))
    def stage(self, decision: Decision) -> str:
        return decision.stage_run.stage.name

    @admin.display(description=_("content hash"))
    def short_hash(self, decision: Decision) -> str:
        return decision.content_hash[:12]


@admin.register(ClaimCheck)
class ClaimCheckAdmin(ReadOnlyAdmin[ClaimCheck]):
    """The medical reviewers' "Source checked" marks (approvals.claims), each on one content hash."""

    list_display = ("checked_at", "claim", "checked_by", "stage_run", "short_hash")
    list_filter = ("stage_run__stage__chain",)
    list_select_related = ("claim", "checked_by", "stage_run__round__post", "stage_run__stage")
    search_fields = ("claim__passage", "claim__source", "checked_by__username", "content_hash")
    raw_id_fields = ("claim", "stage_run")

    @admin.display(description=_("content hash"))
    def short_hash(self, check: ClaimCheck) -> str:
        return check.content_hash[:12]


@admin.register(Recertification)
class RecertificationAdmin(ReadOnlyAdmin[Recertification]):
    """Re-certification answers are written by `approvals.expiry_services.recertification_record` only."""

    list_display = ("created_at", "post", "outcome", "reviewer", "chain")
    list_filter = ("outcome", "chain")
    list_select_related = ("post", "reviewer", "chain")
    search_fields = ("reason", "reviewer__username", "post__title")
    date_hierarchy = "created_at"
    raw_id_fields = ("post",)
