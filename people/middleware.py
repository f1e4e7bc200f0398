import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


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
