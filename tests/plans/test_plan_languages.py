"""The plan import takes Turkish and Japanese posts, Japanese dates, and names its columns in the reader's language."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from plans.importing import plan_commit, plan_preview
from plans.rows import COLUMNS, column_label
from posts.models import Post
from tests.plans import test_plans
from tests.plans.test_plan_views import upload
from tests.plans.test_plans import only_error, plan_bytes, plan_row

pytestmark = pytest.mark.django_db

# Fixtures shared with test_plans.
plan_accounts = test_plans.plan_accounts
plan_clock = test_plans.plan_clock

TURKISH = "İstanbul'daki Kalp Haftası: ılık bir çay, ışıklı bir gün. Büyük İ ve küçük ı!"
JAPANESE = "心臓週間が始まります。12月4日（金）20時から、循環器内科の医師がお話しします。"


@pytest.mark.parametrize(("cell", "stored"), [("tr", "tr"), ("ja", "ja"), ("TR", "tr"), ("Ja", "ja"), ("de", "de")])
def test_the_language_column_takes_turkish_and_japanese(
    editor: Any, plan_accounts: list[Any], plan_clock: None, cell: str, stored: str
) -> None:
    body = {"tr": TURKISH, "ja": JAPANESE}.get(stored, "Vom 1. bis 14. März dreht sich alles ums Herz.")
    data = plan_bytes(plan_row(language=cell, body=body, title=body[:40], external_id=f"L-{cell}"))
    assert plan_preview(data=data, actor=editor).errors == []
    plan_commit(data=data, file_name="plan.csv", actor=editor)
    post = Post.objects.get(external_id=f"L-{cell}")
    assert (post.language, post.body) == (stored, body)


@pytest.mark.parametrize("cell", ["2027/03/01", "2027年3月1日", "01.03.2027", "2027-03-01"])
def test_the_date_column_reads_the_japanese_and_turkish_ways(
    editor: Any, plan_accounts: list[Any], plan_clock: None, cell: str
) -> None:
    data = plan_bytes(plan_row(date=cell, language="ja", body=JAPANESE))
    plan_commit(data=data, file_name="plan.csv", actor=editor)
    post = Post.objects.get(external_id="HW-001")
    assert post.scheduled_at is not None
    assert post.scheduled_at.date().isoformat() == "2027-03-01"


@pytest.mark.parametrize("cell", ["2027/13/01", "2027年2月30日", "27/03/01", "türkçe"])
def test_a_bad_japanese_date_or_a_language_name_is_an_error(
    editor: Any, plan_accounts: list[Any], plan_clock: None, cell: str
) -> None:
    column = "language" if cell == "türkçe" else "date"
    data = plan_bytes(plan_row(**{column: cell}))
    row, found, message = only_error(plan_preview(data=data, actor=editor))
    assert (row, found) == (2, column)
    assert cell in message


def test_the_columns_keep_their_english_keys_and_read_as_labels_in_german() -> None:
    with translation.override("de"):
        assert column_label("date") == "Datum"
        assert column_label("body") == "Text"
        assert column_label("accounts") == "Konten"
        assert column_label("someone's notes") == "someone's notes"
        assert all(column_label(column) for column in COLUMNS)
    with translation.override("en"):
        assert column_label("external_id") == "Plan row id"


def test_the_preview_names_a_faulty_column_by_its_label_and_key(
    editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    editor.language = "de"
    editor.save(update_fields=["language"])
    client = Client()
    client.force_login(editor)
    page = client.get(reverse("plans:import")).content.decode()
    assert "<dt><code>external_id</code></dt><dd>Zeilen-ID im Plan</dd>" in page
    response = upload(client, "plan.csv", plan_bytes(plan_row(date="2027/13/01")))
    page = client.get(response["Location"]).content.decode()
    assert "Datum (<code>date</code>)" in page
