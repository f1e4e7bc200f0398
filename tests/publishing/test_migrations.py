"""A database made before publishing left posts migrates forward with nothing lost."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import event_record
from people import roles
from publishing.models import (
    DeletionStatus,
    Publication,
    PublicationAttempt,
    PublicationStatus,
    TakedownCause,
    TakedownItem,
)
from tests.conftest import make_user

BEFORE = [("posts", "0005_dates_within_1900_2100"), ("publishing", None)]
# Publishing's latest migration: the rows are read through today's models (a takedown made before
# takedowns had causes keeps its consent, with the cause "consent ended").
# Forward again to every app's latest migration (``None``): going back took along everything that
# depends on posts' later ones (claims, crisis declarations, the review models, evidence), and a
# table left behind missing breaks whichever test this worker runs next.
AFTER = None


def _migrate(targets: list[tuple[str, str | None]] | None) -> Any:
    """Migrate to ``targets`` (every app's latest when None); return the apps registry of the state reached."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets if targets is not None else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([target for target in targets if target[1]]).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_written_while_publishing_lived_in_posts_are_read_through_the_publishing_models(
    editor: Any, campaign: Any, account_factory: Any, post_factory: Any, subject_factory: Any, record_factory: Any
) -> None:
    account = account_factory("facebook")
    post = post_factory(editor, campaign, targets=[account], title="Tag der offenen Tür 🩺 — Station 3")
    record = record_factory(subject_factory(display_name="Zoë Müller"))
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)

    old = _migrate(BEFORE)
    assert not ContentType.objects.filter(app_label="publishing").exists()
    old_publication = old.get_model("posts", "Publication").objects.create(
        post_id=post.pk,
        account_id=account.pk,
        status="retry_wait",
        due_at=due,
        next_attempt_at=due,
        attempts=2,
        key="0123456789abcdef0123456789abcdef",
        last_error="HTTP 503 vom Server",
    )
    old.get_model("posts", "PublicationAttempt").objects.create(
        publication_id=old_publication.pk, started_at=due, duration_ms=812, outcome="transient", error="503"
    )
    old_item = old.get_model("posts", "TakedownItem").objects.create(
        post_id=post.pk,
        account_id=account.pk,
        consent_id=record.pk,
        reason="consent revoked",
        deletion_status="not_allowed",
    )
    event_record(actor=comms, action="takedown.created", obj=old_item, changes={"post": post.pk})
    # A group granted a permission on the old model, as the roles were on today's main.
    old_permission = Permission.objects.get(content_type__app_label="posts", codename="change_takedownitem")
    keeper = Group.objects.create(name="Takedown keepers")
    keeper.permissions.add(old_permission)

    _migrate(AFTER)

    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == [], "an app was left migrated back"
    publication = Publication.objects.get()
    assert publication.pk == old_publication.pk
    assert (publication.post, publication.account) == (post, account)
    assert publication.status == PublicationStatus.RETRY_WAIT
    assert (publication.due_at, publication.attempts, publication.key) == (due, 2, "0123456789abcdef0123456789abcdef")
    assert publication.last_error == "HTTP 503 vom Server"
    assert list(post.publications.all()) == [publication]
    attempt = PublicationAttempt.objects.get()
    assert (attempt.publication, attempt.duration_ms, attempt.outcome) == (publication, 812, "transient")
    item = TakedownItem.objects.get()
    assert item.pk == old_item.pk
    assert (item.post, item.account, item.consent) == (post, account, record)
    assert item.cause == TakedownCause.CONSENT_ENDED
    assert item.deletion_status == DeletionStatus.NOT_ALLOWED
    assert list(record.takedowns.all()) == [item]
    # The permission row moved with its content type: who had it still has it, under the new name.
    assert Permission.objects.get(pk=old_permission.pk).content_type.app_label == "publishing"
    assert keeper.permissions.get().codename == "change_takedownitem"
    assert not ContentType.objects.filter(app_label="posts", model__in=["publication", "takedownitem"]).exists()
    assert comms.has_perm("publishing.change_takedownitem")
    # The item's history written before the move is still its history.
    assert [event.action for event in AuditEvent.objects.for_object(item)] == ["takedown.created"]
