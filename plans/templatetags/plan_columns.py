"""``{{ column|column_label }}``: a plan column's label in the reader's language (the CSV key stays English)."""

from django import template

from plans.rows import column_label as _column_label

register = template.Library()


@register.filter
def column_label(key: str) -> str:
    """Return the label of the plan column ``key`` in the active language; unknown keys as they are."""
    return _column_label(str(key))
