"""Filters that show English words stored as data in the reader's language (core.i18n).

``{{ stage.name|display_name }}``: a seeded default name (stage, chain, role group, default
recipients) translated while it is unchanged; a renamed one as typed.
``{{ publication.last_error|stored_message }}``: a message the worker stored in English, translated.
"""

from django import template

from core.i18n import display_name as _display_name
from core.i18n import message_display

register = template.Library()


@register.filter
def display_name(value: object) -> str:
    """Return a stored default name in the active language; any other value as stored."""
    return _display_name(value)


@register.filter
def stored_message(value: object) -> str:
    """Return a stored English message in the active language; unknown text as stored."""
    return message_display(value)
