"""Which credential keys a connector needs, checked before any call and shown in the account admin."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from publishing.connectors.base import PermanentError


@dataclass(frozen=True)
class CredentialKey:
    """One key of an account's credentials: its name, what it holds, whether it must be there, whether it is a URL.

    A URL key must point at public addresses (`publishing.connectors.outbound`), checked on save.
    """

    name: str
    help: str | Promise
    required: bool = True
    url: bool = False


def api_base_key(default: str) -> CredentialKey:
    """Return the optional key that points a platform client at another host (a test or a proxy)."""
    return CredentialKey(
        "api_base",
        gettext_lazy("Base URL of the API; default %(default)s.") % {"default": default},
        required=False,
        url=True,
    )


def credentials_missing(keys: tuple[CredentialKey, ...], credentials: Mapping[str, Any]) -> list[str]:
    """Return the names of the required keys that are missing or empty."""
    return [key.name for key in keys if key.required and not str(credentials.get(key.name) or "").strip()]


def credentials_require(*, platform: str, keys: tuple[CredentialKey, ...], credentials: Mapping[str, Any]) -> None:
    """Raise PermanentError naming every required key the credentials lack."""
    missing = credentials_missing(keys, credentials)
    if missing:
        raise PermanentError(
            f"the {platform} account's credentials lack {', '.join(repr(name) for name in missing)} "
            f"(needed: {', '.join(key.name for key in keys if key.required)})"
        )
