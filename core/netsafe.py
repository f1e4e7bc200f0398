"""Where Rounds may connect: public addresses only, and to the very address it checked.

URLs typed by people (an account's webhook, a link in a post) would otherwise make Rounds request
127.0.0.1 or the cloud metadata service at 169.254.169.254. Every URL must resolve to public
addresses only, unless ``ROUNDS_ALLOW_PRIVATE_URLS`` is set (development, tests, an intranet an
operator chose); a request then connects to the address it checked, so a DNS answer that changes
between check and connection (rebinding) cannot send it elsewhere.

It lives in core because publishing (connectors) and posts (link cards) both send, and posts
sits below publishing. The errors here are plain; publishing maps them onto its connector errors.
"""

import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from typing import Any

from django.conf import settings


class NotWebUrl(ValueError):
    """A URL that is not http(s), has no host or an invalid port."""


class AddressRefused(Exception):
    """A URL whose host resolves to a private, loopback, link-local or otherwise non-public address."""

    def __init__(self, *, host: str, addresses: list[str]) -> None:
        super().__init__(
            f"{host} resolves to {', '.join(addresses)}, which is not a public address; Rounds sends only to "
            "public addresses (ROUNDS_ALLOW_PRIVATE_URLS allows others)"
        )
        self.host = host
        self.addresses = addresses


class HostUnresolved(Exception):
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


def host_addresses(host: str, port: int) -> list[str]:
    """Return every address ``host`` resolves to; HostUnresolved if it does not resolve now."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise HostUnresolved(host=host, reason=str(error)) from error
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def web_url_parts(url: str) -> urllib.parse.SplitResult:
    """Return the parts of an http(s) URL with a host; NotWebUrl otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise NotWebUrl(f"not an http(s) URL: {url!r}")
    try:
        parts.port  # noqa: B018  (reading it validates it)
    except ValueError as error:
        raise NotWebUrl(f"not a valid port in {url!r}") from error
    return parts


def url_resolve(url: str) -> tuple[urllib.parse.SplitResult, str]:
    """Return the URL's parts and the address to connect to, after checking where it points.

    Raises NotWebUrl, AddressRefused if any address the host resolves to is not public (unless
    private ones are allowed), HostUnresolved if the name does not resolve now.
    """
    parts = web_url_parts(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    assert parts.hostname is not None  # web_url_parts guarantees it
    addresses = host_addresses(parts.hostname, port)
    if not private_allowed():
        # Every address, not just the first: a name with one public and one private address
        # would otherwise reach the private one whenever the resolver lists it first.
        unsafe = [address for address in addresses if not address_public(address)]
        if unsafe:
            raise AddressRefused(host=parts.hostname, addresses=unsafe)
    return parts, addresses[0]


def url_check(url: str) -> None:
    """Raise as `url_resolve` does if Rounds would not send to ``url``; resolve only where that matters.

    With private addresses allowed, a name need not resolve from here.
    """
    if private_allowed():
        web_url_parts(url)
        return
    url_resolve(url)


def connection_pinned(
    url: str, *, timeout: float, connect_timeout: float | None = None
) -> tuple[http.client.HTTPConnection, str]:
    """Return an unopened connection to the address `url_resolve` checked for ``url``, and the request target.

    ``connect_timeout`` bounds the connection; ``timeout`` every read after it.
    """
    parts, address = url_resolve(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.netloc, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)

    def connect_checked(
        where: tuple[str, int], timeout_: float | None = None, source_address: Any = None
    ) -> socket.socket:
        # The Host header, TLS server name and certificate check keep the name; only the address
        # is the checked one, so a second DNS answer cannot send us elsewhere.
        sock = socket.create_connection(
            (address, where[1]), connect_timeout if connect_timeout is not None else timeout_, source_address
        )
        sock.settimeout(timeout)
        return sock

    connection._create_connection = connect_checked  # type: ignore[attr-defined]
    return connection, target
