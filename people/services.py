from collections.abc import Iterable
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import event_record
from core.locks import row_lock
from people.models import DeputyPeriod, Notice, User
from people.roles import REVIEWER_ROLES, ROLE_PERMISSIONS, ROLES

# Who the trail names for the role permissions migrate sets (people.roles is the source).
ROLE_SYNC_ACTOR = "manage.py migrate (people.roles)"


@transaction.atomic
def role_permissions_sync() -> None:
    """Give each role group exactly the model permissions ROLE_PERMISSIONS lists, auditing each change.

    Runs after every ``migrate``: a permission Governance gave a role in the admin and that
    ``people.roles`` does not list is taken back here, and the trail says so (a role's first
    permissions, given to the empty groups a new database starts with, are not a change).
    """
    for name in ROLES:
        group, _created = Group.objects.get_or_create(name=name)
        wanted = Permission.objects.none()
        for spec in ROLE_PERMISSIONS.get(name, []):
            app_label, codename = spec.split(".", 1)
            permissions = Permission.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                permissions = permissions.filter(codename=codename)
            wanted = wanted | permissions
        stored = list(group.permissions.select_related("content_type"))
        after = list(wanted.select_related("content_type").distinct())
        before_names, after_names = _permission_names(stored), _permission_names(after)
        if before_names == after_names:
            continue
        group.permissions.set(after)
        if not stored:
            continue  # a role's first permissions, given when the database is made: no change to report
        event_record(
            actor=ROLE_SYNC_ACTOR,
            action="group.permissions_changed",
            obj=group,
            changes={
                "permissions": [before_names, after_names],
                "added": sorted(set(after_names) - set(before_names)),
                "removed": sorted(set(before_names) - set(after_names)),
            },
        )


@transaction.atomic
def user_set_preferences(
    *,
    user: User,
    actor: User,
    time_zone: str | None = None,
    language: str | None = None,
    email_delivery: str | None = None,
) -> User:
    """Change a user's time zone, language and/or how they get e-mail; returns the user."""
    changes: dict[str, object] = {}
    if time_zone is not None and time_zone != user.time_zone:
        changes["time_zone"] = [user.time_zone, time_zone]
        user.time_zone = time_zone
    if language is not None and language != user.language:
        changes["language"] = [user.language, language]
        user.language = language
    if email_delivery is not None and email_delivery != user.email_delivery:
        changes["email_delivery"] = [user.email_delivery, email_delivery]
        user.email_delivery = email_delivery
    if changes:
        user.full_clean(exclude=["password"])
        fields = ("time_zone", "language", "email_delivery")
        user.save(update_fields=[field for field in fields if field in changes])
        event_record(actor=actor, action="user.preferences_changed", obj=user, changes=changes)
    return user


# The actor of what single sign-on does at a sign-in (people.sso): the provider's claims, applied as
# the operator's settings say, not a person; it appears as "sso" in the audit trail.
SSO_ACTOR = "sso"


def _superuser_guard(*, user: User, actor: User | str) -> None:
    # Otherwise Governance could make itself, or anyone, a superuser, or take over one.
    # A system actor (SSO_ACTOR) only sets roles from the provider; it never makes a superuser.
    if isinstance(actor, str) or actor.is_superuser:
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
def user_roles_set(*, user: User, actor: User | str, groups: Iterable[Group]) -> bool:
    """Give ``user`` exactly the roles ``groups``, recording their names before and after; returns if they changed.

    ``actor`` is a person, or SSO_ACTOR when single sign-on applies the provider's groups.
    """
    if not isinstance(actor, str) and not actor.has_perm("people.change_user"):
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


