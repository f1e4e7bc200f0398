"""Older databases migrate forward keeping what they recorded: mails recorded while the ledger
lived in approvals, decisions signed before signatures, live posts before their due moment was stored."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from approvals.models import ReviewChain, ReviewRound
from approvals.notifications import stage_reached
from approvals.policy import current_stage_run
from audit.models import Notification
from posts.models import Post
from tests.approvals.test_expiry import make_published
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
    # Read with today's models before going back: older tables lack today's columns (ReviewStage's).
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_decisions_made_before_signatures_are_signed_with_the_reviewers_name_zone_and_stage_role(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    from approvals.models import Confirmation, Decision, Verdict
    from approvals.services import decision_record

    medical = reviewers["medical"]
    medical.first_name, medical.last_name, medical.time_zone = "Zoë", "Müller-Ağaoğlu", "Asia/Kolkata"
    medical.save()
    run = current_stage_run(post=submitted_post)
    assert run is not None
    made = decision_record(stage_run=run, reviewer=medical, verdict=Verdict.APPROVE, confirmation=Confirmation.TOTP)
    executor = MigrationExecutor(connection)
    # Whatever the migration follows once it is chained with others: its own dependencies.
    before = executor.loader.get_migration("approvals", "0005_decision_signature").dependencies
    old = _migrate([("approvals", name) for app, name in before if app == "approvals"])
    assert "signer_name" not in {field.name for field in old.get_model("approvals", "Decision")._meta.fields}

    _migrate()

    decision = Decision.objects.get(pk=made.pk)
    assert decision.signer_name == "Zoë Müller-Ağaoğlu"
    assert decision.signer_time_zone == "Asia/Kolkata"
    assert decision.signer_role == "Medical reviewer"
    assert decision.confirmation == Confirmation.NOT_RECORDED  # not known for decisions made before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_posts_approved_before_the_due_moment_was_stored_get_it_from_their_approval(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    ReviewChain.objects.filter(is_default=True).update(recertify_months=1)
    live = make_published(
        editor=editor,
        campaign=review_campaign,
        accounts=[account_factory("facebook")],
        post_factory=post_factory,
        reviewers=reviewers,
    )
    ReviewRound.objects.filter(post=live).update(finished_at=dt.datetime(2025, 1, 31, 9, 30, tzinfo=dt.UTC))
    draft = post_factory(editor, review_campaign, title="Grippeimpfung 2026/27 – Termine")
    _migrate([("approvals", "0010_distinct_chain_admin_names")])
    Post.objects.update(recertify_due_at=None)  # as every post was before the column was filled

    _migrate()

    assert Post.objects.get(pk=live.pk).recertify_due_at == dt.datetime(2025, 2, 28, 9, 30, tzinfo=dt.UTC)
    assert Post.objects.get(pk=draft.pk).recertify_due_at is None
