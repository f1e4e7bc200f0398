"""Password logins, refused while ROUNDS_LOCAL_PASSWORDS is off (single sign-on only)."""

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from people import rights
from people.models import User


def password_login_allowed(user: User) -> bool:
    """Return whether ``user`` may log in with a password: always, unless local passwords are off.

    Then only a superuser may, while ROUNDS_SUPERUSER_PASSWORDS is on: the way in when the
    provider is down (docs/security.md#single-sign-on-openid-connect).
    """
    if settings.ROUNDS_LOCAL_PASSWORDS:
        return True
    return user.is_superuser and settings.ROUNDS_SUPERUSER_PASSWORDS


class LocalPasswordBackend(ModelBackend):
    """Django's ModelBackend, checking passwords only for people ``password_login_allowed`` lets in.

    Only ``authenticate`` refuses: sessions (``get_user``) and permissions stay as they are, so a
    person signed in through the provider stays signed in.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or not password_login_allowed(user):
            return None
        return user


class AllauthLocalPasswordBackend(AuthenticationBackend):  # type: ignore[misc]  # allauth ships no py.typed
    """allauth's backend (username or e-mail and password), with the same refusal as LocalPasswordBackend.

    For when allauth's account views run the login page: it takes ModelBackend's place in
    AUTHENTICATION_BACKENDS, so no backend there checks a password without the policy.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> User | None:
        user: User | None = super().authenticate(request, **credentials)
        if user is None or not password_login_allowed(user):
            return None
        return user

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        # The permissions every page asks about, kept until the next state change (people.rights):
        # where ModelBackend reads the user's and their roles' permissions in two queries a request.
        # Asked each time: the memo drops ModelBackend's own cache when someone's rights changed.
        if obj is None and user_obj.is_active and not user_obj.is_anonymous:
            user_obj._perm_cache = rights.kept(
                user_obj, "permissions", lambda: ModelBackend.get_all_permissions(self, user_obj)
            )
        return super().get_all_permissions(user_obj, obj)  # type: ignore[no-any-return]
