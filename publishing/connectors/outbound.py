"""Where connectors may send, and what of their answers may be kept.

An account's URLs (a webhook's ``url``, a client's ``api_base``, ``media_base_url``) are typed by
people, and a platform's answer may name further URLs; left unchecked, the publisher would
request 127.0.0.1 or the cloud metadata service at 169.254.169.254 and store the answer. So
every URL must resolve to public addresses only, unless ``ROUNDS_ALLOW_PRIVATE_URLS`` is set
(development, tests, an intranet receiver an operator chose): checked when an account is saved
and again for every request, which then connects to the very address it checked, so a DNS answer
that changes between check and connection (rebinding) cannot redirect it.

Answers are stored as proof (attempts, takedowns); `secrets_redact` takes out what a platform may
echo back: the account's own credential values, bearer tokens, cookies and token fields.
"""

import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

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
        super().__init__(
            f"{host} resolves to {', '.join(addresses)}, which is not a public address; Rounds sends only to "
            "public addresses (ROUNDS_ALLOW_PRIVATE_URLS allows others)"
        )
        self.host = host
        self.addresses = addresses


class Unresolved(TransientError):
    """A host name that does not resolve (now)."""

    def __init__(self, *, host: str, reason: str) -> None:
        super().__init__(f"could not resolve {host!r}: {reason}")
        self.host = host


def private_allowed() -> bool:
    return bool(getattr(settings, "ROUNDS_ALLOW_PRIVATE_URLS", False))


def address_public(address: str) -> bool:
    """Return whether an IP address is reachable on the public internet (not loopback, private, metadata...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    """Return every address ``host`` resolves to; TransientError if it does not resolve now."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Unresolved(host=host, reason=str(error)) from error
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def url_resolve(url: str) -> tuple[urllib.parse.SplitResult, str]:
    """Return the URL's parts and the address to connect to, after checking where it points.

    Raises UnsafeAddress if any address the host resolves to is not public (unless private ones
    are allowed), PermanentError for a URL that is not http(s), TransientError if the name does
    not resolve now.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentError(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise PermanentError(f"not a valid port in {url!r}") from error
    addresses = _addresses(parts.hostname, port)
    if not private_allowed():
        # Every address, not just the first: a name with one public and one private address
        # would otherwise reach the private one whenever the resolver lists it first.
        unsafe = [address for address in addresses if not address_public(address)]
        if unsafe:
            raise UnsafeAddress(host=parts.hostname, addresses=unsafe)
    return parts, addresses[0]


def url_check(url: str) -> None:
    """Raise as `url_resolve` does if Rounds would not send to ``url``; resolve only where that matters.

    For URLs Rounds does not request itself (``media_base_url``, fetched by the platform) and for
    saving: with private addresses allowed, a name need not resolve from here.
    """
    if private_allowed():
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise PermanentError(f"not an http(s) URL: {url!r}")
        return
    url_resolve(url)


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
