"""POST each publication as signed JSON to a URL the organisation runs (or a bridge to a platform).

Request: ``POST credentials["url"]`` with the JSON body of `WebhookConnector.body`, the headers
``Idempotency-Key: <key>`` and ``X-Rounds-Signature: sha256=<hex HMAC-SHA256 of the raw body
with credentials["secret"]>``. A 2xx answer is success; its JSON may carry ``id`` and ``url``.
429 and 5xx are temporary (``Retry-After`` or ``x-rate-limit-reset`` say when to come back);
other 4xx are permanent. Lookup: ``GET credentials["lookup_url"]`` (default: the same URL) with
``?key=<key>``, signed over the key: 200 with the same JSON means published, 404 means not.

The HTTP mechanics (and the classification of answers) are shared with the platform clients in
`publishing.connectors.http`.
"""

import hashlib
import hmac
import json
import urllib.parse

from django.utils.translation import gettext_lazy as _

from publishing.connectors.base import (
    AccountRef,
    Deletion,
    Payload,
    PermanentError,
    Result,
    TransientError,
    UnknownOutcome,
    platform_time_of,
)
from publishing.connectors.credentials import CredentialKey
from publishing.connectors.http import (
    EXCERPT,
    Answer,
    HttpClient,
    error_for,
    is_transient,
    retry_after_seconds,
    url_with,
)
from publishing.connectors.messages import WEBHOOK_CREDENTIALS

__all__ = ["CREDENTIALS", "WebhookConnector", "retry_after_seconds", "signature"]

CREDENTIALS = (
    CredentialKey("url", _("The receiver's http(s) URL; posts are POSTed there."), url=True),
    CredentialKey("secret", _("The shared secret of the HMAC-SHA256 signature.")),
    CredentialKey(
        "lookup_url", _("Where to look a key up (GET ?key=); default: the same URL."), required=False, url=True
    ),
)


def signature(secret: str, data: bytes) -> str:
    """Return the ``X-Rounds-Signature`` header value for ``data``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


class WebhookConnector:
    """Signed JSON over HTTP(S), with the contract of `publishing.connectors.base.Connector`."""

    def __init__(self, *, timeout: float = 10.0, user_agent: str = "Rounds publisher") -> None:
        self.http = HttpClient(timeout=timeout, user_agent=user_agent)

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
            raise PermanentError(WEBHOOK_CREDENTIALS.english())
        return url, secret

    @staticmethod
    def _result(answer: Answer, *, key: str) -> Result:
        data = answer.json()
        external_id = str(data.get("id") or data.get("external_id") or key)
        url = str(data.get("url") or "")
        return Result(
            external_id=external_id,
            url=url,
            response_excerpt=answer.text[:EXCERPT],
            published_at=platform_time_of(data),
        )

    # The contract --------------------------------------------------------------------------

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        url, secret = self._credentials(account)
        body = self.body(account=account, payload=payload, key=key)
        answer = self.http.call(
            "POST",
            url,
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": key,
                "X-Rounds-Signature": signature(secret, body),
            },
        )
        if answer.ok:
            return self._result(answer, key=key)
        raise error_for(answer, message=answer.excerpt[:200])

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        url, secret = self._credentials(account)
        base = str(account.credentials.get("lookup_url") or url)
        # A read that got no answer changed nothing: the caller simply does not know yet.
        answer = self.http.call(
            "GET",
            url_with(base, query={"key": key}),
            headers={"Idempotency-Key": key, "X-Rounds-Signature": signature(secret, key.encode("utf-8"))},
            repeatable=True,
        )
        if answer.status == 404:
            return None
        if answer.ok:
            return self._result(answer, key=key)
        if is_transient(answer.status):
            raise TransientError(f"lookup: HTTP {answer.status}", retry_after=retry_after_seconds(answer.headers))
        raise PermanentError(f"lookup: HTTP {answer.status}: {answer.text[:200]}", response_excerpt=answer.text)

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        url, secret = self._credentials(account)
        try:
            answer = self.http.call(
                "DELETE",
                url_with(url, query={"id": external_id}),
                headers={"X-Rounds-Signature": signature(secret, external_id.encode("utf-8"))},
            )
        except UnknownOutcome as error:
            raise TransientError(error.message) from error
        if answer.ok or answer.status == 404:
            return Deletion(deleted=True, response_excerpt=answer.excerpt)
        if answer.status in {405, 501}:
            return Deletion(deleted=False, response_excerpt=answer.excerpt)
        raise error_for(answer, message=answer.excerpt[:200])

    def delete(self, *, account: AccountRef, external_id: str) -> bool:
        return self.delete_with_proof(account=account, external_id=external_id).deleted
