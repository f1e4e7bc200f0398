"""Plan columns in the reader's language; the CSV keys stay English (the file format).

``{{ column|column_label }}``: the label ("Datum"); ``{{ column|column_name }}``: how a message
names the column, the key the file has with its label beside it in another language
("Datum (date)"), the key alone in English.
"""

from django import template
from django.utils.translation import get_language

from plans.rows import column_label as _column_label

register = template.Library()


@register.filter
def column_label(key: str) -> str:
    """Return the label of the plan column ``key`` in the active language; unknown keys as they are."""
    return _column_label(str(key))


@register.filter
def column_name(key: str) -> str:
    """Return the column as messages name it: its key, with its label first when that is in another language."""
    key = str(key)
    label = _column_label(key)
    if label == key or (get_language() or "en").split("-")[0] == "en":
        return key
    return f"{label} ({key})"
