"""POST each publication as signed JSON to a URL the organisation runs (or a bridge to a platform).

Request: ``POST credentials["url"]`` with the JSON body of `WebhookConnector.body`, the headers
``Idempotency-Key: <key>`` and ``X-Rounds-Signature: sha256=<hex HMAC-SHA256 of the raw body
with credentials["secret"]>``. A 2xx answer is success; its JSON may carry ``id`` and ``url``.
429 and 5xx are temporary (``Retry-After`` or ``x-rate-limit-reset`` say when to come back);
other 4xx are permanent. Lookup: ``GET credentials["lookup_url"]`` (default: the same URL) with
``?key=<key>``, signed over the key: 200 with the same JSON means published, 404 means not.

Built on the standard library's ``http.client``, which tells a connection that failed before the
request was sent (retry) from one that failed while waiting for the answer (outcome unknown).
"""

import datetime as dt
import email.utils
import hashlib
import hmac
import http.client
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from posts.connectors.base import AccountRef, Payload, PermanentError, Result, TransientError, UnknownOutcome

EXCERPT = 500


def signature(secret: str, data: bytes) -> str:
    """Return the ``X-Rounds-Signature`` header value for ``data``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


def retry_after_seconds(headers: Any, *, now: float | None = None) -> float | None:
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


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Any
    text: str


class WebhookConnector:
    """Signed JSON over HTTP(S), with the contract of `posts.connectors.base.Connector`."""

    def __init__(self, *, timeout: float = 10.0, user_agent: str = "Rounds publisher") -> None:
        self.timeout = timeout
        self.user_agent = user_agent

    # The request ---------------------------------------------------------------------------

    @staticmethod
    def body(*, account: AccountRef, payload: Payload, key: str) -> bytes:
        """Return the raw JSON body that is signed and sent."""
        document = {"key": key, "platform": account.platform, "handle": account.handle, **payload.as_json()}
        return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @staticmethod
    def _credentials(account: AccountRef) -> tuple[str, str]:
        url = str(account.credentials.get("url", ""))
        secret = str(account.credentials.get("secret", ""))
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"} or not secret:
            raise PermanentError("the webhook account needs credentials 'url' (http or https) and 'secret'")
        return url, secret

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str]:
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if parts.scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(parts.netloc, timeout=self.timeout, context=context), target
        return http.client.HTTPConnection(parts.netloc, timeout=self.timeout), target

    def _call(self, method: str, url: str, *, body: bytes | None, headers: dict[str, str]) -> _Answer:
        """Send one request; TransientError if it never left, UnknownOutcome if the answer did not come."""
        connection, target = self._connection(url)
        try:
            try:
                connection.connect()
                connection.request(method, target, body=body, headers={"User-Agent": self.user_agent, **headers})
            except OSError as error:
                # Nothing complete reached the server: it cannot have acted on a partial body.
                raise TransientError(f"could not send the request: {error}") from error
            try:
                response = connection.getresponse()
                text = response.read(64 * 1024).decode("utf-8", errors="replace")
            except (OSError, http.client.HTTPException) as error:
                raise UnknownOutcome(f"no answer after sending: {error!r}") from error
            return _Answer(status=response.status, headers=response.headers, text=text)
        finally:
            connection.close()

    @staticmethod
    def _result(answer: _Answer, *, key: str) -> Result:
        try:
            data = json.loads(answer.text) if answer.text.strip() else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        external_id = str(data.get("id") or data.get("external_id") or key)
        url = str(data.get("url") or "")
        return Result(external_id=external_id, url=url, response_excerpt=answer.text[:EXCERPT])

    @staticmethod
    def _raise_for(answer: _Answer) -> None:
        excerpt = answer.text[:EXCERPT]
        if answer.status == 429 or answer.status >= 500 or answer.status == 408:
            raise TransientError(
                f"HTTP {answer.status}: {excerpt[:200]}",
                retry_after=retry_after_seconds(answer.headers),
                response_excerpt=excerpt,
            )
        raise PermanentError(f"HTTP {answer.status}: {excerpt[:200]}", response_excerpt=excerpt)

    # The contract --------------------------------------------------------------------------

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        url, secret = self._credentials(account)
        body = self.body(account=account, payload=payload, key=key)
        answer = self._call(
            "POST",
            url,
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": key,
                "X-Rounds-Signature": signature(secret, body),
            },
        )
        if 200 <= answer.status < 300:
            return self._result(answer, key=key)
        self._raise_for(answer)
        raise AssertionError("unreachable")  # pragma: no cover

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        url, secret = self._credentials(account)
        base = str(account.credentials.get("lookup_url") or url)
        separator = "&" if urllib.parse.urlsplit(base).query else "?"
        try:
            answer = self._call(
                "GET",
                f"{base}{separator}{urllib.parse.urlencode({'key': key})}",
                body=None,
                headers={"Idempotency-Key": key, "X-Rounds-Signature": signature(secret, key.encode("utf-8"))},
            )
        except UnknownOutcome as error:
            # A read that got no answer changed nothing; the caller simply does not know yet.
            raise TransientError(error.message) from error
        if answer.status == 404:
            return None
        if 200 <= answer.status < 300:
            return self._result(answer, key=key)
        if answer.status == 429 or answer.status >= 500:
            raise TransientError(f"lookup: HTTP {answer.status}", retry_after=retry_after_seconds(answer.headers))
        raise PermanentError(f"lookup: HTTP {answer.status}: {answer.text[:200]}", response_excerpt=answer.text)

    def delete(self, *, account: AccountRef, external_id: str) -> bool:
        url, secret = self._credentials(account)
        separator = "&" if urllib.parse.urlsplit(url).query else "?"
        try:
            answer = self._call(
                "DELETE",
                f"{url}{separator}{urllib.parse.urlencode({'id': external_id})}",
                body=None,
                headers={"X-Rounds-Signature": signature(secret, external_id.encode("utf-8"))},
            )
        except UnknownOutcome as error:
            raise TransientError(error.message) from error
        if 200 <= answer.status < 300 or answer.status == 404:
            return True
        if answer.status in {405, 501}:
            return False
        self._raise_for(answer)
        return False  # pragma: no cover
