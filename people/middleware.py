import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from people.twofactor import has_two_factor, two_factor_required_by_role, two_factor_setup_redirect


class UserPreferencesMiddleware:
    """Show the logged-in user's pages in their own time zone and language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        if user.is_authenticated and user.language:
            response.headers.setdefault("Content-Language", user.language)
        return response


# Session keys (seconds since the epoch): when the person logged in, and when a request last came.
SESSION_STARTED = "rounds_started"
SESSION_ACTIVITY = "rounds_activity"
# A session is written for its activity time at most once a minute (or a thirtieth of the idle limit,
# if that is longer), not on every request: the stamp may lag the last request by that much, so an idle
# session can end that much early (29 of 30 minutes).
ACTIVITY_RESOLUTION_SECONDS = 60


def session_started_receiver(sender: object, *, request: HttpRequest, user: object, **kwargs: object) -> None:
    """Stamp a new log-in's session and fix its end: ROUNDS_SESSION_MAX_HOURS from now, however active."""
    now = timezone.now()
    request.session[SESSION_STARTED] = now.timestamp()
    request.session[SESSION_ACTIVITY] = now.timestamp()
    _expiry_pin(request)


def _expiry_pin(request: HttpRequest) -> None:
    # A fixed date: saving the session later (its activity time) does not push its end further.
    started = request.session.get(SESSION_STARTED)
    if not isinstance(started, (int, float)):
        return
    end = dt.datetime.fromtimestamp(started, tz=dt.UTC) + dt.timedelta(hours=settings.ROUNDS_SESSION_MAX_HOURS)
    if request.session.get("_session_expiry") != end.isoformat():
        request.session.set_expiry(end)


class SessionTimeoutMiddleware:
    """Log out a session idle for ROUNDS_SESSION_IDLE_MINUTES or older than ROUNDS_SESSION_MAX_HOURS.

    The person is sent to the login page (with ``next``) and told why.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ended = self._ended(request)
            if ended:
                logout(request)
                messages.info(request, ended)
                if request.method in {"GET", "HEAD"}:
                    return redirect_to_login(request.get_full_path())
                # What a form sent is lost either way; coming back to its address would only show it empty.
                return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        response = self.get_response(request)
        if hasattr(request, "session") and request.user.is_authenticated:
            # django-allauth sets its own, sliding expiry after a password log-in: fix it again.
            _expiry_pin(request)
        return response

    def _ended(self, request: HttpRequest) -> str:
        """Return why the session ends now ("" if it goes on), stamping its activity at most once a minute."""
        session = request.session
        now = timezone.now().timestamp()
        started = session.get(SESSION_STARTED)
        last = session.get(SESSION_ACTIVITY)
        max_seconds = settings.ROUNDS_SESSION_MAX_HOURS * 3600
        idle_seconds = settings.ROUNDS_SESSION_IDLE_MINUTES * 60
        if isinstance(started, (int, float)) and now - started > max_seconds:
            return _("You have been logged out: a session lasts at most %(hours)s hours. Please log in again.") % {
                "hours": f"{settings.ROUNDS_SESSION_MAX_HOURS:g}"
            }
        if isinstance(last, (int, float)) and now - last > idle_seconds:
            return _("You have been logged out after %(minutes)s minutes without activity. Please log in again.") % {
                "minutes": f"{settings.ROUNDS_SESSION_IDLE_MINUTES:g}"
            }
        if not isinstance(started, (int, float)):
            # A session from before these limits: its clock starts now.
            session[SESSION_STARTED] = now
        if not isinstance(last, (int, float)) or now - last >= max(ACTIVITY_RESOLUTION_SECONDS, idle_seconds / 30):
            session[SESSION_ACTIVITY] = now
        return ""


class TwoFactorRequiredMiddleware:
    """Send members of ROUNDS_TWO_FACTOR_GROUPS who have no second factor to set one up first.

    Only the sign-in and account pages (where they set it up, or sign out), the language switch and
    the JavaScript translations stay open to them until they have.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or _open_without_two_factor(match.url_name or "", match.namespaces):
            return None
        if two_factor_required_by_role(request.user) and not has_two_factor(request.user):
            return two_factor_setup_redirect(request)
        return None


def _open_without_two_factor(url_name: str, namespaces: list[str]) -> bool:
    # allauth's views (sign-in, two-factor set-up, confirm-it's-you, password, sign-out) are not namespaced.
    if not namespaces:
        return url_name.startswith(("account_", "mfa_")) or url_name in {"login", "logout", "set_language"}
    return namespaces == ["people"] and url_name == "language"
