"""The audit trail and the mail ledger in the admin, read-only for everyone; a button checks the chain."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.models import AuditEvent, Notification
from audit.selectors import chain_verify


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = (
        "seq",
        "created_at",
        "actor_repr",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "short_hash",
    )
    list_display_links = ("seq", "action")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_type", "object_id", "object_repr", "actor_repr", "content_hash", "hash")
    ordering = ("-seq",)
    fields = (
        "seq",
        "created_at",
        "actor",
        "actor_repr",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "content_hash",
        "changes",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields
    show_full_result_count = False  # the trail only grows; one count per page is enough

    @admin.display(description=_("hash"), ordering="hash")
    def short_hash(self, obj: AuditEvent) -> str:
        return obj.hash[:12]

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
