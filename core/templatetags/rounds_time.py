"""``{{ moment|when }}``: a date or time in the language's own named format, never a literal pattern.

A builtin (settings.TEMPLATES), so no template needs ``{% load %}``. Times that are planned or
promised (a scheduled post, a deadline in an e-mail) take ``when:"zone"`` and name their zone:
"4 Dec 2026, 20:04 CET" cannot be misread by a reader in another zone.
"""

import datetime as dt

from django import template
from django.utils import formats, timezone

from core.dates import date_format

register = template.Library()

_FORMATS = {
    "": "SHORT_DATETIME_FORMAT",
    "zone": "SHORT_DATETIME_FORMAT",
    "date": "SHORT_DATE_FORMAT",
    "time": "TIME_FORMAT",
}


def format_when(value: dt.datetime | dt.date | None, style: str = "") -> str:
    """Return ``value`` in the active language's short format; ``style`` "zone", "date" or "time"."""
    if value is None or value == "":
        return ""
    if not isinstance(value, dt.datetime):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    text = date_format(value, _FORMATS.get(style, "SHORT_DATETIME_FORMAT"))
    if style == "zone" and value.tzinfo is not None:
        text = f"{text} {value.tzname()}"
    return text


@register.filter(expects_localtime=True, is_safe=False)
def when(value: dt.datetime | dt.date | None, style: str = "") -> str:
    """Render a moment in the language's format: ``|when``, ``|when:"zone"``, ``|when:"date"``, ``|when:"time"``."""
    return format_when(value, style)
