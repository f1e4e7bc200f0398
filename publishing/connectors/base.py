"""The contract every connector keeps, and the plain values it takes and returns."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class AccountRef:
    """The account a connector publishes to, as plain values (credentials decrypted)."""

    platform: str
    handle: str
    credentials: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaRef:
    """One image or video file to upload, with its alt text."""

    path: str
    alt_text: str
    kind: str = "photo"


@dataclass(frozen=True)
class Payload:
    """What goes out: the text as composed for the platform, and its parts."""

    text: str
    link: str = ""
    title: str = ""
    hashtags: tuple[str, ...] = ()
    media: tuple[MediaRef, ...] = ()
    language: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "link": self.link,
            "title": self.title,
            "hashtags": list(self.hashtags),
            "media": [{"path": item.path, "alt_text": item.alt_text, "kind": item.kind} for item in self.media],
            "language": self.language,
        }


@dataclass(frozen=True)
class Result:
    """The platform's id and URL of a published post, and the start of its answer.

    ``published_at``: when the platform says the post was created, if it says (aware datetime).
    """

    external_id: str
    url: str = ""
    response_excerpt: str = ""
    published_at: dt.datetime | None = None


# Names platforms give the creation time of a post, in listings and answers.
TIME_FIELDS = ("published_at", "created_time", "created_at", "createdAt", "create_time", "timestamp", "publishedAt")


def platform_time(value: Any) -> dt.datetime | None:
    """Read a platform's time of creation: ISO 8601 (``Z`` or ``+0000`` too) or Unix seconds/ms; None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 100_000_000_000 else value
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = f"{text[:-2]}:{text[-2:]}"
        parsed = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo is not None else None


def platform_time_of(data: Any) -> dt.datetime | None:
    """Return the first readable creation time among ``TIME_FIELDS`` of a platform's JSON object."""
    if not isinstance(data, dict):
        return None
    for name in TIME_FIELDS:
        if (found := platform_time(data.get(name))) is not None:
            return found
    return None


@dataclass(frozen=True)
class Deletion:
    """What a delete call did: whether the post is gone, and the start of the platform's answer as proof."""

    deleted: bool
    response_excerpt: str = ""


class ConnectorError(Exception):
    """Base of the errors a connector raises; ``response_excerpt`` keeps the start of the answer."""

    def __init__(self, message: str, *, response_excerpt: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.response_excerpt = response_excerpt[:500]


class TransientError(ConnectorError):
    """Nothing was published; trying again later may work (5xx, 429, no connection)."""

    def __init__(self, message: str, *, retry_after: float | None = None, response_excerpt: str = "") -> None:
        super().__init__(message, response_excerpt=response_excerpt)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """The platform refused the post; trying again will not help (4xx other than 429)."""


class UnknownOutcome(ConnectorError):
    """The request may have reached the platform (timeout after sending, dropped connection)."""


class Connector(Protocol):
    """Publish, find and delete posts on one kind of platform."""

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        """Publish ``payload``; return its id and URL, or raise one of the errors above."""
        ...

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        """Return the post published with ``key``, None if there is none; raise TransientError if unsure."""
        ...

    def delete(self, *, account: AccountRef, external_id: str) -> bool:
        """Delete a published post; return False where the platform does not allow it."""
        ...


@runtime_checkable
class DeletesWithProof(Protocol):
    """A connector whose delete also returns the platform's answer, kept as proof of a takedown."""

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        """Delete a published post; ``deleted`` is False where the platform does not allow it."""
        ...
