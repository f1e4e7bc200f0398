"""LinkedIn through the versioned Posts API (``/rest/posts``), as a member or an organisation.

Every request carries ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` and
``X-Restli-Protocol-Version: 2.0.0``; LinkedIn refuses requests without them.

- Post: ``POST /rest/posts`` with ``author``, ``commentary`` (in LinkedIn's "little" text format:
  reserved characters escaped, else LinkedIn cuts the text at the first one), ``visibility``,
  ``distribution`` and ``lifecycleState: PUBLISHED`` → 201, the post's URN in ``x-restli-id``.
- Images: ``POST /rest/images?action=initializeUpload`` → ``uploadUrl`` and an image URN, ``PUT``
  the bytes to ``uploadUrl``, then the post's ``content.media`` (one) or ``content.multiImage``.
  An uploaded image shows nowhere until a post uses it, so those steps are plain retries.
- A link without images becomes ``content.article``.
- Lookup: ``GET /rest/posts?q=author&author=<urn>&count=50&sortBy=LAST_MODIFIED``, matching the
  invisible marker in ``commentary``.
- Delete: ``DELETE /rest/posts/<urn>`` → 204 (404 counts as gone).

Videos are not uploaded by this client (LinkedIn's Videos API is a multi-part upload); a post
with a video fails with a message saying so.
"""

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from django.utils.translation import gettext_lazy as _

from publishing.connectors.api import ApiConnector, listed, read_file
from publishing.connectors.base import AccountRef, Deletion, MediaRef, Payload, PermanentError, Result
from publishing.connectors.credentials import CredentialKey, api_base_key
from publishing.connectors.http import Answer, content_type_of
from publishing.connectors.marker import text_marked
from publishing.connectors.messages import NO_UPLOAD_URL, NO_VIDEOS_LINKEDIN

API = "https://api.linkedin.com"
# LinkedIn supports each monthly version for about a year; the credential "linkedin_version" overrides.
VERSION = "202609"
LOOKUP_DEPTH = 50

CREDENTIALS = (
    CredentialKey("access_token", _("An OAuth 2.0 token with w_organization_social (or w_member_social).")),
    CredentialKey("author_urn", _("Who posts: urn:li:organization:… or urn:li:person:…")),
    CredentialKey(
        "linkedin_version", _("The API version, YYYYMM; default %(version)s.") % {"version": VERSION}, required=False
    ),
    api_base_key(API),
)

# "little" text format: these characters are syntax and must be escaped to be text.
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_URL = re.compile(r"https?://\S+")
_HASHTAG = re.compile(r"(?<![\w&/])#(\w+)")


def _escape(text: str) -> str:
    return _RESERVED.sub(r"\\\1", text)


def little_text(text: str) -> str:
    """Return ``text`` in LinkedIn's little format: URLs kept, hashtags as templates, the rest escaped."""
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        pieces.append(_hashtags_and_escapes(text[position : match.start()]))
        pieces.append(match.group())  # escaping a URL would break its link
        position = match.end()
    pieces.append(_hashtags_and_escapes(text[position:]))
    return "".join(pieces)


def _hashtags_and_escapes(text: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _HASHTAG.finditer(text):
        pieces.append(_escape(text[position : match.start()]))
        pieces.append("{hashtag|\\#|" + _escape(match.group(1)) + "}")
        position = match.end()
    pieces.append(_escape(text[position:]))
    return "".join(pieces)


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInConnector(ApiConnector):
    """Publish to a LinkedIn member or organisation."""

    platform: ClassVar[str] = "linkedin"
    default_base: ClassVar[str] = API
    credential_keys: ClassVar[tuple[CredentialKey, ...]] = CREDENTIALS

    def auth_headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {
            **super().auth_headers(credentials),
            "LinkedIn-Version": credentials.get("linkedin_version") or VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def message_of(self, answer: Answer) -> str:
        data = answer.json()
        return str(data.get("message") or answer.excerpt[:200])

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        credentials = self.credentials(account)
        author = credentials["author_urn"]
        if any(item.kind != "photo" for item in payload.media):
            raise PermanentError(NO_VIDEOS_LINKEDIN.english())
        document: dict[str, Any] = {
            "author": author,
            "commentary": little_text(text_marked(payload.text, key, platform=self.platform)),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        images = [
            {"id": self._image_upload(credentials, author, item), "altText": item.alt_text} for item in payload.media
        ]
        if len(images) == 1:
            document["content"] = {"media": images[0]}
        elif images:
            document["content"] = {"multiImage": {"images": images}}
        elif payload.link:
            document["content"] = {"article": {"source": payload.link, "title": payload.title or payload.link}}
        answer = self.request("POST", "rest/posts", credentials=credentials, json=document)
        urn = answer.header("x-restli-id") or str(answer.json().get("id") or "")
        if not urn:
            raise PermanentError("LinkedIn answered without the post's URN", response_excerpt=answer.excerpt)
        return Result(external_id=urn, url=post_url(urn), response_excerpt=f"x-restli-id: {urn} {answer.excerpt}")

    def _image_upload(self, credentials: Mapping[str, str], author: str, item: MediaRef) -> str:
        answer = self.request(
            "POST",
            "rest/images",
            credentials=credentials,
            query={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": author}},
            repeatable=True,
        )
        value = answer.json().get("value") or {}
        upload_url, image = str(value.get("uploadUrl") or ""), str(value.get("image") or "")
        if not upload_url or not image:
            raise PermanentError(NO_UPLOAD_URL.english(platform="LinkedIn"), response_excerpt=answer.excerpt)
        self.request(
            "PUT",
            upload_url,
            credentials=credentials,
            body=read_file(item),
            headers={"Content-Type": content_type_of(item.path, default="image/jpeg")},
            repeatable=True,
        )
        return image

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        credentials = self.credentials(account)
        # Rest.li 2.0 wants the URN percent-encoded inside the query, which urlencode does.
        query = {"q": "author", "author": credentials["author_urn"], "count": LOOKUP_DEPTH, "sortBy": "LAST_MODIFIED"}
        answer = self.recent("GET", "rest/posts", credentials=credentials, query=query)
        return self.find(answer.json().get("elements") or [], key, texts=("commentary",), result=self._found)

    @staticmethod
    def _found(item: Mapping[str, Any]) -> Result:
        return listed(item, external_id=str(item["id"]), url=post_url(str(item["id"])))

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        credentials = self.credentials(account)
        answer = self.request(
            "DELETE", f"rest/posts/{quote(external_id, safe='')}", credentials=credentials, accept=(404,)
        )
        return Deletion(deleted=True, response_excerpt=f"HTTP {answer.status} {answer.excerpt}".strip())
