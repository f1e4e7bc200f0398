import datetime as dt
import hashlib
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import GENESIS_HASH, AppendOnlyError, AuditEvent, canonical_json, event_hash
from audit.selectors import chain_verify, events_for_object
from audit.services import EventSpec, _normalise, event_record, events_record_many
from core.inputs import storable

pytestmark = pytest.mark.django_db


def record_three(actor: Any) -> list[AuditEvent]:
    return [
        event_record(actor=actor, action=f"test.step_{n}", obj=actor, changes={"n": n}, content_hash=f"{n:064x}")
        for n in range(1, 4)
    ]


def raw_sql(sql: str, params: list[Any]) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_event_record_links_each_event_to_the_hash_of_the_one_before(editor: Any) -> None:
    before = AuditEvent.objects.order_by("-seq").first()
    events = record_three(editor)
    previous_hash = before.hash if before else GENESIS_HASH
    first_seq = before.seq + 1 if before else 1
    for offset, event in enumerate(events):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.seq == first_seq + offset
        assert stored.prev_hash == previous_hash
        assert stored.hash == stored.compute_hash() == event.hash
        assert stored.actor == editor and stored.actor_repr == "editor"
        assert stored.object_type == "people.user" and stored.object_id == str(editor.pk)
        previous_hash = stored.hash
    assert len({event.hash for event in events}) == 3
    assert [e.action for e in events_for_object(obj=editor)][-3:] == ["test.step_1", "test.step_2", "test.step_3"]


def test_event_hash_covers_the_content_hash_and_changes(editor: Any) -> None:
    event = record_three(editor)[0]
    twin = AuditEvent(**{f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields})
    twin.content_hash = "f" * 64
    assert twin.compute_hash() != event.hash
    twin.content_hash, twin.changes = event.content_hash, {"n": 99}
    assert twin.compute_hash() != event.hash


def test_verify_audit_passes_on_an_intact_chain(editor: Any) -> None:
    record_three(editor)
    assert chain_verify() is None
    assert f"Audit trail intact: {AuditEvent.objects.count()} events." in verify()


def test_verify_audit_names_the_event_whose_row_was_edited(editor: Any) -> None:
    events = record_three(editor)
    raw_sql("UPDATE {table} SET action = %s WHERE seq = %s", ["test.forged", events[1].seq])
    with pytest.raises(CommandError) as caught:
        verify()
    assert caught.value.returncode == 1
    assert f"event #{events[1].seq}" in str(caught.value)
    assert "altered" in str(caught.value)


def test_verify_audit_catches_an_edit_that_recomputes_the_row_hash(editor: Any) -> None:
    events = record_three(editor)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.changes = {"n": "forged"}
    new_hash = forged.compute_hash()
    raw_sql("UPDATE {table} SET changes = %s, hash = %s WHERE seq = %s", ['{"n": "forged"}', new_hash, forged.seq])
    with pytest.raises(CommandError) as caught:
        verify()
    # The edited row is self-consistent now, but the next one no longer follows it.
    assert f"event #{events[2].seq}" in str(caught.value)


def test_verify_audit_names_the_gap_when_a_middle_row_was_deleted(editor: Any) -> None:
    events = record_three(editor)
    raw_sql("DELETE FROM {table} WHERE seq = %s", [events[1].seq])
    with pytest.raises(CommandError) as caught:
        verify()
    assert caught.value.returncode == 1
    assert f"event #{events[1].seq} is missing" in str(caught.value)


def test_verify_audit_runs_through_several_batches(editor: Any) -> None:
    events = [event_record(actor=editor, action="test.batch", obj=editor, changes={"n": n}) for n in range(5)]
    assert chain_verify(batch_size=2) is None
    raw_sql("UPDATE {table} SET object_repr = %s WHERE seq = %s", ["forged", events[3].seq])
    broken = chain_verify(batch_size=2)
    assert broken is not None and broken.seq == events[3].seq


def test_saving_an_existing_event_is_refused(editor: Any) -> None:
    event = record_three(editor)[0]
    event.action = "test.forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.step_1"