@transaction.atomic
def user_sso_sync(
    *, user: User | None, username: str, email: str, first_name: str, last_name: str, roles: Iterable[str]
) -> User:
    """Create (``user`` None) or update a person signing in by single sign-on, with exactly ``roles``; returns them.

    Name and e-mail follow the provider at every sign-in; the username is chosen once, at creation
    (the provider's subject, not the username, identifies the person later). The account gets no
    usable password. Raises ValidationError for a username another account already has.
    """
    values = {"email": email[:254], "first_name": first_name[:150], "last_name": last_name[:150]}
    if user is None:
        user = User(username=username, **values)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        event_record(
            actor=SSO_ACTOR, action="user.created", obj=user, changes={"username": username, **values, "via": "sso"}
        )
    else:
        user = row_lock(User, user.pk)
        changes = {name: [getattr(user, name), value] for name, value in values.items() if getattr(user, name) != value}
        if changes:
            for name, (_old, value) in changes.items():
                setattr(user, name, value)
            user.full_clean(exclude=["password"])
            user.save(update_fields=list(changes))
            event_record(actor=SSO_ACTOR, action="user.updated", obj=user, changes=changes)
    user_roles_set(user=user, actor=SSO_ACTOR, groups=Group.objects.filter(name__in=list(roles)))
    return user


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


def _login_subject(username: str) -> User | None:
    # axes counts usernames lower-cased (people.lockout.login_username); a person's may have capitals.
    return User.objects.filter(username__iexact=username).order_by("pk").first() if username else None


def _login_facts(*, username: str, ip_address: str, person: User | None) -> dict[str, Any]:
    # A username nobody has is often a password typed into the wrong field: the append-only trail keeps
    # only the names of people who exist.
    return {"username": person.get_username() if person is not None else "", "ip_address": ip_address}


