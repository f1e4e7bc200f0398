"""``manage.py import_plan`` and ``export_plan`` as SPEC section 6 describes them."""

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from posts.models import Campaign, Post
from tests.conftest import CSV
from tests.plans import test_plans

pytestmark = pytest.mark.django_db

# Fixtures shared with test_plans.
plan_accounts = test_plans.plan_accounts
plan_clock = test_plans.plan_clock


def run(*args: str) -> tuple[int, str, str]:
    """Run a command; return its exit code, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("name", "created"),
    [("plan_native_utf8.csv", 5), ("plan_excel_de_cp1252_semicolon.csv", 3)],
)
def test_valid_fixture_imports_and_reimports_as_unchanged(
    name: str, created: int, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    code, out, _err = run("import_plan", str(CSV / name), "--user", "editor")
    assert code == 0
    assert f"{created} created, 0 updated, 0 unchanged." in out
    assert Post.objects.filter(author=editor, status="draft").count() == created
    code, out, _err = run("import_plan", str(CSV / name), "--user", "editor")
    assert (code, out.strip().splitlines()[-1]) == (0, f"0 created, 0 updated, {created} unchanged.")
    assert Post.objects.count() == created


def test_german_excel_fixture_reads_umlauts_and_both_accounts(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    run("import_plan", str(CSV / "plan_excel_de_cp1252_semicolon.csv"), "--user", "editor")
    post = Post.objects.get(external_id="HW-001")
    assert "März" in post.body and "für" in post.body and "–" in post.body
    assert {target.account.handle for target in post.targets.all()} == {"@klinikum_nord", "klinikum.nord"}
    assert post.hashtags == ["Herzgesundheit", "Herzwochen"]


def test_bad_rows_fixture_exits_1_with_one_line_per_error_and_writes_nothing(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    events = AuditEvent.objects.count()
    code, _out, err = run("import_plan", str(CSV / "plan_bad_rows.csv"), "--user", "editor")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("row ")]
    assert [line.split(":")[0] for line in lines] == [
        "row 2, column date",
        "row 3, column time",
        "row 4, column timezone",
        "row 5, column accounts",
        "row 6, column body",
        "row 7, column link",
    ]
    assert (Post.objects.count(), Campaign.objects.count(), AuditEvent.objects.count()) == (0, 0, events)


def test_hootsuite_fixture_with_its_choices(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    args = ["import_plan", str(CSV / "hootsuite_bulk_dmy.csv"), "--user", "editor", "--hootsuite", "dmy"]
    args += ["--campaign", "Flu season 2027", "--accounts", "@northside_health;Northside Health"]
    code, out, _err = run(*args)
    assert (code, out.strip().splitlines()[-1]) == (0, "3 created, 0 updated, 0 unchanged.")
    assert (
        Post.objects.filter(campaign__name="Flu season 2027", targets__account__handle="northsidehealth").count() == 3
    )
    assert run(*args)[1].strip().endswith("0 created, 0 updated, 3 unchanged.")


def test_hootsuite_without_its_choices_is_bad_input(editor: Any, plan_accounts: list[Any]) -> None:
    code, _out, err = run("import_plan", str(CSV / "hootsuite_bulk_dmy.csv"), "--user", "editor", "--hootsuite", "dmy")
    assert code == 1
    assert "column campaign:" in err and "column accounts:" in err
    assert Post.objects.count() == 0


def test_dry_run_reports_and_writes_nothing(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    code, out, _err = run("import_plan", str(CSV / "plan_native_utf8.csv"), "--user", "editor", "--dry-run")
    assert code == 0 and "Dry run, nothing written: 5 to create, 0 to update, 0 unchanged." in out
    assert "5 created" not in out
    assert (Post.objects.count(), Campaign.objects.count()) == (0, 0)


def test_usage_errors(editor: Any, plan_accounts: list[Any], tmp_path: Path) -> None:
    assert run("import_plan", str(tmp_path / "missing.csv"), "--user", "editor")[0] == 2
    assert run("import_plan", str(CSV / "plan_native_utf8.csv"), "--user", "nobody")[0] == 2
    assert run("import_plan", str(CSV / "plan_native_utf8.csv"), "--user", "editor", "--campaign", "X")[0] == 2


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_reimports_as_unchanged(
    file_format: str, editor: Any, plan_accounts: list[Any], plan_clock: None, tmp_path: Path
) -> None:
    run("import_plan", str(CSV / "plan_native_utf8.csv"), "--user", "editor")
    target = tmp_path / f"plan.{file_format}"
    assert run("export_plan", "--format", file_format, "-o", str(target))[0] == 0
    code, out, _err = run("import_plan", str(target), "--user", "editor")
    assert (code, out.strip().splitlines()[-1]) == (0, "0 created, 0 updated, 5 unchanged.")


def test_export_of_one_campaign_to_standard_output(
    editor: Any, plan_accounts: list[Any], plan_clock: None, tmp_path: Path
) -> None:
    run("import_plan", str(CSV / "plan_native_utf8.csv"), "--user", "editor")
    code, out, _err = run("export_plan", "--campaign", "Flu season 2027")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("campaign,date,time,timezone,accounts")
    assert len(lines) == 3 and all(line.startswith("Flu season 2027,") for line in lines[1:])
    assert "America/New_York" in lines[1]
    assert run("export_plan", "--campaign", "Nope")[0] == 2


def test_file_copied_elsewhere_imports_with_its_own_name_in_the_audit(
    editor: Any, plan_accounts: list[Any], plan_clock: None, tmp_path: Path
) -> None:
    copy = tmp_path / "my plan.csv"
    shutil.copy(CSV / "plan_native_utf8.csv", copy)
    run("import_plan", str(copy), "--user", "editor")
    assert AuditEvent.objects.get(action="plan.imported").changes["file"] == "my plan.csv"
