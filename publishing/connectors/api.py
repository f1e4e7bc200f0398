"""What the platform API clients share: credentials, the base URL, authorised requests, polling, lookup.

Each platform module subclasses `ApiConnector`, declares its credential keys and default host,
says how the platform words its errors (`message_of`, `classify`), and implements publish,
lookup and delete. Base URLs come from the account's credentials (``api_base``), with the real
hosts as defaults, so tests point a client at a local fake platform.
"""

import json as json_module
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import quote

from publishing.connectors.base import (
    AccountRef,
    ConnectorError,
    Deletion,
    MediaRef,
    PermanentError,
    Result,
    TransientError,
    platform_time_of,
)
from publishing.connectors.credentials import CredentialKey, credentials_require
from publishing.connectors.http import Answer, HttpClient, error_for, form_body, json_body, url_with
from publishing.connectors.marker import carries
from publishing.connectors.messages import (
    EXISTENCE_UNKNOWN,
    FILE_NOT_IN_MEDIA,
    MEDIA_NEEDS_PUBLIC_URL,
    MEDIA_UNREADABLE,
)
from publishing.connectors.outbound import url_check

JSON = "application/json; charset=UTF-8"
FORM = "application/x-www-form-urlencoded"


class ApiConnector:
    """The shared half of a platform API client (subclasses keep `publishing.connectors.base.Connector`)."""

    platform: ClassVar[str]
    default_base: ClassVar[str]
    credential_keys: ClassVar[tuple[CredentialKey, ...]]

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        media_root: Path | str | None = None,
        poll_interval: float = 2.0,
        poll_seconds: float = 60.0,
    ) -> None:
        self.http = HttpClient(timeout=timeout)
        self.media_root = Path(media_root) if media_root else None
        self.poll_interval = poll_interval
        self.poll_seconds = poll_seconds

    # Credentials and URLs ------------------------------------------------------------------

    def credentials(self, account: AccountRef) -> dict[str, str]:
        """Return the account's credentials as strings; PermanentError naming any missing key."""
        credentials_require(platform=self.platform, keys=self.credential_keys, credentials=account.credentials)
        return {name: str(value) for name, value in account.credentials.items() if value is not None}

    def base(self, credentials: Mapping[str, str]) -> str:
        return (credentials.get("api_base") or self.default_base).rstrip("/")

    def auth_headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """Return the headers that authorise a request (a bearer token unless a platform says otherwise)."""
        return {"Authorization": f"Bearer {credentials['access_token']}"}

    def public_url(self, media: MediaRef, credentials: Mapping[str, str]) -> str:
        """Return where the platform can fetch ``media`` (for APIs that pull files instead of taking uploads)."""
        base = credentials.get("media_base_url", "").rstrip("/")
        if not base:
            raise PermanentError(MEDIA_NEEDS_PUBLIC_URL.english(platform=self.platform))
        # The platform fetches from there, on our word: never point it at an internal address.
        url_check(base)
        path = Path(media.path)
        if self.media_root is None or not path.is_relative_to(self.media_root):
            raise PermanentError(FILE_NOT_IN_MEDIA.english(name=path.name))
        return f"{base}/{quote(path.relative_to(self.media_root).as_posix())}"

    # Requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        credentials: Mapping[str, str],
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        body: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = False,
        accept: Iterable[int] = (),
    ) -> Answer:
        """Send one authorised request; return a 2xx answer (or one in ``accept``), else raise its error."""
        sent_headers = {**self.auth_headers(credentials), **(headers or {})}
        if json is not None:
            body = json_body(json)
            sent_headers.setdefault("Content-Type", JSON)
        elif form is not None:
            body = form_body(form)
            sent_headers.setdefault("Content-Type", FORM)
        answer = self.http.call(
            method,
            url_with(self.base(credentials), path, query),
            body=body,
            headers=sent_headers,
            repeatable=repeatable,
        )
        if answer.ok or answer.status in set(accept):
            return answer
        raise self.classify(answer)

    def message_of(self, answer: Answer) -> str:
        """Return the platform's own words for an error answer."""
        return answer.excerpt[:200]

    def classify(self, answer: Answer) -> ConnectorError:
        """Return the error an unsuccessful answer means (platforms with their own signals override)."""
        return error_for(answer, message=self.message_of(answer))

    # Waiting and finding -------------------------------------------------------------------

    def poll(self, check: Callable[[], Any], *, done: Callable[[Any], bool]) -> Any:
        """Call ``check`` until ``done`` says its value is final or ``poll_seconds`` ran out; return the last value."""
        deadline = time.monotonic() + self.poll_seconds
        while True:
            value = check()
            if done(value) or time.monotonic() + self.poll_interval > deadline:
                return value
            time.sleep(self.poll_interval)

    @staticmethod
    def find(
        items: Iterable[Mapping[str, Any]],
        key: str,
        *,
        texts: tuple[str, ...],
        result: Callable[[Mapping[str, Any]], Result],
    ) -> Result | None:
        """Return the result of the first item one of whose ``texts`` fields carries the marker of ``key``."""
        for item in items:
            if any(carries(item.get(field), key) for field in texts):
                return result(item)
        return None

    def recent(
        self,
        method: str,
        path: str,
        *,
        credentials: Mapping[str, str],
        query: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Answer:
        """Read a listing of recent posts for a lookup; a refusal means "cannot tell", never "not there"."""
        try:
            return self.request(method, path, credentials=credentials, query=query, json=json, repeatable=True)
        except PermanentError as error:
            raise self.unsure(error) from error

    @staticmethod
    def unsure(error: ConnectorError) -> TransientError:
        """Return a lookup failure as "cannot tell" (the publication waits; nothing is sent again)."""
        return TransientError(EXISTENCE_UNKNOWN.english(error=error.message), response_excerpt="")

    def delete(self, *, account: AccountRef, external_id: str) -> bool:
        return self.delete_with_proof(account=account, external_id=external_id).deleted

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        raise NotImplementedError


def listed(item: Mapping[str, Any], *, external_id: str, url: str) -> Result:
    """Return a post found in a listing, with the listing's entry as the excerpt."""
    return Result(
        external_id=external_id,
        url=url,
        response_excerpt=json_module.dumps(dict(item))[:500],
        published_at=platform_time_of(dict(item)),
    )


def not_deletable(platform: str) -> Deletion:
    """Return the answer of a platform whose API cannot delete posts."""
    return Deletion(deleted=False, response_excerpt=f"{platform}: the API offers no way to delete a post")


def read_file(media: MediaRef) -> bytes:
    """Return a media file's bytes; PermanentError if it is gone."""
    try:
        return Path(media.path).read_bytes()
    except OSError as error:
        raise PermanentError(MEDIA_UNREADABLE.english(name=Path(media.path).name, error=error)) from error
