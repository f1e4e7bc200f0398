"""Single sign-on with OpenID Connect: the provider's claims make and update the person at every sign-in.

allauth (``allauth.socialaccount``) runs the protocol (people/oidc/ makes it check the ID token's
signature and nonce); this adapter decides who gets in and with which roles. The person's groups
come from one claim (ROUNDS_OIDC_GROUPS_CLAIM) and become Rounds roles through ROUNDS_OIDC_ROLE_MAP,
granted and removed to match at every sign-in and audited with the actor "sso"
(docs/security.md#single-sign-on-openid-connect).
"""

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, _build_apps_from_settings
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from people.models import User
from people.roles import ROLES
from people.services import user_sso_sync

logger = logging.getLogger(__name__)


def role_map_parse(raw: str) -> dict[str, list[str]]:
    """Return ROUNDS_OIDC_ROLE_MAP as {claim value: [role, ...]}; raises ImproperlyConfigured for a bad one.

    Takes JSON (``{"rounds-editors": "Editor", "rounds-leads": ["Editor", "Governance"]}``) or
    ``value=Role`` pairs separated by ";" (a value may repeat to give several roles).
    """
    raw = raw.strip()
    mapping: dict[str, list[str]] = {}
    if not raw:
        return mapping
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise ImproperlyConfigured(f"ROUNDS_OIDC_ROLE_MAP is not valid JSON: {error}") from error
        for value, roles in data.items():
            mapping[str(value)] = [roles] if isinstance(roles, str) else [str(role) for role in roles]
    else:
        for pair in raw.split(";"):
            if not pair.strip():
                continue
            # The role is after the last "=": claim values (paths, URIs) may hold one, role names do not.
            value, sep, role = pair.rpartition("=")
            if not sep or not value.strip():
                raise ImproperlyConfigured(f"ROUNDS_OIDC_ROLE_MAP: {pair.strip()!r} is not claimvalue=Role")
            mapping.setdefault(value.strip(), []).append(role.strip())
    unknown = sorted({role for roles in mapping.values() for role in roles} - set(ROLES))
    if unknown:
        raise ImproperlyConfigured(
            f"ROUNDS_OIDC_ROLE_MAP names roles Rounds does not have: {', '.join(unknown)} (roles: {', '.join(ROLES)})"
        )
    return mapping


def claim_values(claims: Mapping[str, Any], path: str) -> list[str]:
    """Return the values of the claim at ``path`` (dots reach into objects: ``realm_access.roles``)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return []
        value = value[part]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []


def roles_for_claims(claims: Mapping[str, Any]) -> list[str]:
    """Return the Rounds roles the settings map the person's groups claim to, sorted, each once."""
    mapping = role_map_parse(settings.ROUNDS_OIDC_ROLE_MAP)
    groups = claim_values(claims, settings.ROUNDS_OIDC_GROUPS_CLAIM)
    return sorted({role for group in groups for role in mapping.get(group, [])})


