"""Governance manages people and their roles (groups) here, through the people services, which audit every change."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

import allauth.account.admin
import allauth.mfa.admin  # noqa: F401  (registers Authenticator, replaced below)
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axes.admin import AccessAttemptAdmin as BaseAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseForm, BaseFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from people.http import admin_user
from people.models import DeputyPeriod, Notice, User
from people.services import (
    authenticator_remove,
    deputy_period_delete,
    deputy_period_problems,
    deputy_period_save,
    group_permissions_set,
    login_attempts_unlock,
    user_password_set,
    user_permissions_set,
    user_roles_set,
    user_save,
)
from people.twofactor import ReauthenticatedAdminMixin, ensure_recently_authenticated

# Fields whose values never go into the audit trail (only that they changed).
_SECRET_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})
# Only a superuser may hand out these: otherwise Governance could make itself superuser.
_SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")
_CHANGED = "changed"
_SET_BY_THEIR_SERVICES = frozenset({"groups", "user_permissions"})

# django.contrib.auth.admin registered its own (imported above); ours goes through the services.
admin.site.unregister(Group)
# allauth's (imported above): its Authenticator admin would show TOTP secrets and change them
# unaudited; e-mail addresses are the user's own field, changed on the user.
admin.site.unregister(Authenticator)
admin.site.unregister(EmailAddress)


def _same(old: object, new: object) -> bool:
    # The form shows times to the second, so an untouched time comes back without microseconds.
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        return old.replace(microsecond=0) == new.replace(microsecond=0)
    return bool(old == new)


@admin.register(User)
class UserAdmin(ReauthenticatedAdminMixin, BaseUserAdmin[User]):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Preferences"), {"fields": ("time_zone", "language", "email_delivery")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
        (_("Roles"), {"fields": ("is_staff", "groups")}),
        (_("Preferences"), {"fields": ("time_zone", "language")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "roles", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language", "email_delivery")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return (*readonly, *_SUPERUSER_ONLY_FIELDS)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # A superuser's password and roles are out of reach for everyone else.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # People are deactivated, never deleted: their decisions and audit events point at them.
        return False

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        ensure_recently_authenticated(request)
        # Django's view saves the form itself; a valid change goes through user_password_set instead,
        # anything else (the page, a refused or invalid form) is Django's.
        user = self.get_object(request, unquote(id))
        if request.method == "POST" and user is not None and self.has_change_permission(request, user):
            form = self.change_password_form(user, request.POST)
            usable = form.is_valid() and form.cleaned_data["set_usable_password"]
            if form.is_valid() and (usable or "unset-password" in request.POST):
                with transaction.atomic():
                    user_password_set(
                        user=user,
                        actor=admin_user(request),
                        password=form.cleaned_data["password1"] if usable else None,
                    )
                    self.log_change(request, user, self.construct_change_message(request, form, []))
                if usable:
                    messages.success(request, gettext("Password changed successfully."))
                else:
                    messages.success(request, gettext("Password-based authentication was disabled."))
                update_session_auth_hash(request, user)
                return HttpResponseRedirect(reverse("admin:people_user_change", args=[user.pk]))
        return super().user_change_password(request, id, form_url)

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        user_save(user=obj, actor=admin_user(request), changes=_user_changes(form))

    def save_related(
        self, request: HttpRequest, form: ModelForm[User], formsets: Sequence[BaseFormSet[BaseForm]], change: bool
    ) -> None:
        # Roles and permissions go through their services (audited), never form.save_m2m().
        user: User = form.instance
        if "groups" in form.cleaned_data:
            user_roles_set(user=user, actor=admin_user(request), groups=form.cleaned_data["groups"])
        if "user_permissions" in form.cleaned_data:
            user_permissions_set(
                user=user, actor=admin_user(request), permissions=form.cleaned_data["user_permissions"]
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


def _user_changes(form: ModelForm[User]) -> dict[str, Any]:
    """Return what the user form changed, as `user_save` records it (roles and permissions apart)."""
    changes: dict[str, Any] = {}
    for field in form.changed_data:
        if field in _SECRET_FIELDS:
            changes["password"] = _CHANGED
        elif field in _SET_BY_THEIR_SERVICES:
            continue
        else:
            old, new = form.initial.get(field), form.cleaned_data.get(field)
            if _same(old, new):
                continue
            changes[field] = [old, new]
    return changes


@admin.register(Group)
class GroupAdmin(ReauthenticatedAdminMixin, BaseGroupAdmin):
    """The roles of ``people.roles``: Governance changes their permissions through `group_permissions_set`.

    Roles are created by a migration and looked up by name, so nobody adds, renames or deletes one here.
    """

    def has_add_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), "name")

    def save_model(self, request: HttpRequest, obj: Group, form: ModelForm[Group], change: bool) -> None:
        pass  # the name is read-only; the permissions are set in save_related

    def save_related(
        self, request: HttpRequest, form: ModelForm[Group], formsets: Sequence[BaseFormSet[BaseForm]], change: bool
    ) -> None:
        if "permissions" in form.cleaned_data:
            group_permissions_set(
                group=form.instance, actor=admin_user(request), permissions=form.cleaned_data["permissions"]
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# axes registered its own (imported above); ours unlocks through the audited service.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(BaseAccessAttemptAdmin):  # type: ignore[misc]  # axes ships no types
    """Failed log-ins by username and address; Governance unlocks by deleting them (`login_attempts_unlock`)."""

    actions = ["unlock", "cleanup_expired_attempts"]

    @admin.action(description=_("Unlock: delete the selected attempts"), permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        count = login_attempts_unlock(attempts=queryset, actor=admin_user(request))
        self.message_user(request, gettext("%(count)d attempts deleted: unlocked.") % {"count": count})

    def delete_model(self, request: HttpRequest, obj: AccessAttempt) -> None:
        login_attempts_unlock(attempts=[obj], actor=admin_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        login_attempts_unlock(attempts=queryset, actor=admin_user(request))


@admin.register(Authenticator)
class AuthenticatorAdmin(ReauthenticatedAdminMixin, admin.ModelAdmin[Authenticator]):
    """People's second factors, without their secrets: Governance removes a lost one; its owner sets up a new one."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Only their owner adds one, on the two-factor page: it needs their phone or key.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Authenticator) -> None:
        authenticator_remove(authenticator=obj, actor=admin_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        for authenticator in queryset:
            authenticator_remove(authenticator=authenticator, actor=admin_user(request))


class DeputyPeriodForm(ModelForm[DeputyPeriod]):
    class Meta:
        model = DeputyPeriod
        fields = ("user", "deputy", "starts", "ends")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            period = DeputyPeriod(
                pk=self.instance.pk,
                user=cleaned.get("user"),
                deputy=cleaned.get("deputy"),
            )
            for problem in deputy_period_problems(period=period):
                self.add_error("deputy", problem)
        return cleaned


@admin.register(DeputyPeriod)
class DeputyPeriodAdmin(admin.ModelAdmin[DeputyPeriod]):
    """Who stands in for whom while away; Governance sets them through the audited services."""

    form = DeputyPeriodForm
    list_display = ("user", "deputy", "starts", "ends")
    list_filter = ("starts",)
    search_fields = ("user__username", "deputy__username")
    autocomplete_fields = ("user", "deputy")

    def save_model(self, request: HttpRequest, obj: DeputyPeriod, form: ModelForm[DeputyPeriod], change: bool) -> None:
        deputy_period_save(period=obj, actor=admin_user(request))

    def delete_model(self, request: HttpRequest, obj: DeputyPeriod) -> None:
        deputy_period_delete(period=obj, actor=admin_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DeputyPeriod]) -> None:
        with transaction.atomic():
            for period in queryset.order_by("pk"):
                deputy_period_delete(period=period, actor=admin_user(request))


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin[Notice]):
    """What Rounds told whom, read-only: notices are made by the mails (core.mail.mail_once) and read by their owner."""

    list_display = ("subject", "user", "created_at", "read_at")
    list_filter = ("read_at",)
    search_fields = ("user__username", "key")
    list_select_related = ("user",)
    readonly_fields = ("user", "key", "subject", "url", "created_at", "read_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notice | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notice | None = None) -> bool:
        return False