def test_deleting_an_event_is_refused(editor: Any) -> None:
    event = record_three(editor)[0]
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_and_delete_are_refused(editor: Any) -> None:
    record_three(editor)
    count = AuditEvent.objects.count()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(action="test.step_2").update(action="test.forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.for_object(editor).delete()
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(action="test.forged").exists()
    assert chain_verify() is None


# Batches ------------------------------------------------------------------------------------


def test_events_recorded_in_a_batch_continue_the_chain_as_single_events_would(editor: Any) -> None:
    first = event_record(actor=editor, action="test.before", obj=editor)
    when = dt.datetime(2030, 1, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)
    specs = [
        EventSpec("test.batch", editor, {"n": n, "when": when, "tags": ("b", "a"), "z": {"y": 1, "x": [1.5, None]}})
        for n in range(3)
    ]
    specs.append(EventSpec("test.hashed", editor, content_hash="e" * 64))
    assert events_record_many(actor=editor, events=specs) == 4
    after = event_record(actor=editor, action="test.after", obj=editor)
    stored = list(AuditEvent.objects.filter(seq__gt=first.seq).order_by("seq"))
    assert [event.seq for event in stored] == list(range(first.seq + 1, first.seq + 6))
    assert [event.action for event in stored] == ["test.batch"] * 3 + ["test.hashed", "test.after"]
    previous_hash = first.hash
    for event in stored:
        assert event.prev_hash == previous_hash
        assert event.hash == event.compute_hash()
        assert (event.actor, event.actor_repr, event.object_type) == (editor, "editor", "people.user")
        previous_hash = event.hash
    assert stored[-1].hash == after.hash
    when_text = "2030-01-01T09:30:00.123Z"
    assert stored[0].changes == {"n": 0, "tags": ["b", "a"], "when": when_text, "z": {"x": [1.5, None], "y": 1}}
    assert stored[3].content_hash == "e" * 64 and stored[3].changes == {}
    assert chain_verify() is None
    assert f"Audit trail intact: {AuditEvent.objects.count()} events." in verify()


def test_verify_audit_names_an_altered_event_of_a_batch(editor: Any) -> None:
    events_record_many(actor=editor, events=[EventSpec("test.batch", editor, {"n": n}) for n in range(4)])
    third = AuditEvent.objects.order_by("-seq")[1]
    raw_sql("UPDATE {table} SET changes = %s WHERE seq = %s", ['{"n": 99}', third.seq])
    with pytest.raises(CommandError) as caught:
        verify()
    assert f"event #{third.seq} was altered" in str(caught.value)


def test_an_empty_batch_writes_nothing(editor: Any) -> None:
    count = AuditEvent.objects.count()
    assert events_record_many(actor=editor, events=[]) == 0
    assert AuditEvent.objects.count() == count


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.dates()
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.datetimes()
)
CHANGES = st.dictionaries(
    st.text(max_size=4),
    st.recursive(
        JSON_LEAVES,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.tuples(inner, inner)
            | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(changes=CHANGES)
def test_normalised_changes_are_exactly_their_json_round_trip(changes: dict[str, Any]) -> None:
    # What is stored and hashed must be what reads back from the database, shortcut or not.
    try:
        expected = json.loads(json.dumps(changes, cls=DjangoJSONEncoder, sort_keys=True))
    except TypeError:  # keys of mixed types cannot be sorted: refused either way
        with pytest.raises(TypeError):
            _normalise(changes)
        return
    # ... with what JSON in PostgreSQL cannot hold (NUL, lone surrogates) replaced.
    assert repr(_normalise(changes)) == repr(storable(expected))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(),
    number=st.integers(),
    actor_id=st.none() | st.integers(min_value=1),
    changes=st.dictionaries(
        st.text(), st.none() | st.booleans() | st.integers() | st.text() | st.lists(st.text(), max_size=3), max_size=5
    ),
)
def test_event_hash_is_the_hash_of_all_fields_as_one_canonical_json_object(
    text: str, number: int, actor_id: int | None, changes: dict[str, Any]
) -> None:
    # The definition verify_audit has always held chains to; the spliced text must equal it.
    fields = {
        "seq": number,
        "created_at": "2030-01-01T09:00:00+00:00",
        "actor_id": actor_id,
        "actor_repr": text,
        "action": "post.created",
        "object_type": "posts.post",
        "object_id": str(number),
        "object_repr": text[::-1],
        "content_hash": text,
        "changes": changes,
        "prev_hash": "0" * 64,
    }
    whole = DjangoJSONEncoder(sort_keys=True, separators=(",", ":")).encode(fields)
    expected = hashlib.sha256(whole.encode()).hexdigest()
    assert event_hash(**fields) == expected
    assert event_hash(**fields, changes_json=canonical_json(changes)) == expected


def test_a_batch_that_fails_midway_stores_none_of_its_events_and_raises_the_cause(editor: Any) -> None:
    # The rows stream into the database while later ones are still being sealed and hashed.
    before = AuditEvent.objects.count()
    good = [EventSpec(action=f"test.batch_{n}", obj=editor, changes={"n": n}) for n in range(300)]
    bad = EventSpec(action="test.batch_bad", obj=editor, changes={"value": object()})
    with pytest.raises(TypeError), transaction.atomic():
        events_record_many(actor=editor, events=[*good, bad, *good])
    assert AuditEvent.objects.count() == before
    event_record(actor=editor, action="test.after", obj=editor)  # the connection is fine afterwards
    assert chain_verify() is None
