"""One row of a plan to one checked `PlanRow`: dates, times and zones, accounts, links, hashtags.

Nothing here touches the database: the accounts are looked up in an `AccountIndex` built once.
"""

import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _

from core.inputs import date_in_range, local_moment
from plans.reading import Line
from posts import platforms
from posts.links import ordinary_web_link_valid
from posts.models import Account, ContentType, Platform, Post

COLUMNS = (
    "campaign",
    "date",
    "time",
    "timezone",
    "accounts",
    "title",
    "body",
    "link",
    "hashtags",
    "content_type",
    "language",
    "external_id",
)
REQUIRED = ("campaign", "date", "time", "accounts", "body")
# The header keys stay English (the file format); people read these labels beside them.
COLUMN_LABELS = {
    "campaign": pgettext_lazy("plan column", "Campaign"),
    "date": pgettext_lazy("plan column", "Date"),
    "time": pgettext_lazy("plan column", "Time"),
    "timezone": pgettext_lazy("plan column", "Time zone"),
    "accounts": pgettext_lazy("plan column", "Accounts"),
    "title": pgettext_lazy("plan column", "Title"),
    "body": pgettext_lazy("plan column", "Text"),
    "link": pgettext_lazy("plan column", "Link"),
    "hashtags": pgettext_lazy("plan column", "Hashtags"),
    "content_type": pgettext_lazy("plan column", "Content type"),
    "language": pgettext_lazy("plan column", "Language"),
    "external_id": pgettext_lazy("plan column", "Plan row id"),
    "message": pgettext_lazy("plan column", "Message"),
}


def column_label(key: str) -> str:
    """Return the label of a plan column in the active language; an unknown column's key as it is."""
    label = COLUMN_LABELS.get(key)
    return str(label) if label is not None else key


