"""Governance's admin of retention rules, legal holds, purge reports and archives; every change through the services."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.models import Subject
from evidence.models import ArchiveJob, LegalHold, PurgeReport, RetentionRule
from evidence.retention import legal_hold_place, legal_hold_release, retention_rule_save
from people.http import admin_user


class _NoDelete:
    # Rules, holds, reports and archives are records: a hold is released, never deleted.
    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(RetentionRule)
class RetentionRuleAdmin(_NoDelete, admin.ModelAdmin[RetentionRule]):
    """How long each kind of record is kept after its end. Audit events are never purged."""

    list_display = ("kind", "keep_for", "unit", "active", "updated_at")
    fields = ("kind", "keep_for", "unit", "active", "basis", "updated_at")
    readonly_fields = ("kind", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one rule per kind, made by the migration

    def save_model(
        self, request: HttpRequest, obj: RetentionRule, form: ModelForm[RetentionRule], change: bool
    ) -> None:
        changed = {name: [form.initial.get(name), form.cleaned_data.get(name)] for name in form.changed_data}
        retention_rule_save(rule=obj, actor=admin_user(request), changed=changed)


class LegalHoldForm(forms.ModelForm[LegalHold]):
    # A subject by its internal reference: Governance never picks people from a list of names.
    subject_reference = forms.CharField(
        label=_("subject's reference"),
        max_length=100,
        required=False,
        help_text=_("The internal reference of the person, as in the consent registry."),
    )

    class Meta:
        model = LegalHold
        fields = ("campaign", "post", "reason")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reference = (cleaned.get("subject_reference") or "").strip()
        subject = None
        if reference:
            subject = Subject.objects.filter(reference=reference).first()
            if subject is None:
                self.add_error("subject_reference", _("No subject has this reference."))
        cleaned["subject"] = subject
        targets = [cleaned.get("campaign"), cleaned.get("post"), subject]
        if sum(target is not None for target in targets) != 1 and not self.errors:
            raise ValidationError(_("Choose exactly one: a campaign, a post or a subject's reference."))
        return cleaned


@admin.register(LegalHold)
class LegalHoldAdmin(_NoDelete, admin.ModelAdmin[LegalHold]):
    """Holds on a campaign, a post or a subject: nothing under an active hold is purged."""

    form = LegalHoldForm
    list_display = ("__str__", "target_label", "placed_by", "placed_at", "released_by", "released_at")
    list_filter = ("released_at",)
    raw_id_fields = ("post",)
    actions = ["release"]

    def get_fields(self, request: HttpRequest, obj: LegalHold | None = None) -> Any:
        if obj is None:
            return ("campaign", "post", "subject_reference", "reason")
        return ("target_label", "reason", "placed_by", "placed_at", "released_by", "released_at")

    def get_readonly_fields(self, request: HttpRequest, obj: LegalHold | None = None) -> Any:
        if obj is None:
            return ()
        return ("target_label", "reason", "placed_by", "placed_at", "released_by", "released_at")

    def save_model(self, request: HttpRequest, obj: LegalHold, form: ModelForm[LegalHold], change: bool) -> None:
        if change:
            return  # a placed hold does not change; it is released
        hold = legal_hold_place(
            actor=admin_user(request),
            reason=form.cleaned_data["reason"],
            campaign=form.cleaned_data.get("campaign"),
            post=form.cleaned_data.get("post"),
            subject=form.cleaned_data.get("subject"),
        )
        obj.pk = hold.pk

    @admin.action(description=_("Release the selected legal holds"), permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[LegalHold]) -> None:
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                legal_hold_release(actor=admin_user(request), hold=hold)
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            released += 1
        self.message_user(request, ngettext("%d legal hold released.", "%d legal holds released.", released) % released)


@admin.register(PurgeReport)
class PurgeReportAdmin(_NoDelete, admin.ModelAdmin[PurgeReport]):
    """What each purge removed and kept under a hold (ids, kinds, reasons); read-only."""

    list_display = ("__str__", "ran_at", "ran_by", "dry_run", "counts", "held_counts")
    fields = ("ran_at", "ran_by", "dry_run", "counts", "held_counts", "purged", "held")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(ArchiveJob)
class ArchiveJobAdmin(_NoDelete, admin.ModelAdmin[ArchiveJob]):
    """The compliance archives asked for; made and downloaded on the Archive page, read-only here."""

    list_display = ("__str__", "requested_by", "campaign", "date_from", "date_to", "status", "done", "total")
    list_filter = ("status",)
    fields = (
        "requested_by",
        "campaign",
        "date_from",
        "date_to",
        "status",
        "done",
        "total",
        "size",
        "sha256",
        "error",
        "created_at",
        "finished_at",
        "purged_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
