"""Two-factor sign-in and re-authentication for sensitive acts (docs/security.md#sign-in-and-two-factor).

django-allauth signs people in and keeps their second factors (authenticator app with recovery
codes, security keys and passkeys). Here Rounds decides who must have one and which acts ask
"confirm it's you" again: a decorator for views, a mixin for admin pages, and the middleware
(people.middleware) that sends Governance and Consent officers to set one up.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from people import rights
from people.models import User

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


def two_factor_required_by_role(user: User | AnonymousUser) -> bool:
    """Return whether the user's groups oblige them to sign in with a second factor."""
    if not settings.ROUNDS_TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    return rights.in_any_group(user, settings.ROUNDS_TWO_FACTOR_GROUPS)


def has_two_factor(user: User | AnonymousUser) -> bool:
    """Return whether the user has an authenticator app or a security key (recovery codes alone do not count)."""
    from allauth.mfa.models import Authenticator

    return bool(is_mfa_enabled(user, types=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]))


def two_factor_setup_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Send the user to the two-factor page, and back to where they were going once it is set up."""
    messages.warning(
        request,
        _("Set up two-factor authentication first: an authenticator app or a security key."),
        fail_silently=True,
    )
    url = reverse("mfa_index")
    if request.method == "GET":
        url += "?" + urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    return HttpResponseRedirect(url)


def recently_authenticated(request: HttpRequest) -> bool:
    """Return whether the user signed in or confirmed it was them within ACCOUNT_REAUTHENTICATION_TIMEOUT.

    allauth's own ``reauthentication_required`` counts only confirmations after the sign-in; a
    sign-in with password and second factor a minute ago proves as much, so it counts here too.
    """
    records = get_authentication_records(request, request.user)
    if not records:
        return False
    last = max(float(record["at"]) for record in records)
    return time.time() - last < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def ensure_recently_authenticated(request: HttpRequest) -> None:
    """Raise allauth's ReauthenticationRequired unless the user confirmed it was them a moment ago.

    allauth's middleware answers it with the confirm-it's-you page, then carries on with the request
    (a form sent with POST is kept and sent again).
    """
    if settings.ROUNDS_REAUTHENTICATION_REQUIRED and not recently_authenticated(request):
        raise ReauthenticationRequired


def sensitive_view(view: Callable[P, R]) -> Callable[P, R | HttpResponseRedirect]:
    """Let the request through only with a second factor set up and a recent sign-in or confirmation.

    For pages behind ``login_required`` that open or change what the law protects most: consent
    documents, FHIR exports, review chains.
    """

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | HttpResponseRedirect:
        request = args[0]
        assert isinstance(request, HttpRequest)
        if settings.ROUNDS_TWO_FACTOR_REQUIRED and not has_two_factor(request.user):
            return two_factor_setup_redirect(request)
        ensure_recently_authenticated(request)
        return view(*args, **kwargs)

    return wrapped


class ReauthenticatedAdminMixin:
    """Ask admin users to confirm it's them before they add, change or delete (or run an action on) these objects."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ensure_recently_authenticated(request)
        return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc, no-any-return]

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ensure_recently_authenticated(request)
        return super().delete_view(request, *args, **kwargs)  # type: ignore[misc, no-any-return]

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Only a POST changes anything here (an action, or list_editable fields).
        if request.method == "POST":
            ensure_recently_authenticated(request)
        return super().changelist_view(request, *args, **kwargs)  # type: ignore[misc, no-any-return]
