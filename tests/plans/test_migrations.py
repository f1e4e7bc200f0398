"""A database created by the code before plans left posts migrates forward and plans still work on it."""

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from people import roles
from people.models import User
from plans.exporting import plan_export, posts_for_plan_export
from posts.models import Post

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The last migration of each app on the main branch before plans moved out of posts.
BEFORE_THE_MOVE = [
    ("people", "0003_dates_within_1900_2100"),
    ("audit", "0001_initial"),
    ("consent", "0002_dates_within_1900_2100"),
    ("posts", "0005_dates_within_1900_2100"),
    ("approvals", "0002_default_chains"),
]


def migrate(targets: list[tuple[str, str]] | None = None) -> Any:
    """Migrate to ``targets`` (every app's latest when None); return the apps of that state."""
    executor = MigrationExecutor(connection)
    goal = targets if targets is not None else executor.loader.graph.leaf_nodes()
    executor.migrate(goal)
    executor.loader.build_graph()
    return executor.loader.project_state(goal).apps


def test_a_plan_imported_before_the_move_is_there_and_exports_after_migrating_forward() -> None:
    old = migrate(BEFORE_THE_MOVE)
    OldUser, OldGroup = old.get_model("people", "User"), old.get_model("auth", "Group")
    OldCampaign, OldAccount = old.get_model("posts", "Campaign"), old.get_model("posts", "Account")
    OldPost, OldTarget = old.get_model("posts", "Post"), old.get_model("posts", "PostTarget")
    editor = OldUser.objects.create(username="anna", email="anna@example.org", password="!", is_active=True)
    editor.groups.add(OldGroup.objects.get(name=roles.EDITOR))
    start = timezone.localdate() + dt.timedelta(days=30)
    campaign = OldCampaign.objects.create(
        name="Herzwochen 2027", owner=editor, start_date=start, end_date=start + dt.timedelta(days=30)
    )
    account = OldAccount.objects.create(platform="instagram", name="Klinikum Nord", handle="klinikum.nord")
    post = OldPost.objects.create(
        campaign=campaign,
        author=editor,
        title="Herz-Check",
        body="Am 14. März: kostenloser Herz-Check für alle – Anmeldung unter 0761 270-0 💙",
        status="draft",
        scheduled_at=timezone.now() + dt.timedelta(days=40),
        time_zone="Europe/Berlin",
        external_id="HW-001",
    )
    OldTarget.objects.create(post=post, account=account)

    migrate()

    assert list(apps.get_app_config("plans").get_models()) == [], "plans holds no tables; nothing moved"
    imported = Post.objects.get(external_id="HW-001")
    assert imported.body.startswith("Am 14. März") and imported.campaign.name == "Herzwochen 2027"
    assert [target.account.handle for target in imported.targets.all()] == ["klinikum.nord"]
    exported = plan_export(posts=posts_for_plan_export()).decode("utf-8-sig")
    assert "HW-001" in exported and "klinikum.nord" in exported and "Herz-Check für alle" in exported

    user = User.objects.get(username="anna")
    assert user.groups.filter(pk=Group.objects.get(name=roles.EDITOR).pk).exists()
    assert user.has_perm("posts.import_plan")
    client = Client()
    client.force_login(user)
    assert client.get(reverse("plans:import")).status_code == 200
