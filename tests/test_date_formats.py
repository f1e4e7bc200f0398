"""One date and time format per language: pages name Django's locale formats, never a pattern.

English (hospital English, 24-hour clock) writes "4 Dec 2027, 20:04", German "04.12.2027, 20:04";
a day like 4 December is never written "12/04/2027", which a German team reads as 12 April.
"""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation
from django.utils import timezone as tz

from consent.models import Subject
from core.templatetags.rounds_time import format_when

ROOT = Path(settings.BASE_DIR)
BERLIN = tz.get_default_timezone()
EVENING = dt.datetime(2026, 12, 4, 19, 4, tzinfo=dt.UTC)  # 20:04 in Berlin (CET)

# Named formats, the machine formats (ISO in datetime="" attributes and hidden inputs), and single
# components that are words or numbers of the language's own (weekday name, day of month, UTC offset).
ALLOWED = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "TIME_FORMAT",
    "MONTH_DAY_FORMAT",
    "YEAR_MONTH_FORMAT",
    "c",
    "U",
    "Y-m-d",
    "l",
    "D",
    "j",
    "O",
}
PATTERN = re.compile(r"""\|(?:date|time):\s*(["'])(?P<format>.*?)\1|\{%\s*now\s+(["'])(?P<now>.*?)\3""")


def templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt"))
    for app in ROOT.iterdir():
        if (app / "templates").is_dir() and app.name not in {".venv", "tests", "templates"}:
            found += sorted((app / "templates").rglob("*.html")) + sorted((app / "templates").rglob("*.txt"))
    return found


def test_the_template_scan_sees_the_project_templates() -> None:
    names = {path.name for path in templates()}
    assert {"record_detail.html", "review.html", "publishing.html", "reminder.txt"} <= names


def test_no_template_writes_a_literal_date_pattern() -> None:
    offenders = []
    for path in templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in PATTERN.finditer(line):
                pattern = match.group("format") if match.group("format") is not None else match.group("now")
                if pattern not in ALLOWED:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {pattern!r}")
    assert offenders == [], "use a named format (|date:'SHORT_DATETIME_FORMAT') or |when:\n" + "\n".join(offenders)


def test_the_lint_catches_a_pattern() -> None:
    line = '{{ post.scheduled_at|date:"m/d/Y" }} {% now "Y" %} {{ x|date:"SHORT_DATE_FORMAT" }}'
    found = [m.group("format") or m.group("now") for m in PATTERN.finditer(line)]
    assert [pattern for pattern in found if pattern not in ALLOWED] == ["m/d/Y", "Y"]


@pytest.mark.parametrize(
    ("language", "short_date", "long_date", "short_datetime", "long_datetime"),
    [
        ("en", "4 Dec 2026", "4 December 2026", "4 Dec 2026, 20:04", "4 December 2026, 20:04"),
        ("de", "04.12.2026", "4. Dezember 2026", "04.12.2026, 20:04", "4. Dezember 2026, 20:04"),
    ],
)
def test_each_language_has_one_format_with_a_24_hour_clock(
    language: str, short_date: str, long_date: str, short_datetime: str, long_datetime: str
) -> None:
    local = EVENING.astimezone(BERLIN)
    with translation.override(language), tz.override(BERLIN):
        assert formats.date_format(local.date(), "SHORT_DATE_FORMAT") == short_date
        assert formats.date_format(local.date(), "DATE_FORMAT") == long_date
        assert formats.date_format(local, "SHORT_DATETIME_FORMAT") == short_datetime
        assert formats.date_format(local, "DATETIME_FORMAT") == long_datetime
        assert format_when(EVENING) == short_datetime
        assert format_when(EVENING, "zone") == f"{short_datetime} CET"
        assert format_when(EVENING, "time") == "20:04"
        assert format_when(local.date()) == short_date


def test_when_shows_the_zone_the_page_is_rendered_in() -> None:
    template = Template(
        '{% load tz %}{{ at|when:"zone" }} / {% timezone "America/New_York" %}{{ at|when:"zone" }}{% endtimezone %}'
    )
    with translation.override("en"), tz.override(BERLIN):
        text = template.render(Context({"at": EVENING}))
    assert text == "4 Dec 2026, 20:04 CET / 4 Dec 2026, 14:04 EST"


def test_german_input_accepts_german_dates_and_english_never_reads_month_first() -> None:
    from django import forms

    class DayForm(forms.Form):
        day = forms.DateField()

    with translation.override("de"):
        assert DayForm({"day": "04.12.2026"}).is_valid()
    with translation.override("en"):
        english = DayForm({"day": "04/12/2026"})
        assert english.is_valid() and english.cleaned_data["day"] == dt.date(2026, 12, 4)
        assert not DayForm({"day": "12/31/2026"}).is_valid()


# Pages ---------------------------------------------------------------------------------------


@pytest.fixture
def dated_record(subject_factory: Any, record_factory: Any) -> Any:
    subject: Subject = subject_factory(display_name="Anna Example", reference="CASE-0042")
    return record_factory(subject, signed_on=dt.date(2026, 12, 4), expires_on=dt.date(2027, 12, 4))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "label", "signed", "listed"),
    [
        ("en", "Signed on", "4 December 2026", "4 Dec 2027"),
        ("de", "Unterschrieben am", "4. Dezember 2026", "04.12.2027"),
    ],
)
def test_consent_pages_write_dates_in_the_users_language(
    officer2: Any, dated_record: Any, language: str, label: str, signed: str, listed: str
) -> None:
    officer2.language = language
    officer2.save(update_fields=["language"])
    client = Client()
    client.force_login(officer2)

    detail = client.get(reverse("consent:record_detail", args=[dated_record.pk])).text
    registry = client.get(reverse("consent:registry")).text

    assert f"{label}</dt><dd>{signed}</dd>" in detail
    assert listed in registry
    assert "12/04/2027" not in detail + registry and "12/04/2026" not in detail + registry


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "shown"), [("en", "4 Dec 2026, 20:04 CET"), ("de", "04.12.2026, 20:04 CET")])
def test_the_review_inbox_shows_the_scheduled_time_with_its_zone(
    editor: Any, campaign: Any, accounts: list[Any], post_factory: Any, language: str, shown: str
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1], when=EVENING)
    editor.language = language
    editor.save(update_fields=["language"])
    client = Client()
    client.force_login(editor)

    page = client.get(reverse("posts:post_detail", args=[post.pk])).text
    mine = client.get(reverse("approvals:my_posts")).text

    assert shown.removesuffix(" CET") + "</time> (Europe/Berlin)" in page
    assert shown in mine
    assert f'datetime="{EVENING.astimezone(BERLIN).isoformat()}"' in mine
    assert "p.m." not in page + mine
