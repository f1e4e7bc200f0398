"""HTTP for every connector: one request on the standard library's ``http.client``, and what its answer means.

``http.client`` tells a connection that failed before the request was complete (nothing reached
the server: retry) from one that failed while waiting for the answer (the server may have acted:
outcome unknown). Requests that change nothing when repeated (reads, status queries, uploads
that publish nothing yet) say so with ``repeatable=True``: a lost answer is then just a
temporary error.

Classification of an answer that is not 2xx: 408, 429 and 5xx are temporary (``Retry-After`` or
``x-rate-limit-reset`` say when to come back); other 4xx are permanent, with the platform's own
message. Platforms that signal limits differently (the Graph API answers 400 with an error code)
classify in their module before falling back to `error_for`.
"""

import base64
import datetime as dt
import email.utils
import http.client
import json
import mimetypes
import socket
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, Protocol

from publishing.connectors.base import ConnectorError, PermanentError, TransientError, UnknownOutcome
from publishing.connectors.messages import HTTP_STATUS, NO_ANSWER_REPEATABLE, REQUEST_NOT_SENT
from publishing.connectors.outbound import url_resolve

EXCERPT = 500
# Lists of recent posts can be long; nothing we read is larger.
READ_LIMIT = 4 * 1024 * 1024
TRANSIENT_STATUSES = frozenset({408, 429})


class Headers(Protocol):
    """An answer's headers as read here: ``get`` by name (http.client's HTTPMessage; a dict in tests)."""

    def get(self, name: str) -> str | None: ...


def retry_after_seconds(headers: Headers, *, now: float | None = None) -> float | None:
    """Return how long the server asked us to wait (Retry-After, x-rate-limit-reset), if it said."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                return max(0.0, when.timestamp() - now)
    reset = headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def is_transient(status: int) -> bool:
    """Return whether an HTTP status means "try again later" (408, 429, 5xx)."""
    return status in TRANSIENT_STATUSES or status >= 500


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers and the (decoded) body."""

    status: int
    headers: Headers
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def excerpt(self) -> str:
        return self.text[:EXCERPT]

    def json(self) -> dict[str, Any]:
        """Return the body as a JSON object, or {} when it is empty or not an object."""
        try:
            data = json.loads(self.text) if self.text.strip() else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def header(self, name: str) -> str:
        return str(self.headers.get(name) or "")


def error_for(answer: Answer, *, message: str, retry_after: float | None = None) -> ConnectorError:
    """Return the error an unsuccessful answer means: temporary (408/429/5xx) or permanent."""
    text = HTTP_STATUS.english(status=answer.status, message=message or answer.excerpt[:200])
    if is_transient(answer.status):
        wait = retry_after if retry_after is not None else retry_after_seconds(answer.headers)
        return TransientError(text, retry_after=wait, response_excerpt=answer.excerpt)
    return PermanentError(text, response_excerpt=answer.excerpt)


class HttpClient:
    """Send one request at a time; raise TransientError or UnknownOutcome when no answer came."""

    def __init__(self, *, timeout: float = 10.0, user_agent: str = "Rounds publisher") -> None:
        self.timeout = timeout
        self.user_agent = user_agent

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str]:
        """Return a connection pinned to the address `url_resolve` checked, and the request target."""
        parts, address = url_resolve(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context()
            connection = http.client.HTTPSConnection(parts.netloc, timeout=self.timeout, context=context)
        else:
            connection = http.client.HTTPConnection(parts.netloc, timeout=self.timeout)

        def connect_checked(
            where: tuple[str, int], timeout: float | None = None, source_address: Any = None
        ) -> socket.socket:
            # The Host header, TLS server name and certificate check keep the name; only the
            # address is the checked one, so a second DNS answer cannot send us elsewhere.
            return socket.create_connection((address, where[1]), timeout, source_address)

        connection._create_connection = connect_checked  # type: ignore[attr-defined]
        return connection, target

    def call(
        self,
        method: str,
        url: str,
        *,
        body: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = False,
    ) -> Answer:
        """Send one request and return the answer, whatever its status.

        Raises TransientError if the request never left (or, with ``repeatable``, if its answer
        was lost), UnknownOutcome if it was sent and no answer came.
        """
        connection, target = self._connection(url)
        try:
            try:
                connection.connect()
                connection.request(
                    method, target, body=body, headers={"User-Agent": self.user_agent, **(headers or {})}
                )
            except OSError as error:
                # Nothing complete reached the server: it cannot have acted on a partial request.
                raise TransientError(REQUEST_NOT_SENT.english(error=error)) from error
            try:
                response = connection.getresponse()
                text = response.read(READ_LIMIT).decode("utf-8", errors="replace")
            except (OSError, http.client.HTTPException) as error:
                if repeatable:
                    raise TransientError(NO_ANSWER_REPEATABLE.english(error=repr(error))) from error
                raise UnknownOutcome(f"no answer after sending: {error!r}") from error
            return Answer(status=response.status, headers=response.headers, text=text)
        finally:
            connection.close()


# Bodies and URLs ------------------------------------------------------------------------------


def json_body(document: Any) -> bytes:
    """Return ``document`` as compact UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def form_body(fields: Mapping[str, str]) -> bytes:
    """Return ``fields`` as application/x-www-form-urlencoded."""
    return urllib.parse.urlencode(fields).encode("ascii")


@dataclass(frozen=True)
class FilePart:
    """One file of a multipart body."""

    field: str
    filename: str
    content_type: str
    data: bytes


def multipart_body(fields: Mapping[str, str], files: tuple[FilePart, ...] = ()) -> tuple[bytes, str]:
    """Return a multipart/form-data body and its Content-Type header."""
    boundary = f"rounds-{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for part in files:
        chunks.append(
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{part.field}"; filename="{part.filename}"\r\nContent-Type: {part.content_type}\r\n\r\n'
            ).encode()
            + part.data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def url_with(base: str, path: str = "", query: Mapping[str, Any] | None = None) -> str:
    """Return ``base`` + ``path`` with ``query`` appended (``path`` may be a whole URL)."""
    url = path if path.startswith(("http://", "https://")) else base.rstrip("/") + "/" + path.lstrip("/")
    if query:
        url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(query)
    return url


def content_type_of(path: str, *, default: str = "application/octet-stream") -> str:
    """Return the MIME type of a file name."""
    return mimetypes.guess_type(path)[0] or default


def base64_of(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
