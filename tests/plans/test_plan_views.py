"""The "Import plan" pages and the admin's import and export, through the same code as the command."""

import csv
import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from people import roles
from plans import jobs
from plans.rows import COLUMNS
from posts.models import Campaign, Post
from tests.conftest import CSV, make_user
from tests.plans import test_plans
from tests.plans.test_plans import plan_bytes, plan_row

pytestmark = pytest.mark.django_db

# Fixtures shared with test_plans.
plan_accounts = test_plans.plan_accounts
plan_clock = test_plans.plan_clock


def upload(client: Any, name: str, data: bytes | None = None, **fields: Any) -> Any:
    content = data if data is not None else (CSV / name).read_bytes()
    form = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "kind": "plan", **fields}
    return client.post(reverse("plans:import"), form)


def token_of(response: Any) -> str:
    assert response.status_code == 302, response.content[:500]
    return response["Location"].rstrip("/").split("/")[-1]


def preview_page(client: Any, token: str) -> Any:
    return client.get(reverse("plans:preview", args=[token]))


def confirm(client: Any, token: str) -> Any:
    return client.post(reverse("plans:confirm", args=[token]))


@pytest.mark.parametrize(
    ("name", "created"),
    [("plan_native_utf8.csv", 5), ("plan_excel_de_cp1252_semicolon.csv", 3)],
)
def test_valid_fixture_previews_then_imports_and_reimports_as_unchanged(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None, name: str, created: int
) -> None:
    client.force_login(editor)
    token = token_of(upload(client, name))
    page = preview_page(client, token)
    assert page.status_code == 200
    assert page.content.count(b'class="plan-row plan-row-created"') == created
    assert "Confirm import" in page.text
    assert Post.objects.count() == 0  # nothing before the confirmation

    done = preview_page(client, token_of(confirm(client, token)))
    assert f"Imported: {created} created, 0 updated, 0 unchanged." in done.text
    assert Post.objects.filter(author=editor, status="draft").count() == created
    assert "/calendar/?view=list&amp;date=2027-03-01" in done.text
    assert AuditEvent.objects.get(action="plan.imported").changes["file"] == name

    again = preview_page(client, token_of(upload(client, name)))
    assert again.content.count(b'class="plan-row plan-row-unchanged"') == created
    assert "Confirm import" not in again.text and "nothing to import" in again.text


