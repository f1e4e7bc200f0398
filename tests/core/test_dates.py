"""core.dates writes every moment as Django's date_format does, in every language and named format."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import formats, timezone, translation
from django.utils.timesince import timesince, timeuntil
from hypothesis import given, settings
from hypothesis import strategies as st

from core.dates import date_format, time_strings

NAMED = [
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "TIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
]
LANGUAGES = ["en", "de", "tr", "ja"]
ZONES = ["Europe/Berlin", "Asia/Tokyo", "America/St_Johns", "UTC"]


@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    zone=st.sampled_from(ZONES),
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_named_format_writes_what_django_writes(language: str, moment: dt.datetime, zone: str) -> None:
    aware = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    with translation.override(language):
        for name in NAMED:
            assert date_format(aware, name) == formats.date_format(aware, name), (name, aware)
            assert date_format(moment, name) == formats.date_format(moment, name), (name, moment)


@pytest.mark.parametrize("language", LANGUAGES)
def test_letters_it_does_not_write_itself_and_escapes_are_django_s(language: str) -> None:
    # Weekday names, AM/PM, the zone, ordinal suffixes, ISO weeks: all written by DateFormat itself.
    moment = timezone.make_aware(dt.datetime(2026, 3, 29, 2, 30, 5), zoneinfo.ZoneInfo("Europe/Berlin"))
    for pattern in [r"l, \d\e\n jS F Y P T e O", r"\Y\e\a\r: Y \\ N W D A a", "c r U", r"b M \M y G:i:s"]:
        with translation.override(language):
            assert date_format(moment, pattern) == formats.date_format(moment, pattern), pattern


def test_the_month_names_follow_the_active_language() -> None:
    moment = dt.datetime(2026, 12, 4, 20, 4)
    written = {}
    for language in LANGUAGES:
        with translation.override(language):
            written[language] = date_format(moment, "DATE_FORMAT")
    assert written == {
        "en": "4 December 2026",
        "de": "4. Dezember 2026",
        "tr": "04.12.2026",
        "ja": "2026年12月4日",
    }


@settings(max_examples=60, deadline=None)
@given(
    seconds=st.integers(min_value=-90_000, max_value=3 * 366 * 86_400),
    start=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_durations_read_as_django_writes_them(language: str, seconds: int, start: dt.datetime) -> None:
    now = start.replace(tzinfo=dt.UTC)
    later = now + dt.timedelta(seconds=seconds)
    with translation.override(language):
        assert timeuntil(later, now, time_strings=time_strings()) == timeuntil(later, now)
        assert timesince(now, later, time_strings=time_strings()) == timesince(now, later)


def test_duration_words_follow_the_active_language() -> None:
    now = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    later = now + dt.timedelta(days=2, hours=3)
    with translation.override("de"):
        assert timeuntil(later, now, time_strings=time_strings()) == "2\xa0Tage, 3\xa0Stunden"
    with translation.override("en"):
        assert timeuntil(later, now, time_strings=time_strings()) == "2\xa0days, 3\xa0hours"
