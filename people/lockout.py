"""What django-axes asks of Rounds: who and where a log-in comes from, the lockout page, the audit of a lock.

The settings name these callables (``AXES_USERNAME_CALLABLE``, ``AXES_CLIENT_IP_CALLABLE``,
``AXES_LOCKOUT_CALLABLE``); `PeopleConfig.ready()` connects `locked_out_receiver` to axes'
``user_locked_out``. Unlocking is `people.services.login_attempts_unlock`, from the admin.
"""

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from people.models import User

# The log-in form's field: Django's LoginView names it `username`, django-allauth's `login`.
_FORM_FIELDS = ("login", "username")


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str | None:
    """Return the name a log-in attempt is counted under: the username, lower-cased; None if it names none.

    Credentials come from ``authenticate()`` (``username``, or ``email`` when django-allauth logs in by
    address), else the form (``login`` or ``username``). An address that belongs to a person counts
    as their username, so trying both does not double the attempts; case does not either
    (django-allauth matches usernames whatever their case).
    """
    given = ""
    for key in ("username", "email"):
        value = (credentials or {}).get(key)
        if value:
            given = str(value)
            break
    if not given and request is not None:
        data = getattr(request, "data", request.POST)
        given = next((str(data[field]) for field in _FORM_FIELDS if data.get(field)), "")
    given = given.strip()
    if not given:
        return None
    if "@" in given:
        owner = User.objects.filter(email__iexact=given).order_by("pk").values_list("username", flat=True).first()
        if owner is not None:
            given = owner
    return given.lower()


def client_ip(request: HttpRequest) -> str | None:
    """Return the address a request is counted under: REMOTE_ADDR, or the trusted proxy's header if one is named.

    With ``ROUNDS_CLIENT_IP_HEADER`` (e.g. ``X-Forwarded-For``) the right-most address in it counts:
    the one the proxy itself saw; those to its left are whatever the client claimed.
    """
    header = settings.ROUNDS_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        candidate = value.split(",")[-1].strip() if value else ""
        if _is_address(candidate):
            return candidate
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _is_address(remote) else None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """Return the lockout page (429) in the site's layout: why, for how long, and who can unlock."""
    context = {
        "cool_off_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "registration/locked_out.html", context, status=429)


def locked_out_receiver(
    sender: object, *, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    """Record a lock in the audit trail when it begins (axes sends the signal for every refused attempt)."""
    from people.services import login_lockout_record

    login_lockout_record(
        username=username or "",
        ip_address=ip_address or "",
        user_agent=str(getattr(request, "axes_user_agent", "")),
    )
