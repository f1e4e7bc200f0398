"""Governance's view of subjects and consent records.

Subjects are written through the consent services (which record the audit trail). Consent
records are read-only here: they are recorded with their signed form in the registry UI, and
change state only through the services: verification by the "Verify" action below (asking the
same policy as the UI), revocation on the record's registry page, where how it was received
and why are recorded.
"""

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.models import ConsentRecord, ConsentRecordQuerySet, ConsentSigner, ConsentState, Subject
from consent.policy import VERIFY, ConsentPolicy
from consent.selectors import REGISTRY_STATES
from consent.services import SUBJECT_FIELDS, consent_verify, subject_create, subject_update
from people.http import admin_user


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin[Subject]):
    list_display = ("display_name", "reference", "date_of_birth", "deceased_on", "record_count", "created_at")
    search_fields = ("display_name", "reference")
    fields = (*SUBJECT_FIELDS, "registry_link", "created_at", "created_by")
    readonly_fields = ("registry_link", "created_at", "created_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subject]:
        return super().get_queryset(request).annotate(record_count=Count("consent_records"))

    @admin.display(description=_("consent records"), ordering="record_count")
    def record_count(self, obj: Subject) -> int:
        return int(getattr(obj, "record_count", 0))

    @admin.display(description=_("in the registry"))
    def registry_link(self, obj: Subject) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("consent:subject_detail", args=[obj.pk]), _("Open in the consent registry")
        )

    def has_delete_permission(self, request: HttpRequest, obj: Subject | None = None) -> bool:
        # Consent records and the audit trail point at subjects; they stay.
        return False

    def save_model(self, request: HttpRequest, obj: Subject, form: forms.ModelForm[Subject], change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in SUBJECT_FIELDS if name in form.cleaned_data}
        if change:
            subject = subject_update(subject=obj, actor=admin_user(request), data=data)
        else:
            subject = subject_create(actor=admin_user(request), data=data)
        # The admin logs and redirects with the instance it built; make it the saved one.
        obj.pk = subject.pk
        obj._state.adding = False
        obj.refresh_from_db()


class ConsentSignerInline(admin.TabularInline[ConsentSigner, ConsentRecord]):
    model = ConsentSigner
    fields = ("role", "name", "authority")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: ConsentRecord | None = None) -> bool:
        return False

    # An inline's obj is the parent record; django-stubs' InlineModelAdmin overrides this the same way, with an ignore.
    def has_change_permission(self, request: HttpRequest, obj: ConsentRecord | None = None) -> bool:  # type: ignore[override]
        return False


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[ConsentRecord]) -> list[tuple[str, str]]:
        return [(state.value, str(state.label)) for state in REGISTRY_STATES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> QuerySet[ConsentRecord]:
        value = self.value()
        if value in ConsentState.values:
            # The changelist's queryset comes from ConsentRecord.objects, a ConsentRecordQuerySet.
            return cast(ConsentRecordQuerySet, queryset).with_state(value)
        return queryset


RECORD_FIELDS = (
    "subject",
    "state_display",
    "registry_link",
    "media_kinds",
    "description",
    "disclosing_organisation",
    "recipients",
    "all_platforms",
    "platforms",
    "purposes",
    "signed_on",
    "expires_on",
    "expiry_event",
    "states_right_to_revoke",
    "states_no_conditioning",
    "states_redisclosure",
    "is_remunerated",
    "states_remuneration",
    "document_link",
    "document_type",
    "document_checksum",
    "copy_given_on",
    "copy_given_how",
    "notes",
    "recorded_at",
    "recorded_by",
    "verified_at",
    "verified_by",
    "revoked_at",
    "revoked_by",
    "revocation_received_via",
    "revocation_reason",
    "expiry_processed_at",
    "expiry_reminded_at",
    "reconsent_due_on",
    "reconsent_noticed_at",
)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin[ConsentRecord]):
    list_display = ("__str__", "subject_reference", "state_display", "signed_on", "expires_on", "recorded_by")
    list_select_related = ("subject", "recorded_by")
    list_filter = (StateFilter, "all_platforms", "signed_on")
    search_fields = ("subject__display_name", "subject__reference", "document_checksum")
    date_hierarchy = "signed_on"
    fields = RECORD_FIELDS
    readonly_fields = RECORD_FIELDS
    inlines = (ConsentSignerInline,)
    actions = ("verify",)

    # Recorded with the signed form in the registry; changed only through the services.
    def has_add_permission(self, request: HttpRequest, obj: ConsentRecord | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ConsentRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ConsentRecord | None = None) -> bool:
        return False

    @admin.display(description=_("reference"), ordering="subject__reference")
    def subject_reference(self, obj: ConsentRecord) -> str:
        return obj.subject.reference

    @admin.display(description=_("state"))
    def state_display(self, obj: ConsentRecord) -> str:
        return str(ConsentState(obj.state_at(timezone.now())).label)

    @admin.display(description=_("in the registry"))
    def registry_link(self, obj: ConsentRecord) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("consent:record_detail", args=[obj.pk]),
            _("Open in the consent registry (to revoke)"),
        )

    @admin.display(description=_("signed form"))
    def document_link(self, obj: ConsentRecord) -> str:
        return format_html('<a href="{}">{}</a>', reverse("consent:document", args=[obj.pk]), obj.document_name)

    @admin.action(description=_("Verify"))
    def verify(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> None:
        verified, refused = 0, []
        policy = ConsentPolicy(request.user)
        for record in queryset.select_related("subject"):
            if VERIFY not in policy.actions(record):
                refused.append(str(record))
                continue
            try:
                consent_verify(record=record, actor=admin_user(request))
            except (ValidationError, PermissionDenied):
                refused.append(str(record))
            else:
                verified += 1
        if verified:
            self.message_user(
                request,
                ngettext("%(count)d consent verified.", "%(count)d consents verified.", verified) % {"count": verified},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                _("Not verified (already verified or revoked, recorded by you, or not yours to verify): %(list)s")
                % {"list": "; ".join(refused)},
                messages.WARNING,
            )
