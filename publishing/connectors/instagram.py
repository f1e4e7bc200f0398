"""Instagram through the Graph API's Content Publishing: a container, its status, then media_publish.

1. ``POST /{ig-user-id}/media`` with ``image_url`` (or ``media_type=REELS`` and ``video_url``),
   ``caption`` and ``alt_text`` → ``{"id": <container>}``. Several items: one container per item
   (``is_carousel_item=true``), then a ``CAROUSEL`` container with ``children``. Instagram fetches
   the files itself, so ``media_base_url`` must be the public address of the media folder.
2. ``GET /{container-id}?fields=status_code,status`` until ``FINISHED`` (``ERROR`` fails,
   ``EXPIRED`` retries later).
3. ``POST /{ig-user-id}/media_publish`` with ``creation_id`` → ``{"id": <media>}``, then
   ``GET /{media-id}?fields=permalink`` for the link.

Nothing is visible before step 3, so failures up to there are plain retries. A container is
published at most once, so when step 3's answer is lost the client asks the container: still
``FINISHED`` means not published, and ``media_publish`` is sent again for the same container;
``PUBLISHED`` means it went out, and the media is found by its marker. Lookup reads
``GET /{ig-user-id}/media?fields=id,caption,permalink`` (the 50 newest) and matches the invisible
marker in the caption. The API cannot delete posts: delete says so.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from publishing.connectors.api import listed, not_deletable
from publishing.connectors.base import (
    AccountRef,
    Deletion,
    MediaRef,
    Payload,
    PermanentError,
    Result,
    TransientError,
    UnknownOutcome,
)
from publishing.connectors.credentials import CredentialKey, api_base_key
from publishing.connectors.graph import GRAPH, GraphConnector
from publishing.connectors.marker import text_marked
from publishing.connectors.messages import INSTAGRAM_CONTAINER_WAITING, INSTAGRAM_NEEDS_MEDIA, INSTAGRAM_NOT_PROCESSED

LOOKUP_DEPTH = 50
PUBLISH_TRIES = 3

CREDENTIALS = (
    CredentialKey("ig_user_id", _("The Instagram professional account's user id.")),
    CredentialKey("access_token", _("An access token with instagram_content_publish (and instagram_basic).")),
    CredentialKey(
        "media_base_url",
        _("Public https address of the media folder; Instagram fetches images from there."),
        url=True,
    ),
    api_base_key(GRAPH),
)


class InstagramConnector(GraphConnector):
    """Publish to an Instagram professional account."""

    platform: ClassVar[str] = "instagram"
    credential_keys: ClassVar[tuple[CredentialKey, ...]] = CREDENTIALS

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        credentials = self.credentials(account)
        if not payload.media:
            raise PermanentError(INSTAGRAM_NEEDS_MEDIA.english())
        caption = text_marked(payload.text, key, platform=self.platform)
        if len(payload.media) == 1:
            container = self._container(credentials, self._item_fields(payload.media[0], credentials), caption)
        else:
            children = [
                self._container(credentials, self._item_fields(item, credentials, in_carousel=True))
                for item in payload.media
            ]
            for child in children:
                self._wait_until_finished(credentials, child)
            container = self._container(
                credentials, {"media_type": "CAROUSEL", "children": ",".join(children)}, caption
            )
        self._wait_until_finished(credentials, container)
        media_id = self._publish_container(credentials, container, key)
        return self._media_result(credentials, media_id)

    def _item_fields(
        self, item: MediaRef, credentials: Mapping[str, str], *, in_carousel: bool = False
    ) -> dict[str, str]:
        url = self.public_url(item, credentials)
        carousel = {"is_carousel_item": "true"} if in_carousel else {}
        if item.kind == "video":
            # A video alone is a reel; inside a carousel it is a VIDEO item.
            return {"media_type": "VIDEO" if in_carousel else "REELS", "video_url": url, **carousel}
        return {"image_url": url, **({"alt_text": item.alt_text} if item.alt_text else {}), **carousel}

    def _container(self, credentials: Mapping[str, str], fields: dict[str, str], caption: str | None = None) -> str:
        if caption is not None:
            fields = {**fields, "caption": caption}
        # A container shows nowhere until it is published (and expires after 24 h): repeating is harmless.
        answer = self.request(
            "POST", f"{credentials['ig_user_id']}/media", credentials=credentials, form=fields, repeatable=True
        )
        container = str(answer.json().get("id") or "")
        if not container:
            raise PermanentError("Instagram answered without a container id", response_excerpt=answer.excerpt)
        return container

    def _status(self, credentials: Mapping[str, str], container: str) -> dict[str, Any]:
        answer = self.request(
            "GET", container, credentials=credentials, query={"fields": "status_code,status"}, repeatable=True
        )
        return answer.json()

    def _wait_until_finished(self, credentials: Mapping[str, str], container: str) -> None:
        status = self.poll(
            lambda: self._status(credentials, container),
            done=lambda value: value.get("status_code") != "IN_PROGRESS",
        )
        code = status.get("status_code")
        if code == "FINISHED":
            return
        if code == "ERROR":
            raise PermanentError(INSTAGRAM_NOT_PROCESSED.english(status=status.get("status") or code))
        # IN_PROGRESS past our patience, or EXPIRED: nothing was published; a later attempt starts over.
        raise TransientError(INSTAGRAM_CONTAINER_WAITING.english(status=code or "in an unknown state"))

    def _publish_container(self, credentials: Mapping[str, str], container: str, key: str) -> str:
        """Publish ``container`` (at most once, by Instagram's rule); return the media id.

        When the answer is lost or an error comes back, the container says what happened:
        ``PUBLISHED`` (find the media by its marker) or ``FINISHED`` (not published: after a lost
        answer publish the same container again, else give up this attempt).
        """
        for attempt in range(PUBLISH_TRIES):
            try:
                answer = self.request(
                    "POST",
                    f"{credentials['ig_user_id']}/media_publish",
                    credentials=credentials,
                    form={"creation_id": container},
                )
            except (UnknownOutcome, TransientError, PermanentError) as error:
                unsure = isinstance(error, UnknownOutcome) or attempt > 0
                status = self._status_after(credentials, container, error, unsure=unsure)
                if status == "PUBLISHED":
                    return self._published_media(credentials, key, error)
                if status == "FINISHED" and isinstance(error, UnknownOutcome):
                    continue
                raise
            media_id = str(answer.json().get("id") or "")
            if not media_id:
                raise PermanentError("Instagram answered without a media id", response_excerpt=answer.excerpt)
            return media_id
        raise UnknownOutcome(f"no answer from media_publish after {PUBLISH_TRIES} tries")

    def _status_after(self, credentials: Mapping[str, str], container: str, error: Exception, *, unsure: bool) -> str:
        try:
            return str(self._status(credentials, container).get("status_code") or "")
        except (TransientError, PermanentError) as status_error:
            if unsure:
                raise UnknownOutcome(f"{error}; the container's status is unknown too: {status_error}") from error
            raise error from status_error

    def _published_media(self, credentials: Mapping[str, str], key: str, error: Exception) -> str:
        found = self._find(credentials, key)
        if found is None:
            raise UnknownOutcome("Instagram published the container but does not list its media yet") from error
        return found.external_id

    def _media_result(self, credentials: Mapping[str, str], media_id: str) -> Result:
        try:
            answer = self.request(
                "GET", media_id, credentials=credentials, query={"fields": "permalink"}, repeatable=True
            )
        except (TransientError, PermanentError):
            return Result(external_id=media_id)  # published; the link can be found later
        return Result(
            external_id=media_id, url=str(answer.json().get("permalink") or ""), response_excerpt=answer.excerpt
        )

    def _find(self, credentials: Mapping[str, str], key: str) -> Result | None:
        answer = self.recent(
            "GET",
            f"{credentials['ig_user_id']}/media",
            credentials=credentials,
            query={"fields": "id,caption,permalink,timestamp", "limit": LOOKUP_DEPTH},
        )
        return self.find(answer.json().get("data") or [], key, texts=("caption",), result=self._found)

    @staticmethod
    def _found(item: Mapping[str, Any]) -> Result:
        return listed(item, external_id=str(item["id"]), url=str(item.get("permalink") or ""))

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        return self._find(self.credentials(account), key)

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        return not_deletable("Instagram")
