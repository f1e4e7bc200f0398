from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from people import roles
from people.models import User
from people.services import group_permissions_set, user_password_set, user_roles_set

pytestmark = pytest.mark.django_db


def test_setting_the_same_roles_again_writes_no_event(governance: Any, viewer: Any) -> None:
    assert not user_roles_set(user=viewer, actor=governance, groups=Group.objects.filter(name=roles.VIEWER))
    assert not AuditEvent.objects.for_object(viewer).exists()


def test_only_a_superuser_changes_a_superusers_roles_or_password(governance: Any) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    with pytest.raises(PermissionDenied):
        user_roles_set(user=root, actor=governance, groups=Group.objects.filter(name=roles.VIEWER))
    with pytest.raises(PermissionDenied):
        user_password_set(user=root, actor=governance, password="ein neues Passwort 123")
    assert not root.groups.exists() and root.check_password("pw")


def test_people_without_the_right_change_no_roles(editor: Any, viewer: Any) -> None:
    with pytest.raises(PermissionDenied):
        user_roles_set(user=viewer, actor=editor, groups=Group.objects.filter(name=roles.GOVERNANCE))
    assert list(viewer.groups.values_list("name", flat=True)) == [roles.VIEWER]


def test_a_group_permission_taken_away_is_recorded_as_removed(governance: Any) -> None:
    editors = Group.objects.get(name=roles.EDITOR)
    kept = editors.permissions.exclude(codename="import_plan")
    assert group_permissions_set(group=editors, actor=governance, permissions=kept)
    event = AuditEvent.objects.for_object(editors).get()
    assert (event.action, event.changes["removed"], event.changes["added"]) == (
        "group.permissions_changed",
        ["posts.import_plan"],
        [],
    )
    assert not editors.permissions.filter(codename="import_plan").exists()


def test_a_superuser_may_give_any_permission(governance: Any) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    viewers = Group.objects.get(name=roles.VIEWER)
    extra = Permission.objects.get(content_type__app_label="auth", codename="delete_group")
    assert group_permissions_set(group=viewers, actor=root, permissions=[*viewers.permissions.all(), extra])
    assert viewers.permissions.filter(pk=extra.pk).exists()


def test_migrate_takes_back_a_permission_people_roles_does_not_list_and_the_trail_says_so() -> None:
    from people.services import ROLE_SYNC_ACTOR, role_permissions_sync

    editors = Group.objects.get(name=roles.EDITOR)
    extra = Permission.objects.get(content_type__app_label="consent", codename="view_consent_document")
    editors.permissions.add(extra)
    role_permissions_sync()
    assert not editors.permissions.filter(pk=extra.pk).exists()
    event = AuditEvent.objects.for_object(editors).get(action="group.permissions_changed")
    assert (event.actor, event.actor_repr) == (None, ROLE_SYNC_ACTOR)
    assert event.changes["removed"] == ["consent.view_consent_document"]
    assert event.changes["added"] == []
    role_permissions_sync()
    assert AuditEvent.objects.for_object(editors).count() == 1
