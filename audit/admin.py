"""The audit trail and the mail ledger in the admin, read-only for everyone; a button checks the chain."""

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.erasure import Opener
from audit.labels import action_label, object_type_label
from audit.models import SYSTEM_ACTOR, AuditEvent, ErasureKey, Notification
from audit.selectors import chain_verify
from core.templatetags.rounds_time import format_when

# Long names and titles are cut in the list (the full text is in the row's page), so the columns
# fit a 1366 px screen.
LIST_TEXT_CHARS = 48


def _cut(text: str) -> str:
    return text if len(text) <= LIST_TEXT_CHARS else text[: LIST_TEXT_CHARS - 1] + "…"


class ActionFilter(admin.SimpleListFilter):
    """Filter by action, listed by what it means; the codes stay in the query string."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in codes), key=lambda item: item[1].casefold())

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(action=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    """Filter by the kind of object an event is about (post, consent record, user …)."""

    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        types = AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct()
        return sorted(((kind, object_type_label(kind)) for kind in types), key=lambda item: item[1].casefold())

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class _OpenedChangeList(ChangeList):
    """The trail's list, whose rows' sealed names are opened with one query for their keys."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        opener = Opener()
        opener.preload(self.result_list)
        for event in self.result_list:
            event.opener = opener


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("seq", "when", "actor_name", "action_words", "object_words", "short_hash")
    list_display_links = ("seq", "action_words")
    list_filter = (ActionFilter, ("actor", admin.RelatedOnlyFieldListFilter), ObjectTypeFilter)
    date_hierarchy = "created_at"
    search_fields = ("action", "object_type", "object_id", "object_repr", "actor_repr", "content_hash", "hash")
    ordering = ("-seq",)
    fields = (
        "seq",
        "created_at",
        "actor",
        "actor_repr",
        "action",
        "action_words",
        "object_type",
        "object_id",
        "object_repr",
        "object_name",
        "content_hash",
        "changes",
        "changes_opened",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields
    show_full_result_count = False  # the trail only grows; one count per page is enough

    @admin.display(description=_("hash"), ordering="hash")
    def short_hash(self, obj: AuditEvent) -> str:
        return obj.hash[:12]

    @admin.display(description=_("time"), ordering="created_at")
    def when(self, obj: AuditEvent) -> str:
        return format_when(obj.created_at)

    @admin.display(description=_("actor"), ordering="actor_repr")
    def actor_name(self, obj: AuditEvent) -> str:
        if obj.actor_id is None and obj.actor_repr == SYSTEM_ACTOR:
            return gettext("system")
        return _cut(obj.actor_repr) or "—"

    @admin.display(description=_("action"), ordering="action")
    def action_words(self, obj: AuditEvent) -> str:
        return format_html('<span title="{}">{}</span>', obj.action, action_label(obj.action))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _OpenedChangeList

    @admin.display(description=_("object"), ordering="object_type")
    def object_words(self, obj: AuditEvent) -> str:
        opener: Opener = getattr(obj, "opener", None) or Opener()
        name = opener.repr(obj)
        return format_html(
            '<span title="{} #{}: {}">{} #{}: {}</span>',
            obj.object_type,
            obj.object_id,
            name,
            object_type_label(obj.object_type),
            obj.object_id,
            _cut(name),
        )

    @admin.display(description=_("object name"))
    def object_name(self, obj: AuditEvent) -> str:
        """The object's name: opened where it is sealed, or when it was erased and by whom."""
        return Opener().repr(obj)

    @admin.display(description=_("changed data (personal data opened)"))
    def changes_opened(self, obj: AuditEvent) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(Opener().changes(obj), ensure_ascii=False, indent=2, default=str)
        )

    # Append-only: nobody, not even a superuser, adds, changes or deletes an event here.
    def has_add_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        verify = path(
            "verify/",
            self.admin_site.admin_view(require_POST(self.verify_view)),
            name="audit_auditevent_verify",
        )
        return [verify, *super().get_urls()]

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """Check the whole chain and report the result as a message on the changelist."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        broken = chain_verify()
        if broken is None:
            count = AuditEvent.objects.count()
            self.message_user(
                request,
                gettext("The audit trail is intact: %(count)s events, each following the one before.")
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("The audit trail is broken at event #%(seq)s: %(reason)s.")
                % {"seq": broken.seq, "reason": broken.reason},
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:audit_auditevent_changelist"))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    """The mail ledger: which event was mailed to whom. Written only by ``core.mail.mail_once``."""

    list_display = ("key", "sent_at")
    search_fields = ("key",)
    date_hierarchy = "sent_at"

    def has_add_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False


@admin.register(ErasureKey)
class ErasureKeyAdmin(admin.ModelAdmin[ErasureKey]):
    """Whose personal data in the trail is still readable, and who erased it when (docs/erasure.md).

    The key material itself is never shown; keys are made by the audit writer and erased only by
    ``consent.services.subject_erase``, so nothing here adds, changes or deletes.
    """

    list_display = ("owner_type", "owner_id", "created_at", "erased_at", "erased_by_repr")
    list_filter = (("erased_at", admin.EmptyFieldListFilter),)
    search_fields = ("owner_type", "owner_id", "erased_by_repr")
    fields = ("owner_type", "owner_id", "created_at", "erased_at", "erased_by_repr")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: ErasureKey | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ErasureKey | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ErasureKey | None = None) -> bool:
        return False
