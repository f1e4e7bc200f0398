"""How django-allauth treats Rounds' people: accounts come from Governance, nobody signs up."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

from core.crypto import fernet
from people.models import User
from people.services import user_own_password_set


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Return False: Governance creates every account (people.admin)."""
        return False

    def set_password(self, user: User, password: str) -> None:
        """Set the password through the people services, so the change is an audit event."""
        user_own_password_set(user=user, password=password)


# How a two-factor secret is stored once encrypted; one stored before encryption was on has no prefix.
_ENCRYPTED = "fernet:"


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]  # allauth is untyped
    """Two-factor secrets (the authenticator app's key) are stored encrypted, as platform credentials are."""

    def encrypt(self, text: str) -> str:
        """Return ``text`` encrypted with ROUNDS_CREDENTIALS_KEYS; plain only while debugging without keys."""
        if not settings.ROUNDS_CREDENTIALS_KEYS and settings.DEBUG:
            return text
        return _ENCRYPTED + fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        """Return the stored secret in clear (one stored before encryption came as it is)."""
        if not encrypted_text.startswith(_ENCRYPTED):
            return encrypted_text
        return fernet().decrypt(encrypted_text.removeprefix(_ENCRYPTED).encode()).decode()