def test_bad_rows_fixture_shows_every_error_highlighted_and_offers_a_report(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    client.force_login(editor)
    token = token_of(upload(client, "plan_bad_rows.csv"))
    page = preview_page(client, token)
    assert "The plan has 6 errors. Nothing was imported." in page.text
    assert page.content.count(b'class="plan-row plan-row-error"') == 6
    assert page.content.count(b'class="plan-row plan-row-created"') == 1
    assert "Confirm import" not in page.text
    for column in ["date", "time", "timezone", "accounts", "body", "link"]:
        assert f'<mark class="plan-column">{column}</mark>' in page.text

    report = client.get(reverse("plans:errors", args=[token]))
    assert report["Content-Disposition"] == 'attachment; filename="plan-errors.csv"'
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert [row[:2] for row in rows] == [
        ["row", "column"],
        ["2", "date"],
        ["3", "time"],
        ["4", "timezone"],
        ["5", "accounts"],
        ["6", "body"],
        ["7", "link"],
    ]
    assert confirm(client, token).status_code == 302  # refused: nothing happens
    assert (Post.objects.count(), Campaign.objects.count()) == (0, 0)


def test_hootsuite_upload_with_its_choices(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    client.force_login(editor)
    fields = {"kind": "hootsuite", "date_order": "dmy", "campaign": "Flu season 2027"}
    fields["accounts"] = [plan_accounts[3].pk, plan_accounts[4].pk]
    token = token_of(upload(client, "hootsuite_bulk_dmy.csv", **fields))
    assert preview_page(client, token).content.count(b"plan-row-created") == 3
    confirm(client, token)
    assert Post.objects.filter(campaign__name="Flu season 2027").count() == 3


def test_hootsuite_upload_without_campaign_or_accounts_is_refused(
    client: Any, editor: Any, plan_accounts: list[Any]
) -> None:
    client.force_login(editor)
    response = upload(client, "hootsuite_bulk_dmy.csv", kind="hootsuite", date_order="dmy")
    assert response.status_code == 400
    assert "Choose the campaign" in response.text and "Choose at least one account" in response.text


def test_large_plan_runs_as_a_task_with_progress(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    from django_q.models import Task

    rows = [
        plan_row(external_id=f"BIG-{i}", time=f"{8 + i % 12:02d}:{i % 60:02d}", date=f"2027-04-{1 + i % 28:02d}")
        for i in range(1_005)
    ]
    client.force_login(editor)
    token = token_of(upload(client, "big.csv", plan_bytes(*rows)))
    job = jobs.job_load(token)
    assert job is not None and job.background and job.state == jobs.PREVIEWED
    assert Task.objects.filter(func="plans.jobs.plan_preview_task").exists()
    page = preview_page(client, token)
    assert page.content.count(b"plan-row-created") == 1_005
    confirm(client, token)
    assert Task.objects.filter(func="plans.jobs.plan_commit_task").exists()
    progress = client.get(reverse("plans:progress", args=[token])).json()
    assert progress == {"state": "imported", "done": 1_005, "total": 1_005, "percent": 100, "finished": True}
    assert Post.objects.count() == 1_005


def test_running_job_shows_a_progress_bar_for_the_script(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    client.force_login(editor)
    token = token_of(upload(client, "plan_native_utf8.csv"))
    job = jobs.job_load(token)
    assert job is not None
    job.state, job.done, job.total = jobs.IMPORTING, 2, 5
    jobs.job_save(job)
    page = preview_page(client, token)
    assert f'data-plan-progress="/plans/{token}/progress/"' in page.text
    assert '<progress id="plan-progress-bar" max="5" value="2">' in page.text
    assert "rounds/plan.js" in page.text and "<script>" not in page.text
    assert client.get(reverse("plans:progress", args=[token])).json()["finished"] is False


def test_the_upload_is_stored_privately_and_only_its_uploader_may_use_it(
    client: Any, editor: Any, other_editor: Any, plan_accounts: list[Any], settings: Any
) -> None:
    client.force_login(editor)
    token = token_of(upload(client, "plan_native_utf8.csv"))
    stored = list((settings.PRIVATE_MEDIA_ROOT / "plans").iterdir())
    assert {path.name for path in stored} == {f"{token}.upload", f"{token}.json"}
    assert "plan_native_utf8" not in "".join(path.name for path in stored)

    client.force_login(other_editor)  # another session and another user
    assert preview_page(client, token).status_code == 404
    assert confirm(client, token).status_code == 404
    assert client.get(reverse("plans:progress", args=[token])).status_code == 404
    assert client.get("/plans/..%2F..%2Fetc%2Fpasswd/").status_code == 404


def test_a_stored_file_changed_between_preview_and_confirm_imports_nothing(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None, settings: Any
) -> None:
    client.force_login(editor)
    token = token_of(upload(client, "plan_native_utf8.csv"))
    (settings.PRIVATE_MEDIA_ROOT / "plans" / f"{token}.upload").write_bytes(plan_bytes(plan_row(body="sneaky")))
    page = preview_page(client, token_of(confirm(client, token)))
    assert "nothing was written" in page.text
    assert Post.objects.count() == 0


def test_only_importers_see_the_page_and_the_nav_link(client: Any, editor: Any, viewer: Any) -> None:
    client.force_login(viewer)
    assert client.get(reverse("plans:import")).status_code == 403
    assert "Import plan" not in client.get(reverse("posts:campaign_list")).text
    client.force_login(editor)
    page = client.get(reverse("plans:import"))
    assert page.status_code == 200
    assert f'href="{reverse("plans:import")}"' in client.get(reverse("posts:campaign_list")).text
    for label in ["Plan file", "Kind of file", "Hootsuite date order", "Hootsuite campaign", "Hootsuite accounts"]:
        assert label in page.text
    assert ">Preview</button>" in page.text


def test_file_over_10_mb_is_refused(client: Any, editor: Any) -> None:
    client.force_login(editor)
    response = upload(client, "huge.csv", b"campaign,body\n" + b"x" * (10 * 1024 * 1024))
    assert response.status_code == 400 and "larger than 10 MB" in response.text


def test_template_download_previews_clean_with_the_readme_accounts(
    client: Any, editor: Any, plan_accounts: list[Any]
) -> None:
    client.force_login(editor)
    template = client.get(reverse("plans:template"))
    assert template["Content-Disposition"] == 'attachment; filename="plan-template.csv"'
    header = next(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    assert tuple(header) == COLUMNS
    page = preview_page(client, token_of(upload(client, "plan-template.csv", template.content)))
    assert page.content.count(b"plan-row-created") == 1 and b"plan-row-error" not in page.content


def test_preview_page_queries_do_not_grow_with_rows(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    client.force_login(editor)

    def queries(n: int) -> int:
        rows = [plan_row(external_id=f"N{n}-{i}", time=f"{8 + i % 10:02d}:{i % 60:02d}") for i in range(n)]
        token = token_of(upload(client, f"{n}.csv", plan_bytes(*rows)))
        with CaptureQueriesContext(connection) as captured:
            assert preview_page(client, token).status_code == 200
        return len(captured)

    assert queries(1) == queries(50)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_of_visible_posts_reimports_as_unchanged(
    client: Any, editor: Any, other_editor: Any, plan_accounts: list[Any], plan_clock: None, file_format: str
) -> None:
    client.force_login(editor)
    confirm(client, token_of(upload(client, "plan_native_utf8.csv")))
    herz = Campaign.objects.get(name="Herzwochen 2027")
    response = client.get(reverse("plans:export"), {"campaign": herz.pk, "format": file_format})
    assert response.status_code == 200
    if file_format == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [row[0].value for row in sheet.iter_rows()][1:] == ["Herzwochen 2027"] * 3
    page = preview_page(client, token_of(upload(client, f"plan.{file_format}", response.content)))
    assert page.content.count(b"plan-row-unchanged") == 3

    client.force_login(other_editor)  # not on the team: sees nothing to export
    rows = client.get(reverse("plans:export"), {"format": "csv"}).content.decode("utf-8-sig").splitlines()
    assert rows == [",".join(COLUMNS)]


def test_export_by_date_range(client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    client.force_login(editor)
    confirm(client, token_of(upload(client, "plan_native_utf8.csv")))
    response = client.get(reverse("plans:export"), {"start": "2027-03-02", "end": "2027-10-05", "format": "csv"})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[-1] for line in lines[1:]] == ["HW-002", "HW-003", "FLU-01"]
    bad = client.get(reverse("plans:export"), {"start": "2027-03-02", "end": "2027-03-01", "format": "csv"})
    assert bad.status_code == 400


# Admin ---------------------------------------------------------------------------------------


def test_an_importer_imports_in_the_admin_through_the_same_preview_and_commit(
    client: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    # Importing is an Editor's right (posts.import_plan); Governance, staff for the admin, has it not.
    importer = make_user("staff_editor", roles.EDITOR, is_staff=True)
    client.force_login(importer)
    changelist = client.get(reverse("admin:posts_post_changelist"))
    assert reverse("admin:posts_post_import") in changelist.text
    bad = client.post(
        reverse("admin:posts_post_import"),
        {"format": "0", "import_file": SimpleUploadedFile("bad.csv", (CSV / "plan_bad_rows.csv").read_bytes())},
    )
    assert "Some rows failed to validate" in bad.text
    assert "Mars/Olympus" in bad.text and "javascript:alert(1)" in bad.text
    assert "confirm_form" not in bad.context or bad.context["confirm_form"] is None

    data = (CSV / "plan_excel_de_cp1252_semicolon.csv").read_bytes()
    dry = client.post(
        reverse("admin:posts_post_import"), {"format": "0", "import_file": SimpleUploadedFile("de.csv", data)}
    )
    assert dry.status_code == 200 and Post.objects.count() == 0
    confirm_form = dry.context["confirm_form"]
    done = client.post(reverse("admin:posts_post_process_import"), confirm_form.initial)
    assert done.status_code == 302
    assert Post.objects.filter(author=importer).count() == 3
    imported = AuditEvent.objects.get(action="plan.imported")
    assert (imported.actor, imported.changes["file"]) == (importer, "de.csv")


def test_admin_export_is_the_plan_export(
    client: Any, governance: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    from django.core.management import call_command

    call_command("import_plan", str(CSV / "plan_native_utf8.csv"), "--user", "editor", stdout=io.StringIO())
    client.force_login(governance)
    response = client.post(reverse("admin:posts_post_export"), {"format": "0", "resource": "0"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 6
    assert any(
        line.startswith("Flu season 2027,2027-10-05,08:00,America/New_York,'@northside_health") for line in lines
    )


def test_admin_import_needs_the_import_right(client: Any, plan_accounts: list[Any]) -> None:
    staff = make_user("staff_only", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:posts_post_import")).status_code == 403


# What the counts say -------------------------------------------------------------------------


def test_a_preview_with_errors_never_says_created(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    client.force_login(editor)
    rows = [plan_row(external_id="OK-1"), plan_row(external_id="BAD-1", date="2027-02-30")]

    page = preview_page(client, token_of(upload(client, "mixed.csv", plan_bytes(*rows)))).text

    assert "Nothing was imported: 1 rows with errors, 1 valid rows waiting for them" in page
    assert "Valid, not imported" in page
    assert " created" not in page.replace("Created", "") and "to create" not in page
    assert Post.objects.count() == 0


def test_a_clean_preview_counts_what_it_would_do_and_the_result_what_it_did(
    client: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    client.force_login(editor)
    token = token_of(upload(client, "one.csv", plan_bytes(plan_row(external_id="OK-1"))))

    preview = preview_page(client, token).text
    assert "1 to create · 0 to update · 0 unchanged" in preview and "1 created" not in preview

    done = preview_page(client, token_of(confirm(client, token))).text
    assert "1 created · 0 updated · 0 unchanged" in done and "to create" not in done
    assert Post.objects.filter(external_id="OK-1").count() == 1


def test_the_templates_example_id_is_no_id_of_the_fixture_plans(client: Any, editor: Any) -> None:
    client.force_login(editor)
    template = client.get(reverse("plans:template")).content.decode("utf-8-sig")
    (example,) = list(csv.DictReader(io.StringIO(template)))
    fixture_ids = set()
    for path in CSV.glob("plan_*.csv"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        fixture_ids |= set(re.findall(r"\b[A-Z]{2,}-\d{2,}\b", text))
    assert {"HW-001"} <= fixture_ids
    assert example["external_id"] == "EXAMPLE-1" and example["external_id"] not in fixture_ids