HOOTSUITE_COLUMNS = ("date", "message", "link")
DMY = "dmy"
MDY = "mdy"

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")  # also the Turkish way
# The Japanese ways: 2026/12/04 and 2026年12月4日 (year first, so never ambiguous).
_JAPANESE_DATE = re.compile(r"(\d{4})(?:/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)
_HOOTSUITE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", re.IGNORECASE)
_ACCOUNT_SEPARATORS = re.compile(r"[;|]")
_LINK = URLValidator(schemes=["http", "https"])

_TITLE_MAX = Post._meta.get_field("title").max_length or 200
_LINK_MAX = Post._meta.get_field("link").max_length or 2000
_EXTERNAL_ID_MAX = Post._meta.get_field("external_id").max_length or 200
DEFAULT_LANGUAGE: str = Post._meta.get_field("language").default
DEFAULT_CONTENT_TYPE: str = ContentType.EDUCATION
_CONTENT_TYPES = frozenset(ContentType.values)


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def column_key(name: str) -> str:
    """Header names match whatever their case, spaces, dashes and underscores."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


@dataclass
class PlanRow:
    """A row as the plan means it; ``errors`` holds (column, message) pairs."""

    number: int
    campaign: str = ""
    scheduled_at: dt.datetime | None = None
    time_zone: str = ""
    accounts: tuple[Account, ...] = ()
    title: str = ""
    body: str = ""
    link: str = ""
    hashtags: tuple[str, ...] = ()
    content_type: str | None = None  # None: not given, keeps an existing post's value
    language: str | None = None
    external_id: str = ""
    local_time: str = ""  # as written, for the preview
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    @property
    def account_ids(self) -> frozenset[int]:
        return frozenset(account.pk for account in self.accounts)


def _key(text: str) -> str:
    return text.strip().casefold()


def _handle_key(text: str) -> str:
    return text.strip().lstrip("@").casefold()


class AccountIndex:
    """Find accounts by handle (with or without "@") or name; ``platform:handle`` disambiguates."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts = {account.pk: account for account in accounts}
        self._by_key: dict[str, set[int]] = defaultdict(set)
        self._by_handle: dict[str, set[int]] = defaultdict(set)
        self._by_name: dict[str, set[int]] = defaultdict(set)
        self._by_platform: dict[tuple[str, str], int] = {}
        for account in self.accounts.values():
            self._by_handle[_handle_key(account.handle)].add(account.pk)
            self._by_name[_key(account.name)].add(account.pk)
            self._by_key[_handle_key(account.handle)].add(account.pk)
            self._by_key[_key(account.name)].add(account.pk)
            self._by_platform[(account.platform, _handle_key(account.handle))] = account.pk

    def find(self, token: str) -> tuple[Account | None, str]:
        """Return the account ``token`` names, or None and why not."""
        ids = self._by_key.get(_key(token), set()) | self._by_key.get(_handle_key(token), set())
        if len(ids) == 1:
            return self.accounts[next(iter(ids))], ""
        platform, colon, handle = token.partition(":")
        if colon and platform.strip().lower() in Platform.values:
            pk = self._by_platform.get((platform.strip().lower(), _handle_key(handle)))
            if pk is not None:
                return self.accounts[pk], ""
        if len(ids) > 1:
            names = ", ".join(sorted(f"{self.accounts[pk].platform}:{self.accounts[pk].handle}" for pk in ids))
            return None, _("“%(account)s” matches several accounts (%(names)s): write platform:handle.") % {
                "account": token,
                "names": names,
            }
        return None, _("“%(account)s” is not a known account (use its handle or name).") % {"account": token}

    def reference(self, account: Account) -> str:
        """Return the shortest text that names ``account`` and nothing else (for exports)."""
        if self._by_key.get(_handle_key(account.handle)) == {account.pk} and not _ACCOUNT_SEPARATORS.search(
            account.handle
        ):
            return account.handle
        if self._by_key.get(_key(account.name)) == {account.pk} and not _ACCOUNT_SEPARATORS.search(account.name):
            return account.name
        return f"{account.platform}:{account.handle}"


def _parse_offset(text: str) -> dt.timedelta | None:
    if text.upper() == "Z":
        return dt.timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def _when(day: dt.date, at: dt.time, zone_name: str) -> dict[str, str]:
    return {"date": day.isoformat(), "time": at.strftime("%H:%M"), "zone": zone_name}


def localise(
    *, day: dt.date, at: dt.time, zone_name: str, offset: dt.timedelta | None
) -> tuple[dt.datetime | None, str]:
    """Return the UTC moment of a wall time in a zone, or None and why it is not one moment."""
    zone = zoneinfo.ZoneInfo(zone_name)
    naive = dt.datetime.combine(day, at)
    try:
        first = local_moment(day, at, zone)
    except ValidationError as error:
        return None, " ".join(error.messages)
    second = naive.replace(tzinfo=zone, fold=1)
    first_utc = first.astimezone(dt.UTC)
    if first_utc.astimezone(zone).replace(tzinfo=None) != naive:
        return None, _("%(time)s does not exist in %(zone)s on %(date)s (the clocks go forward).") % _when(
            day, at, zone_name
        )
    offsets = {first.utcoffset(), second.utcoffset()}
    if offset is None and len(offsets) == 1:
        return first_utc, ""
    when = _when(day, at, zone_name)
    if offset is None:
        if len(offsets) > 1:
            choices = " / ".join(sorted(at.strftime("%H:%M") + _offset_text(o) for o in offsets if o is not None))
            return None, _(
                "%(time)s happens twice in %(zone)s on %(date)s (the clocks go back): add the UTC offset, "
                "e.g. %(choices)s."
            ) % {**when, "choices": choices}
        return first.astimezone(dt.UTC), ""
    if offset not in offsets:
        return None, _("The UTC offset %(offset)s is not the offset of %(zone)s at %(time)s on %(date)s.") % {
            **when,
            "offset": _offset_text(offset),
        }
    chosen = first if first.utcoffset() == offset else second
    return chosen.astimezone(dt.UTC), ""


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def time_cell(moment: dt.datetime, zone_name: str) -> tuple[str, str]:
    """Return the date and time cells of a moment in a zone; an ambiguous time carries its offset."""
    zone = zoneinfo.ZoneInfo(zone_name)
    local = moment.astimezone(zone)
    text = local.strftime("%H:%M:%S" if local.second else "%H:%M")
    wall = local.replace(tzinfo=None)
    if wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset():
        text += _offset_text(local.utcoffset() or dt.timedelta(0))
    return local.date().isoformat(), text


@lru_cache(maxsize=4096)
def _parse_date(text: str, language: str | None) -> tuple[dt.date | None, str]:
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _GERMAN_DATE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _JAPANESE_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups() if part is not None)
    else:
        return None, _("“%(value)s” is not a date: write YYYY-MM-DD, DD.MM.YYYY or YYYY/MM/DD.") % {"value": text}
    try:
        parsed = dt.date(year, month, day)
    except ValueError:
        return None, _("%(value)s is not a day of the calendar.") % {"value": text}
    try:
        date_in_range(parsed)
    except ValidationError as error:
        return None, " ".join(error.messages)
    return parsed, ""


