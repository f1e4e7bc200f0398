from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import event_record
from core.locks import row_lock
from people.models import User
from people.roles import ROLE_PERMISSIONS, ROLES


def role_permissions_sync() -> None:
    """Give each role group exactly the model permissions ROLE_PERMISSIONS lists."""
    for name in ROLES:
        group, _created = Group.objects.get_or_create(name=name)
        wanted: set[int] = set()
        for spec in ROLE_PERMISSIONS.get(name, []):
            app_label, codename = spec.split(".", 1)
            permissions = Permission.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                permissions = permissions.filter(codename=codename)
            wanted.update(permissions.values_list("pk", flat=True))
        current = set(group.permissions.values_list("pk", flat=True))
        if wanted != current:
            group.permissions.set(wanted)


@transaction.atomic
def user_set_preferences(*, user: User, actor: User, time_zone: str | None = None, language: str | None = None) -> User:
    """Change a user's time zone and/or language; returns the user."""
    changes: dict[str, object] = {}
    if time_zone is not None and time_zone != user.time_zone:
        changes["time_zone"] = [user.time_zone, time_zone]
        user.time_zone = time_zone
    if language is not None and language != user.language:
        changes["language"] = [user.language, language]
        user.language = language
    if changes:
        user.full_clean(exclude=["password"])
        user.save(update_fields=[field for field in ("time_zone", "language") if field in changes])
        event_record(actor=actor, action="user.preferences_changed", obj=user, changes=changes)
    return user


def _superuser_guard(*, user: User, actor: User) -> None:
    # Otherwise Governance could make itself, or anyone, a superuser, or take over one.
    if actor.is_superuser:
        return
    stored = user.pk is not None and User.objects.filter(pk=user.pk, is_superuser=True).exists()
    if user.is_superuser or stored:
        raise PermissionDenied(_("Only a superuser may change a superuser."))


@transaction.atomic
def user_save(*, user: User, actor: User, changes: dict[str, Any]) -> User:
    """Save ``user`` as an admin form built it and record ``user.created`` or ``user.updated``; returns it.

    ``changes`` says what changed, field by field ([old, new]; a secret only as "changed").
    Roles and permissions are set by `user_roles_set` and `user_permissions_set`.
    """
    creating = user.pk is None
    if not actor.has_perm("people.add_user" if creating else "people.change_user"):
        raise PermissionDenied(_("You may not change people."))
    _superuser_guard(user=user, actor=actor)
    user.save()
    if changes or creating:
        event_record(actor=actor, action="user.created" if creating else "user.updated", obj=user, changes=changes)
    return user


@transaction.atomic
def user_password_set(*, user: User, actor: User, password: str | None) -> User:
    """Set ``user``'s password (None: no password login), recording that it changed, never the value; returns user."""
    if not actor.has_perm("people.change_user"):
        raise PermissionDenied(_("You may not change people's passwords."))
    _superuser_guard(user=user, actor=actor)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    event_record(
        actor=actor,
        action="user.password_changed",
        obj=user,
        changes={"password": "changed" if password is not None else "disabled"},
    )
    return user


@transaction.atomic
def user_own_password_set(*, user: User, password: str) -> User:
    """Set the password a person chose themselves (changed while signed in, or reset by e-mail); returns user."""
    # On the caller's instance: allauth keeps the session signed in with the new hash it holds.
    user.set_password(password)
    user.save(update_fields=["password"])
    event_record(actor=user, action="user.password_changed", obj=user, changes={"password": "changed"})
    return user


@transaction.atomic
def user_roles_set(*, user: User, actor: User, groups: Iterable[Group]) -> bool:
    """Give ``user`` exactly the roles ``groups``, recording their names before and after; returns if they changed."""
    if not actor.has_perm("people.change_user"):
        raise PermissionDenied(_("You may not change people's roles."))
    _superuser_guard(user=user, actor=actor)
    row_lock(User, user.pk)  # two people changing one person's roles at once: the second sees the first's
    wanted = list(groups)
    before = sorted(user.groups.values_list("name", flat=True))
    after = sorted({group.name for group in wanted})
    if before == after:
        return False
    user.groups.set(wanted)
    event_record(actor=actor, action="user.roles_changed", obj=user, changes={"groups": [before, after]})
    return True


def _permission_names(permissions: Iterable[Permission]) -> list[str]:
    return sorted(f"{permission.content_type.app_label}.{permission.codename}" for permission in permissions)


@transaction.atomic
def user_permissions_set(*, user: User, actor: User, permissions: Iterable[Permission]) -> bool:
    """Give ``user`` exactly ``permissions`` of their own (superusers only), recording them before and after.

    Returns whether they changed.
    """
    if not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser may give a person permissions of their own."))
    row_lock(User, user.pk)
    wanted = list(Permission.objects.filter(pk__in=[item.pk for item in permissions]).select_related("content_type"))
    before = _permission_names(user.user_permissions.select_related("content_type"))
    after = _permission_names(wanted)
    if before == after:
        return False
    user.user_permissions.set(wanted)
    event_record(actor=actor, action="user.permissions_changed", obj=user, changes={"permissions": [before, after]})
    return True


@transaction.atomic
def group_permissions_set(*, group: Group, actor: User, permissions: Iterable[Permission]) -> bool:
    """Give the role ``group`` exactly ``permissions``, recording them before and after; returns whether they changed.

    Nobody but a superuser hands out a permission they do not hold themselves. ``role_permissions_sync``
    sets the roles back to ``people.roles`` at the next ``migrate``: lasting changes belong there.
    """
    if not actor.has_perm("auth.change_group"):
        raise PermissionDenied(_("You may not change roles."))
    group = row_lock(Group, group.pk)
    stored = list(group.permissions.select_related("content_type"))
    wanted = list(
        Permission.objects.filter(pk__in=[permission.pk for permission in permissions]).select_related("content_type")
    )
    before, after = _permission_names(stored), _permission_names(wanted)
    added = sorted(set(after) - set(before))
    if not actor.is_superuser:
        beyond = [name for name in added if not actor.has_perm(name)]
        if beyond:
            raise PermissionDenied(
                _("You may only give permissions you hold yourself; not: %(permissions)s.")
                % {"permissions": ", ".join(beyond)}
            )
    if before == after:
        return False
    group.permissions.set(wanted)
    event_record(
        actor=actor,
        action="group.permissions_changed",
        obj=group,
        changes={"permissions": [before, after], "added": added, "removed": sorted(set(before) - set(after))},
    )
    return True


@transaction.atomic
def authenticator_remove(*, authenticator: Any, actor: User) -> None:
    """Remove one of a person's second factors (a lost phone or key); with the last one go their recovery codes.

    ``authenticator`` is an ``allauth.mfa.models.Authenticator`` (allauth is untyped).
    """
    from allauth.mfa.models import Authenticator

    user = row_lock(User, authenticator.user_id)
    removed = [authenticator.type]
    authenticator.delete()
    factors = Authenticator.objects.filter(user=user)
    if not factors.filter(type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]).exists():
        removed += list(factors.values_list("type", flat=True))
        factors.delete()
    event_record(actor=actor, action="user.two_factor_removed", obj=user, changes={"types": removed})
