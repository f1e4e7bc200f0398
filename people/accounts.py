"""How django-allauth treats Rounds' people: accounts come from Governance, nobody signs up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from people.models import User
from people.services import user_own_password_set


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Return False: Governance creates every account (people.admin)."""
        return False

    def set_password(self, user: User, password: str) -> None:
        """Set the password through the people services, so the change is an audit event."""
        user_own_password_set(user=user, password=password)
