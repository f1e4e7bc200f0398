"""Link cards: what a linked page says about itself (title, description, image), fetched in the background.

A feed shows a link as a card with the page's Open Graph title and image; the preview shows the
same once a django-q2 task has fetched the page. Fetching is guarded like every outbound request
of Rounds (`core.netsafe`: public addresses only, connected to the checked address, every
redirect checked again), bounded in time and size, sends no cookies or credentials, and never
runs in a request: views and services only ask for a card (`linkcard_request`).

A card is not part of a post: not of its revisions, not of the content hash reviewers approve
(docs/architecture.md), and fetching it writes no audit event.
"""

import datetime as dt
import hashlib
import http.client
import io
import re
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from core import netsafe
from core.imaging import image_process
from core.tasks import enqueue_after_commit
from posts import platforms
from posts.models import LinkCard, LinkCardStatus, linkcard_upload_to

USER_AGENT = "Rounds link preview"
CONNECT_TIMEOUT = 3.0  # seconds to open a connection
TOTAL_TIMEOUT = 8.0  # seconds for one GET, redirects and reading included
MAX_REDIRECTS = 3
HTML_MAX_BYTES = 512 * 1024  # a page's head is in its first kilobytes; the rest is not read
IMAGE_MAX_BYTES = 5 * 1024 * 1024
URL_MAX = 2048
_READ_CHUNK = 64 * 1024
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# A card being fetched is not asked for again within this time; a failed one is tried again after FAILED_RETRY.
PENDING_GRACE = dt.timedelta(minutes=2)
FAILED_RETRY = dt.timedelta(hours=1)


class FetchRefused(Exception):
    """A page or image Rounds did not (or could not) fetch; the message says why, in English for the log."""


# Which link a card is for ----------------------------------------------------------------------


def link_normalise(raw: str) -> str:
    """Return ``raw`` as an http(s) URL a card may be fetched for, or "" (no host, credentials, too long)."""
    url = raw.strip().rstrip(platforms._URL_TRAILING)
    if url.lower().startswith("www."):
        url = "https://" + url
    if len(url) > URL_MAX:
        return ""
    try:
        parts = netsafe.web_url_parts(url)
    except netsafe.NotWebUrl:
        return ""
    # A user:password@ in a link is never sent anywhere, and would be the Host header otherwise.
    if parts.username is not None or parts.password is not None:
        return ""
    return urllib.parse.urlunsplit(parts._replace(fragment=""))


def card_link(*, link: str, body: str) -> str:
    """Return the URL a feed makes a card of: the post's link, else the first link in its text ("" if none)."""
    if link.strip():
        return link_normalise(link)
    match = platforms._URL.search(body)
    return link_normalise(match.group()) if match else ""


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def cards_for(urls: Iterable[str]) -> dict[str, LinkCard]:
    """Return the stored cards of these URLs by URL, in one query."""
    hashes = {url_hash(url): url for url in urls if url}
    if not hashes:
        return {}
    return {hashes[card.url_hash]: card for card in LinkCard.objects.filter(url_hash__in=hashes)}


# Asking for a card -----------------------------------------------------------------------------


def _over_rate(user_id: int) -> bool:
    """Count one new fetch against the user's window; True once the window's allowance is spent."""
    key = f"posts.linkcards.rate.{user_id}"
    cache.add(key, 0, settings.ROUNDS_LINKCARD_RATE_WINDOW)
    try:
        return cache.incr(key) > settings.ROUNDS_LINKCARD_RATE
    except ValueError:  # the window ended between add and incr
        return False


def _due(card: LinkCard, now: dt.datetime) -> bool:
    """Return whether a stored card should be fetched again now."""
    if card.status == LinkCardStatus.PENDING:
        return card.requested_at < now - PENDING_GRACE
    if card.status == LinkCardStatus.FAILED:
        return card.requested_at < now - FAILED_RETRY
    return card.fetched_at is None or card.fetched_at < now - dt.timedelta(days=settings.ROUNDS_LINKCARD_DAYS)


