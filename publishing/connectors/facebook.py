"""Facebook Pages through the Graph API: the Page feed for text and links, Page photos for images.

- Text or link: ``POST /{page-id}/feed`` with ``message`` (and ``link``) → ``{"id": "<page>_<post>"}``.
- One image: ``POST /{page-id}/photos`` (multipart ``source``, ``message``, ``alt_text_custom``)
  → ``{"id": <photo>, "post_id": "<page>_<post>"}``.
- Several images: each ``POST /{page-id}/photos`` with ``published=false`` (publishes nothing, so a
  lost answer is only a retry), then ``POST /{page-id}/feed`` with ``attached_media``.
- Lookup: ``GET /{page-id}/feed?fields=id,message,permalink_url`` (the 50 newest), matching the
  invisible marker in ``message``.
- Delete: ``DELETE /{post-id}`` → ``{"success": true}``; "does not exist" counts as gone.

Videos are not uploaded by this client (Facebook takes them on ``/{page-id}/videos``); a post with
a video fails with a message saying so.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from publishing.connectors.api import listed, read_file
from publishing.connectors.base import AccountRef, Deletion, MediaRef, Payload, PermanentError, Result
from publishing.connectors.credentials import CredentialKey, api_base_key
from publishing.connectors.graph import GRAPH, GraphConnector
from publishing.connectors.http import FilePart, content_type_of, multipart_body
from publishing.connectors.marker import text_marked
from publishing.connectors.messages import ANSWER_WITHOUT_ID, NO_VIDEOS_FACEBOOK, UPLOAD_WITHOUT_ID

LOOKUP_DEPTH = 50

CREDENTIALS = (
    CredentialKey("page_id", _("The Page's numeric id.")),
    CredentialKey("access_token", _("A Page access token with pages_manage_posts and pages_read_engagement.")),
    api_base_key(GRAPH),
)


def post_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


class FacebookConnector(GraphConnector):
    """Publish to a Facebook Page."""

    platform: ClassVar[str] = "facebook"
    credential_keys: ClassVar[tuple[CredentialKey, ...]] = CREDENTIALS

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        credentials = self.credentials(account)
        page = credentials["page_id"]
        message = text_marked(payload.text, key, platform=self.platform)
        if any(item.kind != "photo" for item in payload.media):
            raise PermanentError(NO_VIDEOS_FACEBOOK.english())
        if len(payload.media) == 1:
            return self._photo_post(credentials, page, payload.media[0], message)
        fields = {"message": message}
        if payload.media:
            photo_ids = [self._photo_upload(credentials, page, item) for item in payload.media]
            fields["attached_media"] = json.dumps([{"media_fbid": photo_id} for photo_id in photo_ids])
        elif payload.link:
            fields["link"] = payload.link
        answer = self.request("POST", f"{page}/feed", credentials=credentials, form=fields)
        post_id = str(answer.json().get("id") or "")
        if not post_id:
            raise PermanentError(ANSWER_WITHOUT_ID.english(platform="Facebook"), response_excerpt=answer.excerpt)
        return Result(external_id=post_id, url=post_url(post_id), response_excerpt=answer.excerpt)

    def _photo_fields(self, item: MediaRef) -> tuple[dict[str, str], tuple[FilePart, ...]]:
        part = FilePart(
            "source", Path(item.path).name, content_type_of(item.path, default="image/jpeg"), read_file(item)
        )
        fields = {"alt_text_custom": item.alt_text} if item.alt_text else {}
        return fields, (part,)

    def _photo_post(self, credentials: Mapping[str, str], page: str, item: MediaRef, message: str) -> Result:
        fields, files = self._photo_fields(item)
        body, content_type = multipart_body({**fields, "message": message, "published": "true"}, files)
        answer = self.request(
            "POST", f"{page}/photos", credentials=credentials, body=body, headers={"Content-Type": content_type}
        )
        data = answer.json()
        post_id = str(data.get("post_id") or data.get("id") or "")
        if not post_id:
            raise PermanentError(ANSWER_WITHOUT_ID.english(platform="Facebook"), response_excerpt=answer.excerpt)
        return Result(external_id=post_id, url=post_url(post_id), response_excerpt=answer.excerpt)

    def _photo_upload(self, credentials: Mapping[str, str], page: str, item: MediaRef) -> str:
        fields, files = self._photo_fields(item)
        body, content_type = multipart_body({**fields, "published": "false"}, files)
        # An unpublished photo shows nowhere: repeating the upload is harmless.
        answer = self.request(
            "POST",
            f"{page}/photos",
            credentials=credentials,
            body=body,
            headers={"Content-Type": content_type},
            repeatable=True,
        )
        photo_id = str(answer.json().get("id") or "")
        if not photo_id:
            raise PermanentError(UPLOAD_WITHOUT_ID.english(platform="Facebook"), response_excerpt=answer.excerpt)
        return photo_id

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        credentials = self.credentials(account)
        answer = self.recent(
            "GET",
            f"{credentials['page_id']}/feed",
            credentials=credentials,
            query={"fields": "id,message,permalink_url,created_time", "limit": LOOKUP_DEPTH},
        )
        return self.find(answer.json().get("data") or [], key, texts=("message",), result=self._found)

    @staticmethod
    def _found(item: Mapping[str, Any]) -> Result:
        post_id = str(item["id"])
        return listed(item, external_id=post_id, url=str(item.get("permalink_url") or post_url(post_id)))

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        credentials = self.credentials(account)
        answer = self.request("DELETE", external_id, credentials=credentials, accept=(400, 404))
        if answer.ok or self.gone(answer):
            return Deletion(deleted=True, response_excerpt=answer.excerpt)
        raise self.classify(answer)
