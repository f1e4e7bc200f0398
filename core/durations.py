"""Durations as people type and read them: "48" hours in a form, "2 days" or "36 hours" on a page.

Django's DurationField asks for "1 00:00:00"; a Governance officer setting a review stage's
turnaround thinks in hours and days.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, ngettext

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def duration_words(value: dt.timedelta | None) -> str:
    """Return "2 days" for whole days, "36 hours" for whole hours, else "1 hour 30 minutes"; "" for None."""
    if value is None:
        return ""
    minutes = round(value.total_seconds() / 60)
    if minutes and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    hours, rest = divmod(minutes, 60)
    hours_text = ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    if not rest:
        return hours_text
    minutes_text = ngettext("%(n)s minute", "%(n)s minutes", rest) % {"n": rest}
    return f"{hours_text} {minutes_text}" if hours else minutes_text


def _hours_shown(value: dt.timedelta) -> str:
    hours = Decimal(round(value.total_seconds() / 60)) / 60
    return f"{hours.quantize(Decimal('0.01')).normalize():f}"


class HoursField(forms.Field):
    """A duration typed as a number of hours ("48", "1.5"), stored as a timedelta; 1 minute to ``max_hours``."""

    widget = forms.NumberInput
    default_error_messages = {
        "invalid": gettext_lazy("Enter the number of hours, e.g. 48 for two days or 1.5 for an hour and a half."),
        "too_short": gettext_lazy("Enter at least one minute (0.02 hours)."),
        "too_long": gettext_lazy("Enter at most %(max)s hours."),
    }

    def __init__(self, *, max_hours: int = 24 * 90, **kwargs: Any) -> None:
        self.max_hours = max_hours
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"min": "0.02", "max": str(self.max_hours), "step": "any", "inputmode": "decimal"})
        return attrs

    def prepare_value(self, value: Any) -> Any:
        return _hours_shown(value) if isinstance(value, dt.timedelta) else value

    def to_python(self, value: Any) -> dt.timedelta | None:
        if isinstance(value, dt.timedelta):
            return value
        text = str(value or "").strip().replace(",", ".")
        if not text:
            return None
        try:
            hours = Decimal(text)
        except InvalidOperation as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error
        if not hours.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if hours > self.max_hours:
            raise ValidationError(self.error_messages["too_long"], code="too_long", params={"max": self.max_hours})
        minutes = round(hours * 60)
        if minutes < 1:
            raise ValidationError(self.error_messages["too_short"], code="too_short")
        return dt.timedelta(minutes=minutes)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (self.to_python(initial) if initial not in (None, "") else None)
        except ValidationError:
            return True
