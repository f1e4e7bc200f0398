"""Bounded input: the one place that says which dates and which characters Rounds stores.

A date outside 1900 to 2100 is a typing slip, never a plan; left through, it becomes a BC
timestamp PostgreSQL stores and psycopg cannot read back, or an OverflowError when a time
zone shifts it past year 1 or 9999. NUL and lone surrogates cannot be stored in PostgreSQL
text or JSON. Form fields, model fields (so ``full_clean`` refuses), services and a middleware
for what no form reads all use what is defined here.
"""

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, overload
from urllib.parse import unquote_to_bytes

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.web import render_error

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)

# NUL, and the surrogate code points that only exist in a str whose bytes were not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def date_range_error() -> ValidationError:
    """Return the error for a date or time outside DATE_MIN..DATE_MAX, naming the allowed range."""
    return ValidationError(
        _("Enter a date between %(min)s and %(max)s."),
        code="date_out_of_range",
        params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
    )


def date_in_range(value: dt.date | dt.datetime | None) -> None:
    """Validate that a date lies within DATE_MIN..DATE_MAX, a moment within that range in some zone.

    A moment is stored in UTC and its zone is not known here, so it may lie up to a day
    outside the range (2100-12-31 23:59 in Los Angeles is 2101-01-01 in UTC); forms check the
    wall date the user typed exactly (``local_moment``, ``BoundedDateTimeField``).
    """
    if value is None:
        return
    if isinstance(value, dt.datetime):
        try:
            day = value.astimezone(dt.UTC).date() if value.tzinfo is not None else value.date()
        except OverflowError as exc:  # shifted by its zone past year 1 or 9999
            raise date_range_error() from exc
        low, high = DATE_MIN - dt.timedelta(days=1), DATE_MAX + dt.timedelta(days=1)
    else:
        day, low, high = value, DATE_MIN, DATE_MAX
    if not low <= day <= high:
        raise date_range_error()


def local_moment(day: dt.date, time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """Return the wall time ``day time`` in ``zone`` as an aware datetime; refuse a day out of range.

    Checking the wall date first means no zone can shift the moment past year 1 or 9999.
    """
    date_in_range(day)
    return dt.datetime.combine(day, time, tzinfo=zone)


def text_problem(value: str) -> bool:
    """Return whether ``value`` holds a character PostgreSQL text or JSON cannot store."""
    return _UNSTORABLE.search(value) is not None


def unstorable_error() -> ValidationError:
    return ValidationError(
        _(
            "This text contains a character that cannot be stored (a null character or a broken one). "
            "Remove it and try again."
        ),
        code="unstorable",
    )


def text_storable(value: object) -> None:
    """Validate that a text holds no NUL and no lone surrogate."""
    if isinstance(value, str) and text_problem(value):
        raise unstorable_error()


@overload
def storable(value: str) -> str: ...
@overload
def storable(value: object) -> object: ...
def storable(value: object) -> object:
    """Return ``value`` with every unstorable character in its strings replaced by U+FFFD.

    For what must be kept whatever it holds (the audit trail): the event survives, the
    offending character is visibly replaced.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value) if text_problem(value) else value
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


# Form fields ---------------------------------------------------------------------------------


def _bounded_widget_attrs(attrs: dict[str, Any], *, with_time: bool) -> dict[str, Any]:
    low, high = ("T00:00", "T23:59") if with_time else ("", "")
    return {"min": DATE_MIN.isoformat() + low, "max": DATE_MAX.isoformat() + high, **attrs}


class BoundedDateField(forms.DateField):
    """A date field that refuses dates outside DATE_MIN..DATE_MAX with a message naming the range."""

    default_validators = [date_in_range]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return _bounded_widget_attrs(super().widget_attrs(widget), with_time=False)


class BoundedDateTimeField(forms.DateTimeField):
    """A date-time field bounded like BoundedDateField; a zone shift past the calendar is an error too."""

    default_validators = [date_in_range]

    def to_python(self, value: str | dt.datetime | dt.date | None) -> dt.datetime | None:
        try:
            result = super().to_python(value)
        except OverflowError as exc:
            raise date_range_error() from exc
        if result is not None:
            # The wall date the user typed is checked exactly; the validator allows a day's slack.
            date_in_range(result.date())
        return result

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return _bounded_widget_attrs(super().widget_attrs(widget), with_time=True)


def date_param(text: str | None) -> dt.date | None:
    """Return an ISO date from a query parameter, or None if it is missing, invalid or out of range."""
    try:
        day = dt.date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if DATE_MIN <= day <= DATE_MAX else None


# Requests no form reads ------------------------------------------------------------------------

_FORM_ENCODED = "application/x-www-form-urlencoded"


def _bytes_problem(raw: bytes, *, nul: bool) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return nul and b"\x00" in raw


def request_problem(request: HttpRequest) -> str:
    """Return why a request's path, query or form body cannot be read as text, or ""."""
    if text_problem(request.path):
        return _("The address contains a character that is not allowed (a null character).")
    query = request.META.get("QUERY_STRING", "")
    if query and _bytes_problem(unquote_to_bytes(query.replace("+", " ")), nul=True):
        return _("The address contains a character that is not allowed (a null character or invalid UTF-8).")
    # A NUL in a form field is the form's to refuse; bytes that are not UTF-8 would be
    # silently replaced by Django, so they are refused here.
    form_body = request.method == "POST" and request.content_type == _FORM_ENCODED
    if form_body and _bytes_problem(unquote_to_bytes(request.body.replace(b"+", b" ")), nul=False):
        return _("The submitted form is not valid UTF-8 text.")
    return ""


class UnstorableInputMiddleware:
    """Answer 400 to a request whose path, query string or form body cannot be read as text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_problem(request)
        if problem:
            return render_error(request, template="400.html", status=400, title=_("Bad request"), message=problem)
        return self.get_response(request)


class RequestSizeMiddleware:
    """Answer 413 to a request whose declared body is over ROUNDS_MAX_REQUEST_BYTES, before reading it.

    DATA_UPLOAD_MAX_MEMORY_SIZE does not count the files of a multipart body, so without this a
    request could stream any number of gigabytes into temporary files. Django reads no more than
    Content-Length bytes, so the declared length bounds what it ever reads.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads nothing of a body whose length it cannot read either
        limit = settings.ROUNDS_MAX_REQUEST_BYTES
        if length > limit:
            return render_error(
                request,
                template="413.html",
                status=413,
                title=_("What you sent is too large"),
                message=_(
                    "What you sent is %(size)s; Rounds accepts at most %(limit)s at once. Send fewer or smaller files."
                )
                % {"size": filesizeformat(length), "limit": filesizeformat(limit)},
            )
        return self.get_response(request)
