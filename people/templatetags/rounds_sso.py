"""``{% local_passwords_allowed as ... %}``: whether the login page offers the password form."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def local_passwords_allowed() -> bool:
    """Return whether people log in with passwords (ROUNDS_LOCAL_PASSWORDS); superusers' break-glass aside."""
    return bool(settings.ROUNDS_LOCAL_PASSWORDS)