@lru_cache(maxsize=4096)
def _parse_time(text: str, language: str | None) -> tuple[dt.time | None, dt.timedelta | None, str]:
    match = _TIME.fullmatch(text)
    at: dt.time | None = None
    if match:
        hour, minute, second, offset = match.groups()
        try:
            at = dt.time(int(hour), int(minute), int(second or 0))
        except ValueError:
            at = None
    if match is None or at is None:
        return None, None, _("“%(value)s” is not a time: write HH:MM (24-hour), e.g. 09:30.") % {"value": text}
    return at, _parse_offset(offset) if offset else None, ""


def _link_problem(link: str, language: str | None) -> str:
    if ordinary_web_link_valid(link, max_length=_LINK_MAX):
        return ""
    return _link_problem_checked(link, language)


@lru_cache(maxsize=4096)
def _link_problem_checked(link: str, language: str | None) -> str:
    try:
        if len(link) > _LINK_MAX:
            raise ValidationError("too long")
        _LINK(link)
    except ValidationError:
        return _("“%(link)s” is not a web address starting with http:// or https://.") % {"link": link}
    return ""


@lru_cache(maxsize=4096)
def _hashtags(cell: str, language: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    tags = platforms.normalise_hashtags(cell)
    return tuple(tags), tuple(platforms.hashtag_errors(tags))


@dataclass
class RowParser:
    """Parse rows against the accounts known and the importer's zone."""

    accounts: AccountIndex
    default_zone: str
    columns: dict[str, int] = field(default_factory=dict)
    _account_cells: dict[tuple[str, str], tuple[tuple[Account, ...], list[tuple[str, str]]]] = field(
        default_factory=dict
    )

    def header(self, line: Line) -> list[tuple[str, str]]:
        """Map the header's columns; returns (column, message) for missing or repeated ones."""
        problems: list[tuple[str, str]] = []
        known = {column_key(name): name for name in COLUMNS}
        for index, cell in enumerate(line.cells):
            name = known.get(column_key(cell))
            if name is None:
                continue  # other columns are the planner's own
            if name in self.columns:
                problems.append((name, _("The column “%(column)s” appears twice.") % {"column": name}))
            else:
                self.columns[name] = index
        for name in REQUIRED:
            if name not in self.columns:
                problems.append((name, _("The required column “%(column)s” is missing.") % {"column": name}))
        return problems

    def _named(self, cells: Sequence[str]) -> dict[str, str]:
        count = len(cells)
        return {name: cells[index] for name, index in self.columns.items() if index < count}

    def _zone(self, row: PlanRow, name: str, column: str) -> str:
        zone = name or self.default_zone
        if zone not in known_zones():
            message = _("“%(zone)s” is not a time zone: use an IANA name such as Europe/Berlin.")
            row.error(column, message % {"zone": name})
            return ""
        return zone

    def _accounts_cell(self, row: PlanRow, cell: str, column: str, language: str) -> None:
        # Plans name the same few account combinations over and over.
        key = (cell, language)
        if key not in self._account_cells:
            probe = PlanRow(number=0)
            self._accounts(probe, _ACCOUNT_SEPARATORS.split(cell), column)
            self._account_cells[key] = (probe.accounts, list(probe.errors))
        row.accounts, errors = self._account_cells[key]
        row.errors.extend(errors)

    def _accounts(self, row: PlanRow, tokens: Iterable[str], column: str) -> None:
        found: dict[int, Account] = {}
        for token in tokens:
            token = token.strip()
            if not token:
                continue
            account, problem = self.accounts.find(token)
            if account is None:
                row.error(column, problem)
            elif not account.active:
                row.error(column, _("%(account)s is not active.") % {"account": account})
            else:
                found.setdefault(account.pk, account)
        if not found and not any(column == c for c, _m in row.errors):
            row.error(column, _("Name at least one account."))
        row.accounts = tuple(found.values())

    def _link(self, row: PlanRow, link: str, column: str, language: str) -> None:
        if not link:
            return
        problem = _link_problem(link, language)
        if problem:
            row.error(column, problem)
            return
        row.link = link

    def _moment(self, row: PlanRow, day: dt.date | None, at: dt.time | None, offset: dt.timedelta | None) -> None:
        if day is None or at is None or not row.time_zone:
            return
        moment, problem = localise(day=day, at=at, zone_name=row.time_zone, offset=offset)
        if moment is None:
            row.error("time", problem)
        row.scheduled_at = moment

    def plan_row(self, line: Line, *, language: str | None = None) -> PlanRow:
        """Return the checked row of a plan with a header (messages in ``language``, default: the current one)."""
        language = language or get_language()
        cell = self._named(line.cells).get
        row = PlanRow(number=line.number)
        row.campaign = cell("campaign", "")
        if not row.campaign:
            row.error("campaign", _("Name the campaign."))
        elif len(row.campaign) > 200:
            row.error("campaign", _("A campaign name has at most 200 characters."))
        day: dt.date | None = None
        at: dt.time | None = None
        offset: dt.timedelta | None = None
        date_text, time_text = cell("date", ""), cell("time", "")
        if not date_text:
            row.error("date", _("Give the date."))
        else:
            day, problem = _parse_date(date_text, language)
            if problem:
                row.error("date", problem)
        if not time_text:
            row.error("time", _("Give the time."))
        else:
            at, offset, problem = _parse_time(time_text, language)
            if problem:
                row.error("time", problem)
        row.local_time = f"{date_text} {time_text}".strip()
        row.time_zone = self._zone(row, cell("timezone", ""), "timezone")
        self._moment(row, day, at, offset)
        self._accounts_cell(row, cell("accounts", ""), "accounts", language)
        row.title = cell("title", "")
        if len(row.title) > _TITLE_MAX:
            row.error("title", _("A title has at most %(limit)d characters.") % {"limit": _TITLE_MAX})
        row.body = cell("body", "")
        if not row.body:
            row.error("body", _("The post needs a text."))
        self._link(row, cell("link", ""), "link", language)
        row.hashtags, problems = _hashtags(cell("hashtags", ""), language)
        for problem in problems:
            row.error("hashtags", problem)
        content_type = cell("content_type", "")
        if content_type:
            value = content_type.lower() if content_type.lower() in _CONTENT_TYPES else None
            if value is None:  # a label in the reader's language, e.g. "Patient story"
                labels = {str(label).casefold(): value for value, label in ContentType.choices}
                value = labels.get(content_type.casefold())
            if value is None:
                row.error(
                    "content_type",
                    _("“%(value)s” is not a content type: use one of %(choices)s.")
                    % {"value": content_type, "choices": ", ".join(ContentType.values)},
                )
            row.content_type = value
        code = cell("language", "")
        if code:
            if not _LANGUAGE.fullmatch(code) or len(code) > 8:
                row.error(
                    "language", _("“%(value)s” is not a language code such as de, en, tr or ja.") % {"value": code}
                )
            row.language = code.lower()
        row.external_id = cell("external_id", "")
        if len(row.external_id) > _EXTERNAL_ID_MAX:
            message = _("An external_id has at most %(limit)d characters.")
            row.error("external_id", message % {"limit": _EXTERNAL_ID_MAX})
        return row

    def hootsuite_row(self, line: Line, *, order: str, campaign: str, accounts: Sequence[Account]) -> PlanRow:
        """Return the checked row of a Hootsuite bulk file (date-time, message, optional link)."""
        cells = [*line.cells, "", "", ""]
        row = PlanRow(number=line.number, campaign=campaign)
        row.local_time = cells[0]
        row.time_zone = self._zone(row, "", "date")
        match = _HOOTSUITE.fullmatch(cells[0])
        expected = "DD/MM/YYYY HH:MM" if order == DMY else "MM/DD/YYYY HH:MM"
        if not match:
            row.error(
                "date",
                _("“%(value)s” is not a date and time: write %(format)s.")
                % {
                    "value": cells[0],
                    "format": expected,
                },
            )
        else:
            first, second, year, hour, minute = (int(part) for part in match.groups())
            day_number, month = (first, second) if order == DMY else (second, first)
            try:
                day = dt.date(year, month, day_number)
                at = dt.time(hour, minute)
            except ValueError:
                row.error(
                    "date",
                    _("“%(value)s” is not a date and time: write %(format)s.")
                    % {
                        "value": cells[0],
                        "format": expected,
                    },
                )
            else:
                moment, problem = (None, "")
                if row.time_zone:
                    moment, problem = localise(day=day, at=at, zone_name=row.time_zone, offset=None)
                if problem:
                    row.error("date", problem)
                row.scheduled_at = moment
        row.body = cells[1]
        if not row.body:
            row.error("message", _("The post needs a text."))
        self._link(row, cells[2], "link", get_language())
        row.accounts = tuple(accounts)
        return row
