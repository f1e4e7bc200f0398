from django.contrib.auth.models import Group, Permission
from django.db import transaction

from audit.services import event_record
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