def sso_claims(extra_data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the claims of one sign-in: the ID token's, with the userinfo endpoint's over them.

    Raises ValueError when the two name different subjects (OpenID Connect Core 5.3.2).
    """
    id_token = dict(extra_data.get("id_token") or {})
    userinfo = dict(extra_data.get("userinfo") or {})
    if id_token and userinfo and str(id_token.get("sub")) != str(userinfo.get("sub")):
        raise ValueError("userinfo is about another subject than the ID token")
    return {**id_token, **userinfo}


def _username(claims: Mapping[str, Any]) -> str:
    for name in ("preferred_username", "email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:150]
    return ""


def _names(claims: Mapping[str, Any]) -> tuple[str, str]:
    given, family = claims.get("given_name"), claims.get("family_name")
    if isinstance(given, str) or isinstance(family, str):
        return str(given or ""), str(family or "")
    first, _sep, last = str(claims.get("name") or "").partition(" ")
    return first, last


def _refuse(request: HttpRequest, message: str) -> ImmediateHttpResponse:
    return ImmediateHttpResponse(render(request, "account/sso_refused.html", {"message": message}, status=403))


class RoundsSocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]  # allauth ships no py.typed
    """Sign people in through the provider only with a mapped role; create or update them every time."""

    def list_apps(self, request: HttpRequest, provider: str | None = None, client_id: str | None = None) -> list[Any]:
        """Return the providers the settings configure, never rows of allauth's SocialApp table.

        The environment configures single sign-on (calendar_project/settings.py), and the table is
        out of the admin. Reading no table also keeps the login page free of database queries, so it
        stays the health check that answers while the database is down (docs/operations.md).
        """
        apps = _build_apps_from_settings(provider=provider, client_id=client_id)
        return [app for provider_apps in apps.values() for app in provider_apps]

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Create or update the person and their roles from the claims, or refuse the sign-in (403)."""
        try:
            claims = sso_claims(sociallogin.account.extra_data)
        except ValueError as error:
            logger.warning("Single sign-on refused: %s", error)
            raise _refuse(request, _("The sign-in could not be verified.")) from error
        existing: User | None = sociallogin.user if sociallogin.is_existing else None
        if existing is not None and not existing.is_active:
            raise _refuse(request, _("Your Rounds account is deactivated. Ask an administrator."))
        roles = roles_for_claims(claims)
        username = existing.username if existing is not None else _username(claims)
        first_name, last_name = _names(claims)
        email = claims["email"] if isinstance(claims.get("email"), str) else ""
        if not roles and settings.ROUNDS_OIDC_REQUIRE_ROLE:
            if existing is not None:
                # Whoever lost every mapped group loses their roles too, even though they get no further.
                user_sso_sync(
                    user=existing, username=username, email=email, first_name=first_name, last_name=last_name, roles=[]
                )
            logger.warning("Single sign-on refused for %r (subject %s): no mapped group", username, claims.get("sub"))
            raise _refuse(request, _("Your account has no role in Rounds. Ask an administrator to add you to a group."))
        try:
            user = user_sso_sync(
                user=existing, username=username, email=email, first_name=first_name, last_name=last_name, roles=roles
            )
        except (ValidationError, IntegrityError) as error:
            # IntegrityError: the same name created at once by a second sign-in (two tabs, two browsers).
            logger.warning("Single sign-on refused for %r: %s", username, error)
            problems = " ".join(error.messages) if isinstance(error, ValidationError) else ""
            raise _refuse(
                request,
                _("Rounds could not make your account from the provider's details. %(problems)s Ask an administrator.")
                % {"problems": problems},
            ) from error
        if existing is None:
            # Links the provider's subject to the new account; allauth then logs it in as an existing one.
            sociallogin.connect(request, user)
        else:
            sociallogin.user = user

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """Return True: accounts come from the provider (pre_social_login makes them)."""
        return True

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: BaseException | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """Log why the provider's answer was refused (bad signature, issuer, audience, nonce ...) and say so."""
        logger.warning("Single sign-on failed (%s): %r", error, exception)
        raise _refuse(request, _("The sign-in could not be verified. Try again, or ask an administrator."))


def check_sso_settings(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report a role map that cannot be read, a provider without a client or TLS, passwords off with no provider."""
    messages: list[checks.CheckMessage] = []
    try:
        role_map_parse(settings.ROUNDS_OIDC_ROLE_MAP)
    except ImproperlyConfigured as error:
        messages.append(checks.Error(str(error), id="people.E101"))
    if settings.ROUNDS_OIDC_SERVER_URL and not settings.ROUNDS_OIDC_CLIENT_ID:
        messages.append(
            checks.Error("ROUNDS_OIDC_SERVER_URL is set but ROUNDS_OIDC_CLIENT_ID is not.", id="people.E102")
        )
    if (
        settings.ROUNDS_OIDC_SERVER_URL
        and not settings.DEBUG
        and not settings.ROUNDS_OIDC_SERVER_URL.startswith("https://")
    ):
        messages.append(checks.Error("ROUNDS_OIDC_SERVER_URL must be an https:// URL.", id="people.E103"))
    if not settings.ROUNDS_LOCAL_PASSWORDS and not settings.ROUNDS_OIDC_SERVER_URL:
        messages.append(
            checks.Warning(
                "ROUNDS_LOCAL_PASSWORDS is off but no single sign-on provider is set (ROUNDS_OIDC_SERVER_URL): "
                "only superusers can log in.",
                id="people.W101",
            )
        )
    return messages
