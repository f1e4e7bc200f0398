"""Governance manages people and their roles (groups) here; every change lands in the audit trail."""

import datetime as dt
from collections.abc import Sequence

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.forms import BaseForm, BaseFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.services import event_record
from people.http import admin_user
from people.models import User

# Fields whose values never go into the audit trail (only that they changed).
_SECRET_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})
# Only a superuser may hand out these: otherwise Governance could make itself superuser.
_SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")
_CHANGED = "changed"


def _same(old: object, new: object) -> bool:
    # The form shows times to the second, so an untouched time comes back without microseconds.
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        return old.replace(microsecond=0) == new.replace(microsecond=0)
    return bool(old == new)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Preferences"), {"fields": ("time_zone", "language")}),
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
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language")

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

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        request._rounds_groups_before = sorted(obj.groups.values_list("name", flat=True)) if change else []  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm[User], formsets: Sequence[BaseFormSet[BaseForm]], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        user: User = form.instance
        changes: dict[str, object] = {}
        for field in form.changed_data:
            if field in _SECRET_FIELDS:
                changes["password"] = _CHANGED
            elif field == "groups":
                before = getattr(request, "_rounds_groups_before", [])
                changes["groups"] = [before, sorted(user.groups.values_list("name", flat=True))]
            elif field == "user_permissions":
                changes["user_permissions"] = _CHANGED
            else:
                old, new = form.initial.get(field), form.cleaned_data.get(field)
                if _same(old, new):
                    continue
                changes[field] = [old, new]
        if changes or not change:
            event_record(
                actor=admin_user(request),
                action="user.updated" if change else "user.created",
                obj=user,
                changes=changes,
            )
