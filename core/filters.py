"""The filters of a list page: a GET form whose wrong values are ignored and explained, never a 500.

A bookmark or a hand-edited link may carry a state that no longer exists or a campaign the user
may no longer see. The list then shows as if that one filter were not set, and the form says why
next to the field (its errors), while the filters that were right still apply.
"""

from typing import Any

from django import forms


def valid_filters(form: forms.Form) -> dict[str, Any]:
    """Return the cleaned values of the form's fields that were valid and set (none for an unbound form)."""
    if not form.is_bound:
        return {}
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    return {name: value for name, value in cleaned.items() if name not in form.errors and value not in (None, "")}