@transaction.atomic
def login_lockout_record(*, username: str, ip_address: str, user_agent: str = "") -> list[str]:
    """Record ``login.locked_out`` for the username and/or address whose failures just reached the limit.

    axes refuses, and reports, every attempt while a lock lasts; only the failure that reaches
    ``AXES_FAILURE_LIMIT`` within the cool-off begins one. Returns what was locked
    (``"username"``, ``"ip_address"``), each recorded once.
    """
    limit = settings.AXES_FAILURE_LIMIT
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    counts = {
        "username": recent.filter(username=username).aggregate(total=Sum("failures_since_start"))["total"]
        if username
        else None,
        "ip_address": recent.filter(ip_address=ip_address).aggregate(total=Sum("failures_since_start"))["total"]
        if ip_address
        else None,
    }
    begun = [scope for scope, count in counts.items() if count == limit]
    if not begun:
        return []
    person = _login_subject(username)
    attempt = (
        AccessAttempt.objects.filter(username=username or None, ip_address=ip_address or None, user_agent=user_agent)
        .order_by("-attempt_time")
        .first()
    )
    obj: models.Model | None = person if person is not None and "username" in begun else attempt
    if obj is None:
        return []
    event_record(
        actor=None,
        action="login.locked_out",
        obj=obj,
        changes={
            **_login_facts(username=username, ip_address=ip_address, person=person),
            "locked": begun,
            "failures": limit,
            "cool_off_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        },
    )
    return begun


@transaction.atomic
def login_attempts_unlock(*, attempts: Iterable[AccessAttempt], actor: User) -> int:
    """Delete failed log-in attempts (which lifts their lock), recording ``login.unlocked`` for each; returns how many.

    Governance does this in the admin (Access attempts) for a person or address locked out.
    """
    if not actor.has_perm("axes.delete_accessattempt"):
        raise PermissionDenied(_("You may not unlock log-ins."))
    rows = list(AccessAttempt.objects.select_for_update().filter(pk__in=[attempt.pk for attempt in attempts]))
    for attempt in rows:
        username = attempt.username or ""
        person = _login_subject(username)
        event_record(
            actor=actor,
            action="login.unlocked",
            obj=person if person is not None else attempt,
            changes={
                **_login_facts(username=username, ip_address=attempt.ip_address or "", person=person),
                "failures": attempt.failures_since_start,
                "attempt": attempt.pk,
            },
        )
    AccessAttempt.objects.filter(pk__in=[attempt.pk for attempt in rows]).delete()
    return len(rows)


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


# Deputies -------------------------------------------------------------------------------------

DEPUTY_FIELDS = ("user", "deputy", "starts", "ends")


def deputy_period_may_change(*, period: DeputyPeriod, actor: User) -> bool:
    """Whether ``actor`` may set or end ``period``: the absent reviewer themself, or Governance."""
    if not actor.is_active:
        return False
    if period.user_id == actor.pk:
        return True
    return actor.has_perm("people.change_deputyperiod" if period.pk else "people.add_deputyperiod")


def deputy_period_problems(*, period: DeputyPeriod) -> list[str]:
    """Return why ``period`` cannot stand: the deputy must share every review group of the absent reviewer."""
    problems: list[str] = []
    if period.user_id is None or period.deputy_id is None:
        return problems
    if period.deputy_id == period.user_id:
        return [_("Choose someone else as your deputy.")]
    deputy = User.objects.get(pk=period.deputy_id)
    if not deputy.is_active:
        problems.append(_("%(deputy)s cannot log in; choose an active colleague.") % {"deputy": deputy})
    review_groups = set(
        Group.objects.filter(user=period.user_id, name__in=REVIEWER_ROLES).values_list("name", flat=True)
    )
    if not review_groups:
        problems.append(_("Only reviewers name a deputy: %(user)s reviews no stage.") % {"user": period.user})
    missing = review_groups - set(deputy.groups.values_list("name", flat=True))
    if missing:
        problems.append(
            _(
                "%(deputy)s is not in the same groups (missing: %(groups)s): "
                "a deputy must be able to review the same stages."
            )
            % {"deputy": deputy, "groups": ", ".join(sorted(missing))}
        )
    return problems


@transaction.atomic
def deputy_period_save(*, period: DeputyPeriod, actor: User) -> DeputyPeriod:
    """Create or change a deputy period after checking who may and that the deputy fits; audited."""
    creating = period.pk is None
    before: dict[str, Any] = {}
    if not creating:
        stored = row_lock(DeputyPeriod, period.pk)
        if not deputy_period_may_change(period=stored, actor=actor):
            raise PermissionDenied(_("You may not change this deputy period."))
        before = {field: str(getattr(stored, field)) for field in DEPUTY_FIELDS}
    if not deputy_period_may_change(period=period, actor=actor):
        raise PermissionDenied(_("You may name deputies for yourself only."))
    period.full_clean()
    problems = deputy_period_problems(period=period)
    if problems:
        raise ValidationError(problems)
    period.save()
    after = {field: str(getattr(period, field)) for field in DEPUTY_FIELDS}
    changes: dict[str, Any] = dict(after)
    if not creating:
        changes = {field: [before[field], after[field]] for field in after if before[field] != after[field]}
    if creating or changes:
        event_record(
            actor=actor, action="deputy.created" if creating else "deputy.changed", obj=period.user, changes=changes
        )
    return period


@transaction.atomic
def deputy_period_delete(*, period: DeputyPeriod, actor: User) -> None:
    """End (delete) a deputy period; audited on the absent reviewer."""
    period = row_lock(DeputyPeriod, period.pk)
    if not deputy_period_may_change(period=period, actor=actor):
        raise PermissionDenied(_("You may not change this deputy period."))
    event_record(
        actor=actor,
        action="deputy.deleted",
        obj=period.user,
        changes={field: str(getattr(period, field)) for field in DEPUTY_FIELDS},
    )
    period.delete()


# In-app notices --------------------------------------------------------------------------------
# Reading a notice changes nothing of the hospital's work: these writes are not audited.


def notices_keep(*, key: str, notices: list[tuple[AbstractBaseUser, str]], url: str) -> None:
    """Keep one notice per user of event ``key`` (the box ``core.mail.mail_once`` fills); never twice."""
    Notice.objects.bulk_create(
        [Notice(user_id=user.pk, key=key[:200], subject=subject[:300], url=url[:500]) for user, subject in notices],
        ignore_conflicts=True,
    )


def notice_read(*, notice: Notice, user: User) -> Notice:
    """Mark ``user``'s ``notice`` read (once: the first time stays); returns it."""
    if notice.user_id != user.pk:
        raise PermissionDenied(_("This notice is not yours."))
    if notice.read_at is None:
        now = timezone.now()
        if Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now):
            notice.read_at = now
    return notice


def notices_read_all(*, user: User) -> int:
    """Mark every unread notice of ``user`` read; returns how many were unread."""
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
