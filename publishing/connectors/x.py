"""X through API v2: ``POST /2/tweets``, images through ``POST /2/media/upload``.

- Images: ``POST /2/media/upload`` (JSON: base64 ``media``, ``media_category: tweet_image``,
  ``media_type``) → ``{"data": {"id"}}``; alt text with ``POST /2/media/metadata``. Uploaded media
  show nowhere until a post uses them, so those steps are plain retries.
- Post: ``POST /2/tweets`` with ``text`` (and ``media.media_ids``) → 201 ``{"data": {"id", "text"}}``.
- Limits: 429 with ``x-rate-limit-reset`` (epoch seconds) says when the window reopens.
- Lookup: ``GET /2/users/<user_id>/tweets?max_results=50`` (``user_id`` from the credentials, or
  ``GET /2/users/me``), matching the invisible marker in ``text``. Reading timelines needs an API
  plan that allows it; without one, lookup says it cannot tell.
- Delete: ``DELETE /2/tweets/<id>`` → ``{"data": {"deleted": true}}``; when it says false,
  ``GET /2/tweets/<id>`` tells a post already gone (a "Not Found" error) from one still there.

Videos are not uploaded by this client (X takes them through the chunked INIT/APPEND/FINALIZE
upload); a post with a video fails with a message saying so.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from publishing.connectors.api import ApiConnector, listed, read_file
from publishing.connectors.base import AccountRef, Deletion, MediaRef, Payload, PermanentError, Result
from publishing.connectors.credentials import CredentialKey, api_base_key
from publishing.connectors.http import Answer, base64_of, content_type_of
from publishing.connectors.marker import text_marked
from publishing.connectors.messages import ANSWER_WITHOUT_ID, NO_VIDEOS_X, UPLOAD_WITHOUT_ID

API = "https://api.x.com"
LOOKUP_DEPTH = 50

CREDENTIALS = (
    CredentialKey(
        "access_token", _("An OAuth 2.0 user token with tweet.write, tweet.read, users.read and media.write.")
    ),
    CredentialKey("user_id", _("The account's numeric user id (else asked with /2/users/me)."), required=False),
    api_base_key(API),
)


class XConnector(ApiConnector):
    """Publish to an X account."""

    platform: ClassVar[str] = "x"
    default_base: ClassVar[str] = API
    credential_keys: ClassVar[tuple[CredentialKey, ...]] = CREDENTIALS

    def message_of(self, answer: Answer) -> str:
        data = answer.json()
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("message") or first.get("detail") or answer.excerpt[:200])
        return str(data.get("detail") or data.get("title") or answer.excerpt[:200])

    def post_url(self, account: AccountRef, post_id: str) -> str:
        return f"https://x.com/{account.handle.lstrip('@')}/status/{post_id}"

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        credentials = self.credentials(account)
        if any(item.kind != "photo" for item in payload.media):
            raise PermanentError(NO_VIDEOS_X.english())
        document: dict[str, Any] = {"text": text_marked(payload.text, key, platform=self.platform)}
        if payload.media:
            document["media"] = {"media_ids": [self._media_upload(credentials, item) for item in payload.media]}
        answer = self.request("POST", "2/tweets", credentials=credentials, json=document)
        post_id = str((answer.json().get("data") or {}).get("id") or "")
        if not post_id:
            raise PermanentError(ANSWER_WITHOUT_ID.english(platform="X"), response_excerpt=answer.excerpt)
        return Result(external_id=post_id, url=self.post_url(account, post_id), response_excerpt=answer.excerpt)

    def _media_upload(self, credentials: Mapping[str, str], item: MediaRef) -> str:
        answer = self.request(
            "POST",
            "2/media/upload",
            credentials=credentials,
            json={
                "media": base64_of(read_file(item)),
                "media_category": "tweet_image",
                "media_type": content_type_of(item.path, default="image/jpeg"),
            },
            repeatable=True,
        )
        media_id = str((answer.json().get("data") or {}).get("id") or "")
        if not media_id:
            raise PermanentError(UPLOAD_WITHOUT_ID.english(platform="X"), response_excerpt=answer.excerpt)
        if item.alt_text:
            self.request(
                "POST",
                "2/media/metadata",
                credentials=credentials,
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text[:1000]}}},
                repeatable=True,
            )
        return media_id

    def _user_id(self, credentials: Mapping[str, str]) -> str:
        if credentials.get("user_id"):
            return credentials["user_id"]
        answer = self.request("GET", "2/users/me", credentials=credentials, repeatable=True)
        user_id = str((answer.json().get("data") or {}).get("id") or "")
        if not user_id:
            raise PermanentError("X did not say who the token belongs to", response_excerpt=answer.excerpt)
        return user_id

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        credentials = self.credentials(account)
        try:
            user_id = self._user_id(credentials)
        except PermanentError as error:
            raise self.unsure(error) from error
        answer = self.recent(
            "GET",
            f"2/users/{user_id}/tweets",
            credentials=credentials,
            query={"max_results": LOOKUP_DEPTH, "tweet.fields": "created_at"},
        )

        def found(item: Mapping[str, Any]) -> Result:
            return listed(item, external_id=str(item["id"]), url=self.post_url(account, str(item["id"])))

        return self.find(answer.json().get("data") or [], key, texts=("text",), result=found)

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        credentials = self.credentials(account)
        answer = self.request("DELETE", f"2/tweets/{external_id}", credentials=credentials, accept=(404,))
        if answer.status != 404 and (answer.json().get("data") or {}).get("deleted"):
            return Deletion(deleted=True, response_excerpt=answer.excerpt)
        # "deleted": false is also the answer for a post that is gone already: ask for it.
        check = self.request("GET", f"2/tweets/{external_id}", credentials=credentials, repeatable=True, accept=(404,))
        gone = check.status == 404 or "data" not in check.json()
        return Deletion(deleted=gone, response_excerpt=f"{answer.excerpt} | GET: {check.excerpt}"[:500])