def linkcard_request(*, url: str, user_id: int | None = None) -> bool:
    """Queue a fetch of ``url``'s card unless one is fresh or under way; return whether one was queued.

    ``user_id`` (the editor typing) is rate-limited; saving a post is not. Never fetches itself.
    """
    url = link_normalise(url)
    if not url or not settings.ROUNDS_LINKCARDS_FETCH:
        return False
    now = timezone.now()
    digest = url_hash(url)
    card = LinkCard.objects.filter(url_hash=digest).first()
    if card is not None and not _due(card, now):
        return False
    if user_id is not None and _over_rate(user_id):
        return False
    if card is None:
        card, created = LinkCard.objects.get_or_create(url_hash=digest, defaults={"url": url, "requested_at": now})
        if not created:
            return False  # someone else asked a moment ago
    # Compare and set: of two people asking at once, one queues the fetch.
    elif not LinkCard.objects.filter(pk=card.pk, requested_at=card.requested_at).update(requested_at=now):
        return False
    enqueue_after_commit("posts.linkcards.linkcard_fetch_task", card_id=card.pk)
    return True


def linkcards_purge() -> int:
    """Delete cards nobody asked for within ROUNDS_LINKCARD_DAYS, with their images; return how many."""
    cutoff = timezone.now() - dt.timedelta(days=settings.ROUNDS_LINKCARD_DAYS)
    old = list(LinkCard.objects.filter(requested_at__lt=cutoff))
    for card in old:
        if card.image:
            card.image.delete(save=False)
    return LinkCard.objects.filter(pk__in=[card.pk for card in old]).delete()[0]


# Fetching --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """One answer read: the URL it came from after redirects, its media type, charset and (cut) body."""

    url: str
    media_type: str
    charset: str
    body: bytes
    cut: bool


def _refused(error: Exception) -> FetchRefused:
    if isinstance(error, TimeoutError):
        return FetchRefused("timed out")
    return FetchRefused(str(error) or error.__class__.__name__)


