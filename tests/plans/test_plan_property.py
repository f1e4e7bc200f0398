"""Properties of plans: an export re-imports as unchanged; one bad cell is found where it is."""

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from plans.exporting import CSV, XLSX, plan_export, posts_for_plan_export
from plans.importing import UNCHANGED, PlanInvalid, plan_commit, plan_preview
from plans.rows import COLUMNS
from posts.models import Post
from tests.plans import test_plans
from tests.plans.test_plans import NOW

pytestmark = pytest.mark.django_db

# Fixtures shared with test_plans.
plan_accounts = test_plans.plan_accounts

ACCOUNT_NAMES = {
    "@klinikum_nord": "Klinikum Nord Instagram",
    "klinikum.nord": "Klinikum Nord",
    "klinikum-nord-karriere": "Klinikum Nord Karriere",
    "@northside_health": "Northside on X",
    "northsidehealth": "Northside Health",
}
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney"]
# Printable text of any script, with the characters spreadsheets treat as formulas up front.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("=+-@'\n\t;,|\"#"), max_size=40
)


@pytest.fixture
def editor(editor: Any) -> Any:
    """An editor who may also declare crises: the plans below sample the content type "crisis" too."""
    from django.contrib.auth.models import Permission

    from people.models import User

    editor.user_permissions.add(Permission.objects.get(content_type__app_label="posts", codename="declare_crisis"))
    return User.objects.get(pk=editor.pk)


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def plan_rows(draw: Any) -> list[dict[str, str]]:
    count = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for index in range(count):
        handles = draw(st.lists(st.sampled_from(sorted(ACCOUNT_NAMES)), min_size=1, max_size=3, unique=True))
        names = [handle if draw(st.booleans()) else ACCOUNT_NAMES[handle] for handle in handles]
        day = dt.date(2027, 1, 1) + dt.timedelta(days=draw(st.integers(0, 1000)))
        body = draw(TEXT.filter(lambda text: text.strip()))
        rows.append(
            {
                "campaign": draw(st.sampled_from(["Alpha", "Beta 2027", "=Gamma"])),
                "date": day.strftime(draw(st.sampled_from(["%Y-%m-%d", "%d.%m.%Y"]))),
                # 05:00 to 22:59 never falls into a change of clocks in these zones.
                "time": f"{draw(st.integers(5, 22)):02d}:{draw(st.integers(0, 59)):02d}",
                "timezone": draw(st.sampled_from(ZONES)),
                "accounts": draw(st.sampled_from([";", "|", " ; "])).join(names),
                "title": draw(TEXT),
                "body": body,
                "link": draw(st.sampled_from(["", "https://example.org/a?b=c", "http://example.org/x"])),
                "hashtags": " ".join(
                    draw(st.lists(st.from_regex(r"#?[A-Za-zÄÖÜäöü][A-Za-z0-9_]{0,8}", fullmatch=True), max_size=3))
                ),
                "content_type": draw(st.sampled_from(["", "education", "event", "crisis"])),
                "language": draw(st.sampled_from(["", "de", "en", "pt-br"])),
                "external_id": draw(st.sampled_from(["", f"ID-{index}", f"=ID+{index}"])),
            }
        )
    return rows


def to_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS])
    return buffer.getvalue().encode("utf-8")


@pytest.mark.slow
@SETTINGS
@given(rows=plan_rows(), file_format=st.sampled_from([CSV, XLSX]))
def test_export_of_any_imported_plan_reimports_as_unchanged(
    editor: Any, plan_accounts: list[Any], rows: list[dict[str, str]], file_format: str
) -> None:
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        first = plan_commit(data=to_csv(rows), file_name="plan.csv", actor=editor)
        assert first.ok, [error.line() for error in first.errors]
        exported = plan_export(posts=posts_for_plan_export(), file_format=file_format)
        events = AuditEvent.objects.count()
        again = plan_commit(data=exported, file_name=f"export.{file_format}", actor=editor)
        assert [row.outcome for row in again.rows] == [UNCHANGED] * len(rows)
        assert AuditEvent.objects.count() == events
        transaction.set_rollback(True)


# make test's run of the property above (which runs in make test-slow): the same test, a few examples.
test_export_of_any_imported_plan_reimports_as_unchanged_few = settings(SETTINGS, max_examples=5)(
    given(rows=plan_rows(), file_format=st.sampled_from([CSV, XLSX]))(
        test_export_of_any_imported_plan_reimports_as_unchanged.hypothesis.inner_test  # type: ignore[attr-defined]
    )
)


CORRUPTIONS = {
    "campaign": [""],
    "date": ["2027-02-30", "31.31.2027", "tomorrow", "2020-01-01"],
    "time": ["25:00", "9h30", ""],
    "timezone": ["Mars/Olympus", "CEST"],
    "accounts": ["@nobody", "Klinikum Nord;nobody", ""],
    "body": [""],
    "link": ["javascript:alert(1)", "example.org", "ftp://example.org"],
    "hashtags": ["#ok #not-ok", "#123"],
    "content_type": ["advert"],
    "language": ["deutsch", "d3"],
}


@SETTINGS
@given(rows=plan_rows(), data=st.data())
def test_one_bad_cell_is_reported_at_its_row_and_column_and_nothing_is_written(
    editor: Any, plan_accounts: list[Any], rows: list[dict[str, str]], data: Any
) -> None:
    index = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(sorted(CORRUPTIONS)))
    rows[index][column] = data.draw(st.sampled_from(CORRUPTIONS[column]))
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        events = AuditEvent.objects.count()
        preview = plan_preview(data=to_csv(rows), actor=editor)
        assert [(error.row, error.column) for error in preview.errors] == [(index + 2, column)]
        with pytest.raises(PlanInvalid):
            plan_commit(data=to_csv(rows), file_name="plan.csv", actor=editor)
        assert (Post.objects.count(), AuditEvent.objects.count()) == (0, events)
        transaction.set_rollback(True)
