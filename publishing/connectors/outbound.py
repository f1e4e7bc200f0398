"""Where connectors may send, and what of their answers may be kept.

An account's URLs (a webhook's ``url``, a client's ``api_base``, ``media_base_url``) are typed by
people, and a platform's answer may name further URLs; left unchecked, the publisher would
request 127.0.0.1 or the cloud metadata service at 169.254.169.254 and store the answer. So
every URL must resolve to public addresses only, unless ``ROUNDS_ALLOW_PRIVATE_URLS`` is set
(development, tests, an intranet receiver an operator chose): checked when an account is saved
and again for every request, which then connects to the very address it checked, so a DNS answer
that changes between check and connection (rebinding) cannot redirect it.

The address checks themselves live in `core.netsafe` (link cards of posts use them too); this
module keeps the connector-facing names and maps refusals onto connector errors.

Answers are stored as proof (attempts, takedowns); `secrets_redact` takes out what a platform may
echo back: the account's own credential values, bearer tokens, cookies and token fields.
"""

import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from core import netsafe
from publishing.connectors.base import PermanentError, TransientError

REDACTED = "[redacted]"
# Credential values shorter than this (a page id of "1", a flag) would redact ordinary words.
_MIN_SECRET = 6

_HEADER_LINE = re.compile(
    r"(?im)^((?:proxy-)?authorization|(?:set-)?cookie|x-api-key|x-auth-token|x-rounds-signature)(\s*:\s*)[^\r\n]*"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic|oauth)(\s+)[A-Za-z0-9._~+/=-]{6,}")
_TOKEN_FIELD = re.compile(
    r"""(?ix)
    (["']?\b(?:access_token|refresh_token|id_token|token|client_secret|secret|password|api_key|apikey
        |oauth_token|oauth_token_secret|signature|sig|session|sessionid|csrftoken)["']?\s*[:=]\s*["']?)
    ([^"'&\s,;}]+)
    """
)


class UnsafeAddress(PermanentError):
    """A URL that resolves to a private, loopback, link-local or otherwise non-public address."""

    def __init__(self, *, host: str, addresses: list[str]) -> None:
        super().__init__(str(netsafe.AddressRefused(host=host, addresses=addresses)))
        self.host = host
        self.addresses = addresses


class Unresolved(TransientError):
    """A host name that does not resolve (now)."""

    def __init__(self, *, host: str, reason: str) -> None:
        super().__init__(f"could not resolve {host!r}: {reason}")
        self.host = host


private_allowed = netsafe.private_allowed
address_public = netsafe.address_public


@contextmanager
def _as_connector_errors() -> Iterator[None]:
    """Raise core.netsafe's refusals as the connector errors SPEC section 5 classifies."""
    try:
        yield
    except netsafe.AddressRefused as error:
        raise UnsafeAddress(host=error.host, addresses=error.addresses) from error
    except netsafe.HostUnresolved as error:
        raise Unresolved(host=error.host, reason=str(error.__cause__ or error)) from error
    except netsafe.NotWebUrl as error:
        raise PermanentError(str(error)) from error


def url_resolve(url: str) -> tuple[urllib.parse.SplitResult, str]:
    """Return the URL's parts and the address to connect to, after checking where it points.

    Raises UnsafeAddress if any address the host resolves to is not public (unless private ones
    are allowed), PermanentError for a URL that is not http(s), TransientError if the name does
    not resolve now.
    """
    with _as_connector_errors():
        return netsafe.url_resolve(url)


def url_check(url: str) -> None:
    """Raise as `url_resolve` does if Rounds would not send to ``url``; resolve only where that matters.

    For URLs Rounds does not request itself (``media_base_url``, fetched by the platform) and for
    saving: with private addresses allowed, a name need not resolve from here.
    """
    with _as_connector_errors():
        netsafe.url_check(url)


def url_problem(url: str) -> str:
    """Return, in the user's language, why Rounds would not send to ``url``, or ""."""
    try:
        url_check(url)
    except UnsafeAddress as error:
        return _(
            "%(host)s resolves to %(addresses)s, which is not a public address. Rounds sends only to public "
            "addresses unless ROUNDS_ALLOW_PRIVATE_URLS is set"
        ) % {"host": error.host, "addresses": ", ".join(error.addresses)}
    except Unresolved as error:
        return _("the host %(host)s cannot be found") % {"host": error.host}
    except PermanentError:
        return _("this is not an http or https address")
    return ""


def secrets_redact(text: str, *, credentials: Mapping[str, Any] | None = None) -> str:
    """Return ``text`` without the account's credential values, authorisation headers, cookies and token fields."""
    if not text:
        return text
    for value in _secret_values((credentials or {}).values()):
        for form in {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}:
            text = text.replace(form, REDACTED)
    text = _HEADER_LINE.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
    return _TOKEN_FIELD.sub(lambda match: f"{match.group(1)}{REDACTED}", text)


def _secret_values(values: Iterable[Any]) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, Mapping):
            found.extend(_secret_values(value.values()))
        elif isinstance(value, list | tuple):
            found.extend(_secret_values(value))
        elif value is not None and not isinstance(value, bool) and len(str(value)) >= _MIN_SECRET:
            found.append(str(value))
    # Longest first, so a value that contains another is replaced whole.
    return sorted(set(found), key=len, reverse=True)
