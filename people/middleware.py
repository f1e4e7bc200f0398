import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

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
