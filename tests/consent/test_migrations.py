"""Records stored before the description was required migrate forward with a plain placeholder."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from consent.models import DESCRIPTION_NOT_RECORDED, ConsentRecord
from people.models import User

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("consent", "0003_form_reference")]


def migrate(targets: list[tuple[str, str]] | None = None) -> Any:
    """Migrate to ``targets`` (every app's latest when None); return the apps of that state."""
    executor = MigrationExecutor(connection)
    goal = targets if targets is not None else executor.loader.graph.leaf_nodes()
    executor.migrate(goal)
    executor.loader.build_graph()
    return executor.loader.project_state(goal).apps


def test_an_empty_description_becomes_the_placeholder_and_a_written_one_stays() -> None:
    old = migrate(BEFORE)
    OldSubject, OldRecord = old.get_model("consent", "Subject"), old.get_model("consent", "ConsentRecord")
    # Only consent went back: people's table is today's.
    officer = User.objects.create(username="petra", email="petra@example.org", password="!")
    subject = OldSubject.objects.create(display_name="Ayşe Yılmaz", reference="CASE-2019-4")
    common = {
        "subject": subject,
        "media_kinds": ["photo"],
        "disclosing_organisation": "Klinikum Nord",
        "purposes": ["education"],
        "all_platforms": True,
        "signed_on": dt.date(2025, 5, 3),
        "expires_on": dt.date(2027, 5, 3),
        "states_right_to_revoke": True,
        "states_no_conditioning": True,
        "states_redisclosure": True,
        "document": "consent/2025/05/x.pdf",
        "document_name": "x.pdf",
        "document_type": "application/pdf",
        "document_checksum": "0" * 64,
        "recorded_by_id": officer.pk,
    }
    empty = OldRecord.objects.create(description="", form_reference="RC-AAAA-0001", **common)
    written = OldRecord.objects.create(description="Foto vom Sommerfest", form_reference="RC-AAAA-0002", **common)

    migrate()

    assert ConsentRecord.objects.get(pk=empty.pk).description == DESCRIPTION_NOT_RECORDED
    assert ConsentRecord.objects.get(pk=written.pk).description == "Foto vom Sommerfest"
    assert ConsentRecord.objects.get(pk=empty.pk).copy_given_on is None
