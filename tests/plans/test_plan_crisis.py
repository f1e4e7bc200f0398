"""Plan import and crises: only who may declare one imports a crisis row (issue 14, point 4)."""

from typing import Any

from django.contrib.auth.models import Permission

from people.models import User
from plans.importing import CREATED, plan_preview
from posts.models import Post
from tests.plans.test_plans import only_error, plan_accounts, plan_bytes, plan_clock, plan_row

__all__ = ["plan_accounts", "plan_clock"]  # fixtures


def test_a_crisis_row_by_an_editor_is_an_error_of_that_row(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    data = plan_bytes(plan_row(external_id="HW-1"), plan_row(external_id="HW-2", content_type="crisis"))
    row, column, message = only_error(plan_preview(data=data, actor=editor))
    assert (row, column) == (3, "content_type")
    assert "Only Communications or Governance declare a crisis post" in message
    assert not Post.objects.exists()


def test_an_importer_who_may_declare_imports_a_crisis_row(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    editor.user_permissions.add(Permission.objects.get(content_type__app_label="posts", codename="declare_crisis"))
    declarer = User.objects.get(pk=editor.pk)
    preview = plan_preview(data=plan_bytes(plan_row(content_type="crisis")), actor=declarer)
    assert [row.outcome for row in preview.rows] == [CREATED]