def http_get(url: str, *, accept: str, media_types: frozenset[str] | None, max_bytes: int) -> Fetched:
    """Return the answer to a GET of ``url``, following at most MAX_REDIRECTS checked redirects.

    Reads at most ``max_bytes`` (the body is cut there) within TOTAL_TIMEOUT. Raises FetchRefused
    for an unsafe address, a status other than 200, a media type not in ``media_types``, a
    timeout or a broken connection.
    """
    deadline = time.monotonic() + TOTAL_TIMEOUT
    for _hop in range(MAX_REDIRECTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRefused("timed out")
        try:
            connection, target = netsafe.connection_pinned(
                url, timeout=remaining, connect_timeout=min(CONNECT_TIMEOUT, remaining)
            )
        except (netsafe.NotWebUrl, netsafe.AddressRefused, netsafe.HostUnresolved) as error:
            raise FetchRefused(str(error)) from error
        try:
            # No cookies, no credentials, no compression (the size limit counts what is read).
            connection.request(
                "GET", target, headers={"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"}
            )
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location", "")
                if not location:
                    raise FetchRefused(f"HTTP {response.status} without a Location")
                url = link_normalise(urllib.parse.urljoin(url, location))
                if not url:
                    raise FetchRefused("redirected to an address that is not http(s)")
                continue
            if response.status != 200:
                raise FetchRefused(f"HTTP {response.status}")
            header = Message()
            header["Content-Type"] = response.getheader("Content-Type", "")
            media_type = header.get_content_type()
            if media_types is not None and media_type not in media_types:
                raise FetchRefused(f"not HTML but {media_type}")
            body, cut = _read_bounded(response, connection, max_bytes=max_bytes, deadline=deadline)
            return Fetched(url, media_type, str(header.get_param("charset") or ""), body, cut)
        except (OSError, http.client.HTTPException) as error:
            raise _refused(error) from error
        finally:
            connection.close()
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def _read_bounded(
    response: http.client.HTTPResponse, connection: http.client.HTTPConnection, *, max_bytes: int, deadline: float
) -> tuple[bytes, bool]:
    """Return at most ``max_bytes`` of the body and whether more was left; TimeoutError after the deadline."""
    buffer = bytearray()
    while len(buffer) < max_bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if connection.sock is not None:
            # Each read waits only as long as the whole GET has left: a server sending a byte a
            # second cannot hold the worker past TOTAL_TIMEOUT.
            connection.sock.settimeout(remaining)
        chunk = response.read(min(_READ_CHUNK, max_bytes - len(buffer)))
        if not chunk:
            return bytes(buffer), False
        buffer += chunk
    return bytes(buffer), bool(response.read(1))


# Parsing ---------------------------------------------------------------------------------------


class _HeadParser(HTMLParser):
    """Collect the first value of every <meta property|name> and the first <title>'s text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title_parts: list[str] = []
        self._in_title = False
        self._title_seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])
        elif tag == "title" and not self._title_seen:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_seen = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)


@dataclass(frozen=True)
class PageCard:
    """What a page says about itself, as a card shows it."""

    title: str = ""
    description: str = ""
    site_name: str = ""
    image_url: str = ""


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode(fetched: Fetched) -> str:
    charset = fetched.charset
    if not charset:
        found = _META_CHARSET.search(fetched.body[:4096])
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return fetched.body.decode(charset, errors="replace")
    except LookupError:
        return fetched.body.decode("utf-8", errors="replace")


def _clean(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def page_parse(html: str, *, base_url: str) -> PageCard:
    """Return the card of a page: Open Graph first, then twitter:*, then <title> and the description meta."""
    parser = _HeadParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        pass  # what was read before the broken markup still counts
    meta = parser.meta

    def first(*keys: str) -> str:
        return next((meta[key].strip() for key in keys if meta.get(key, "").strip()), "")

    image = first("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
    return PageCard(
        title=_clean(first("og:title", "twitter:title") or "".join(parser.title_parts), 300),
        description=_clean(first("og:description", "twitter:description", "description"), 1000),
        site_name=_clean(first("og:site_name", "application-name"), 200),
        image_url=link_normalise(urllib.parse.urljoin(base_url, image)) if image else "",
    )


# The task --------------------------------------------------------------------------------------


def linkcard_fetch(*, card: LinkCard) -> LinkCard:
    """Fetch the card's page (and image) and store what it says, or why it failed; returns the card."""
    try:
        page = http_get(
            card.url, accept="text/html,application/xhtml+xml", media_types=_HTML_TYPES, max_bytes=HTML_MAX_BYTES
        )
    except FetchRefused as error:
        LinkCard.objects.filter(pk=card.pk).update(
            status=LinkCardStatus.FAILED, reason=str(error)[:300], fetched_at=timezone.now()
        )
        card.refresh_from_db()
        return card
    parsed = page_parse(_decode(page), base_url=page.url)
    storage = LinkCard._meta.get_field("image").storage
    image_name, width, height, reason = "", None, None, ""
    if parsed.image_url:
        try:
            image = http_get(parsed.image_url, accept="image/*", media_types=None, max_bytes=IMAGE_MAX_BYTES + 1)
            processed = image_process(upload=io.BytesIO(image.body), max_bytes=IMAGE_MAX_BYTES)
        except (FetchRefused, ValidationError) as error:
            # A card without its image is still a card; the reason says what was wrong with it.
            reason = f"image: {getattr(error, 'message', None) or error}"[:300]
        else:
            name = linkcard_upload_to(card, f"card.{processed.thumbnail_extension}")
            image_name = storage.save(name, ContentFile(processed.thumbnail))
            width, height = processed.width, processed.height
    old_image = card.image.name if card.image else ""
    LinkCard.objects.filter(pk=card.pk).update(
        status=LinkCardStatus.OK,
        reason=reason,
        final_url=page.url[:2048],
        title=parsed.title,
        description=parsed.description,
        site_name=parsed.site_name,
        image=image_name,
        image_width=width,
        image_height=height,
        fetched_at=timezone.now(),
    )
    if old_image:
        storage.delete(old_image)
    card.refresh_from_db()
    return card


def linkcard_fetch_task(*, card_id: int) -> None:
    """django-q2 task: fetch one card; a card deleted meanwhile is nothing to do."""
    card = LinkCard.objects.filter(pk=card_id).first()
    if card is not None:
        linkcard_fetch(card=card)
