"""A database made while the mail ledger lived in approvals migrates forward with every mail it recorded."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from approvals.notifications import stage_reached
from approvals.policy import current_stage_run
from audit.models import Notification
from tests.conftest import make_user

# The last migrations of the two apps on the main branch before the ledger moved to audit.
BEFORE = [("audit", "0001_initial"), ("approvals", "0003_status_check_constraints")]


def _migrate(targets: list[tuple[str, str]] | None = None) -> Any:
    """Migrate to ``targets`` (every app's latest when None); return the apps registry of that state."""
    executor = MigrationExecutor(connection)
    goal = targets if targets is not None else executor.loader.graph.leaf_nodes()
    executor.migrate(goal)
    executor.loader.build_graph()
    return executor.loader.project_state(goal).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_mails_recorded_in_approvals_are_still_recorded_after_the_ledger_moved_to_audit(submitted_post: Any) -> None:
    # Read with today's model before going back: the old schema lacks today's columns (escalated_at).
    run = current_stage_run(post=submitted_post)
    assert run is not None
    old = _migrate(BEFORE)
    assert ContentType.objects.filter(app_label="approvals", model="notification").exists()
    old_ledger = old.get_model("approvals", "Notification")
    # What today's main wrote when the stage was reached: the mail went out, its key is taken.
    old_ledger.objects.filter(key=f"stage_reached:{run.pk}").delete()  # written already by this code's submit
    recorded = old_ledger.objects.create(
        key=f"stage_reached:{run.pk}", recipients=["medical@example.org", "zoë.müller@example.org"]
    )
    keeper = Group.objects.create(name="Ledger readers")
    keeper.permissions.add(Permission.objects.get(content_type__app_label="approvals", codename="view_notification"))

    _migrate()

    ledger = Notification.objects.get(key=f"stage_reached:{run.pk}")
    assert ledger.pk == recorded.pk
    assert ledger.recipients == ["medical@example.org", "zoë.müller@example.org"]
    assert ledger.sent_at == recorded.sent_at
    # Its content type moved along: the permission granted on the old model is the new one's.
    assert not ContentType.objects.filter(app_label="approvals", model="notification").exists()
    assert keeper.permissions.get().content_type.app_label == "audit"
    reader = make_user("reader", is_staff=True)
    reader.groups.add(keeper)
    assert reader.has_perm("audit.view_notification")
    # And the key it recorded is still taken: the stage is not mailed a second time.
    mail.outbox.clear()
    assert stage_reached(stage_run_id=run.pk) == 0
    assert mail.outbox == []
