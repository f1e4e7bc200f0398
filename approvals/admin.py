"""Governance's admin for review chains; rounds, stage runs, decisions and notifications are read-only.

Which chain a campaign or post goes through is written by the approvals services
(``campaign_chain_set``, ``post_chain_set``), which ask the review policy and record the audit trail.
"""

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from approvals.models import (
    CampaignChain,
    Decision,
    Notification,
    PostChain,
    ReviewChain,
    ReviewRound,
    ReviewStage,
    StageRun,
)
from approvals.policy import CHANGE_CHAIN, review_actions
from approvals.services import campaign_chain_set, post_chain_set
from audit.services import event_record
from people.http import admin_user
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


class ReviewStageInline(admin.TabularInline[ReviewStage, ReviewChain]):
    model = ReviewStage
    extra = 0
    ordering = ("position",)
    fields = (
        "position",
        "name",
        "group",
        "rule",
        "required_approvals",
        "turnaround",
        "must_acknowledge_findings",
        "after_publication",
    )


def _stage_summary(chain: ReviewChain) -> list[dict[str, str | int | float | bool]]:
    return [
        {
            "position": stage.position,
            "name": stage.name,
            "group": stage.group.name,
            "rule": stage.rule,
            "required_approvals": stage.required_approvals,
            "turnaround_hours": stage.turnaround.total_seconds() / 3600,
            "must_acknowledge_findings": stage.must_acknowledge_findings,
            "after_publication": stage.after_publication,
        }
        for stage in chain.stages.select_related("group").order_by("position")
    ]


@admin.register(ReviewChain)
class ReviewChainAdmin(admin.ModelAdmin[ReviewChain]):
    list_display = ("name", "stage_names", "is_default", "is_expedited", "active")
    list_filter = ("active", "is_default", "is_expedited")
    search_fields = ("name", "description")
    inlines = [ReviewStageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewChain]:
        return super().get_queryset(request).prefetch_related("stages")

    @admin.display(description=_("stages"))
    def stage_names(self, chain: ReviewChain) -> str:
        return " → ".join(stage.name for stage in sorted(chain.stages.all(), key=lambda stage: stage.position))

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[ReviewChain],
        formsets: Sequence[forms.BaseFormSet[forms.BaseForm]],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        # Chains have no service of their own: the admin is their only writer, so it keeps the trail.
        chain = form.instance
        event_record(
            actor=admin_user(request),
            action="review.chain_changed" if change else "review.chain_created",
            obj=chain,
            changes={
                "name": chain.name,
                "is_default": chain.is_default,
                "is_expedited": chain.is_expedited,
                "active": chain.active,
                "stages": _stage_summary(chain),
            },
        )

    def delete_model(self, request: HttpRequest, obj: ReviewChain) -> None:
        event_record(actor=admin_user(request), action="review.chain_deleted", obj=obj, changes={"name": obj.name})
        super().delete_model(request, obj)


# Which chain applies ----------------------------------------------------------------------------


@admin.register(CampaignChain)
class CampaignChainAdmin(admin.ModelAdmin[CampaignChain]):
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
        if post is not None and CHANGE_CHAIN not in review_actions(user=self.request.user, post=post):
            raise ValidationError(_("Only Governance may change a post's chain, and only before it is submitted."))
        return cleaned


@admin.register(PostChain)
class PostChainAdmin(admin.ModelAdmin[PostChain]):
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
    fields = ("stage", "status", "started_at", "deadline", "finished_at", "reminded_at")
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
    fields = ("reviewer", "verdict", "comment", "acknowledged_findings", "content_hash", "created_at")
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
    list_display = ("created_at", "post", "stage", "reviewer", "verdict", "short_hash")
    list_filter = ("verdict", "stage_run__stage__group")
    list_select_related = ("stage_run__round__post", "stage_run__stage", "reviewer")
    search_fields = ("comment", "reviewer__username", "stage_run__round__post__title", "content_hash")
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


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin[Notification]):
    list_display = ("key", "sent_at")
    search_fields = ("key",)
    date_hierarchy = "sent_at"
