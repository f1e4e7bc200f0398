"""TikTok through the Content Posting API (Direct Post): creator info, init, upload, status.

1. ``POST /v2/post/publish/creator_info/query/`` → the privacy levels this creator may use.
2. Video: ``POST /v2/post/publish/video/init/`` with ``post_info`` (caption as ``title``,
   ``privacy_level``) and ``source_info`` (``FILE_UPLOAD``, size, chunks) → ``publish_id`` and
   ``upload_url``; then ``PUT upload_url`` per chunk with ``Content-Range``. Nothing is posted
   before the last chunk arrives, so failures up to there are plain retries.
   Photos: ``POST /v2/post/publish/content/init/`` with ``media_type: PHOTO`` and
   ``PULL_FROM_URL`` (TikTok fetches the images from ``media_base_url``, a domain verified with
   TikTok) → ``publish_id``. That call alone posts, so its lost answer is an unknown outcome.
3. ``POST /v2/post/publish/status/fetch/`` until ``PUBLISH_COMPLETE`` (with the post id) or
   ``FAILED``. TikTok moderates public posts before it names them, sometimes for hours: a post
   still processing when our patience ends is accepted (confirmed with its ``publish_id``), never
   sent again.

Answers are ``{"data": {...}, "error": {"code", "message", "log_id"}}``. 429 (``rate_limit_exceeded``;
6 init calls a minute per token) is temporary, by default for a minute. Lookup lists
``POST /v2/video/list/`` (needs the ``video.list`` scope) and matches the invisible marker in the
caption; TikTok lists a post only after moderation, so a post not listed may still exist: lookup
then says it cannot tell, and the publication waits for a person instead of posting twice. The
API cannot delete posts: delete says so.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from publishing.connectors.api import ApiConnector, listed, not_deletable
from publishing.connectors.base import (
    AccountRef,
    ConnectorError,
    Deletion,
    MediaRef,
    Payload,
    PermanentError,
    Result,
    TransientError,
    UnknownOutcome,
)
from publishing.connectors.credentials import CredentialKey, api_base_key
from publishing.connectors.http import Answer, content_type_of, error_for, retry_after_seconds
from publishing.connectors.marker import text_marked
from publishing.connectors.messages import (
    NO_UPLOAD_URL,
    TIKTOK_COULD_NOT_POST,
    TIKTOK_MODERATION,
    TIKTOK_ONE_VIDEO,
    TIKTOK_PRIVACY,
    TIKTOK_REFUSED,
    TIKTOK_UPLOAD_INCOMPLETE,
    VIDEO_UNREADABLE,
)

API = "https://open.tiktokapis.com"
# TikTok: chunks of 5 to 64 MB; a file up to 64 MB goes in one piece.
CHUNK_BYTES = 64 * 1024 * 1024
RATE_WAIT = 60.0
# status/fetch allows 30 calls a minute per token: poll well below that.
STATUS_INTERVAL = 5.0
LIST_DEPTH = 20  # video/list returns at most 20 a page
ACCEPTED = frozenset({"PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX", "PUBLISH_COMPLETE"})
# fail_reason values worth another attempt; every other reason is final.
RETRYABLE_FAILURES = frozenset({"internal", "video_pull_failed", "photo_pull_failed"})

CREDENTIALS = (
    CredentialKey("access_token", _("A user access token with video.publish (and video.list for lookups).")),
    CredentialKey(
        "privacy_level",
        _("PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR or SELF_ONLY; default PUBLIC_TO_EVERYONE."),
        required=False,
    ),
    CredentialKey(
        "media_base_url",
        _("Public address of the media folder on a domain verified with TikTok (photo posts)."),
        required=False,
        url=True,
    ),
    api_base_key(API),
)


class TikTokConnector(ApiConnector):
    """Post a video or photos to a TikTok creator account."""

    platform: ClassVar[str] = "tiktok"
    default_base: ClassVar[str] = API
    credential_keys: ClassVar[tuple[CredentialKey, ...]] = CREDENTIALS

    def __init__(self, *, chunk_bytes: int = CHUNK_BYTES, **options: Any) -> None:
        options.setdefault("poll_interval", STATUS_INTERVAL)
        super().__init__(**options)
        self.chunk_bytes = chunk_bytes

    def message_of(self, answer: Answer) -> str:
        error = answer.json().get("error") or {}
        if isinstance(error, dict) and error.get("message"):
            return f"{error['message']} ({error.get('code')})"
        return answer.excerpt[:200]

    def classify(self, answer: Answer) -> ConnectorError:
        wait = retry_after_seconds(answer.headers)
        if wait is None and answer.status == 429:
            wait = RATE_WAIT  # TikTok's windows are a minute long and it names no reset time
        return error_for(answer, message=self.message_of(answer), retry_after=wait)

    def post_url(self, account: AccountRef, post_id: str) -> str:
        return f"https://www.tiktok.com/@{account.handle.lstrip('@')}/video/{post_id}"

    # Publishing ------------------------------------------------------------------------------

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        credentials = self.credentials(account)
        videos = [item for item in payload.media if item.kind == "video"]
        if not payload.media or (videos and len(payload.media) != 1):
            raise PermanentError(TIKTOK_ONE_VIDEO.english())
        caption = text_marked(payload.text, key, platform=self.platform)
        privacy = self._privacy(credentials)
        if videos:
            publish_id = self._video(credentials, videos[0], caption, privacy)
        else:
            publish_id = self._photos(credentials, payload, caption, privacy)
        return self._outcome(account, credentials, publish_id)

    def _data(self, answer: Answer) -> dict[str, Any]:
        data = answer.json().get("data")
        return data if isinstance(data, dict) else {}

    def _privacy(self, credentials: Mapping[str, str]) -> str:
        answer = self.request(
            "POST", "v2/post/publish/creator_info/query/", credentials=credentials, json={}, repeatable=True
        )
        allowed = [str(level) for level in self._data(answer).get("privacy_level_options") or []]
        wanted = credentials.get("privacy_level") or "PUBLIC_TO_EVERYONE"
        if allowed and wanted not in allowed:
            raise PermanentError(
                TIKTOK_PRIVACY.english(wanted=wanted, allowed=", ".join(allowed)),
                response_excerpt=answer.excerpt,
            )
        return wanted

    def _video(self, credentials: Mapping[str, str], video: MediaRef, caption: str, privacy: str) -> str:
        path = Path(video.path)
        try:
            size = path.stat().st_size
        except OSError as error:
            raise PermanentError(VIDEO_UNREADABLE.english(name=path.name, error=error)) from error
        chunk = size if size <= self.chunk_bytes else self.chunk_bytes
        count = max(1, size // chunk)  # the last chunk takes the remainder, as TikTok asks
        # Nothing is posted until the file arrives: a lost init answer only leaves an unused upload.
        answer = self.request(
            "POST",
            "v2/post/publish/video/init/",
            credentials=credentials,
            json={
                "post_info": {"title": caption, "privacy_level": privacy, "disable_comment": False},
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": size,
                    "chunk_size": chunk,
                    "total_chunk_count": count,
                },
            },
            repeatable=True,
        )
        data = self._data(answer)
        publish_id, upload_url = str(data.get("publish_id") or ""), str(data.get("upload_url") or "")
        if not publish_id or not upload_url:
            raise PermanentError(NO_UPLOAD_URL.english(platform="TikTok"), response_excerpt=answer.excerpt)
        with path.open("rb") as stream:
            for index in range(count):
                first = index * chunk
                last = size - 1 if index == count - 1 else first + chunk - 1
                stream.seek(first)
                self._chunk(
                    credentials, upload_url, publish_id, stream.read(last - first + 1), first, last, size, video
                )
        return publish_id

    def _chunk(
        self,
        credentials: Mapping[str, str],
        upload_url: str,
        publish_id: str,
        data: bytes,
        first: int,
        last: int,
        size: int,
        video: MediaRef,
    ) -> None:
        try:
            self.request(
                "PUT",
                upload_url,
                credentials=credentials,
                body=data,
                headers={
                    "Content-Type": content_type_of(video.path, default="video/mp4"),
                    "Content-Range": f"bytes {first}-{last}/{size}",
                },
            )
        except UnknownOutcome as error:
            if last < size - 1:
                raise TransientError(f"a chunk's answer was lost before the upload was complete: {error}") from error
            # The last chunk may have completed the upload: TikTok's status says.
            status = self._status_or_unknown(credentials, publish_id, error)
            if status.get("status") not in ACCEPTED and int(status.get("uploaded_bytes") or 0) < size:
                raise TransientError(TIKTOK_UPLOAD_INCOMPLETE.english()) from error

    def _photos(self, credentials: Mapping[str, str], payload: Payload, caption: str, privacy: str) -> str:
        urls = [self.public_url(item, credentials) for item in payload.media]
        answer = self.request(
            "POST",
            "v2/post/publish/content/init/",
            credentials=credentials,
            json={
                "post_info": {
                    "title": payload.title[:90],
                    "description": caption,
                    "privacy_level": privacy,
                    "disable_comment": False,
                    "auto_add_music": True,
                },
                "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls},
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            },
        )
        publish_id = str(self._data(answer).get("publish_id") or "")
        if not publish_id:
            raise PermanentError("TikTok answered without a publish_id", response_excerpt=answer.excerpt)
        return publish_id

    def _status(self, credentials: Mapping[str, str], publish_id: str) -> dict[str, Any]:
        answer = self.request(
            "POST",
            "v2/post/publish/status/fetch/",
            credentials=credentials,
            json={"publish_id": publish_id},
            repeatable=True,
        )
        return {**self._data(answer), "_excerpt": answer.excerpt}

    def _status_or_unknown(
        self, credentials: Mapping[str, str], publish_id: str, error: ConnectorError
    ) -> dict[str, Any]:
        try:
            return self._status(credentials, publish_id)
        except (TransientError, PermanentError) as status_error:
            raise UnknownOutcome(f"{error.message}; TikTok's status cannot tell: {status_error.message}") from error

    def _outcome(self, account: AccountRef, credentials: Mapping[str, str], publish_id: str) -> Result:
        """Wait for TikTok's verdict on ``publish_id``; a post still in moderation counts as accepted."""
        try:
            status = self.poll(
                lambda: self._status(credentials, publish_id),
                done=lambda value: value.get("status") in {"PUBLISH_COMPLETE", "FAILED"},
            )
        except (TransientError, PermanentError) as error:
            raise UnknownOutcome(f"TikTok took {publish_id} but its status cannot be read: {error.message}") from error
        excerpt = str(status.get("_excerpt") or "")
        if status.get("status") == "FAILED":
            reason = str(status.get("fail_reason") or "unknown")
            if reason in RETRYABLE_FAILURES:
                raise TransientError(TIKTOK_COULD_NOT_POST.english(reason=reason), response_excerpt=excerpt)
            raise PermanentError(TIKTOK_REFUSED.english(reason=reason), response_excerpt=excerpt)
        post_ids = [str(post_id) for post_id in status.get("publicaly_available_post_id") or []]
        if status.get("status") == "PUBLISH_COMPLETE" and post_ids:
            return Result(external_id=post_ids[0], url=self.post_url(account, post_ids[0]), response_excerpt=excerpt)
        # Accepted and processing (or private, which has no public id): never send it again.
        return Result(external_id=publish_id, url="", response_excerpt=excerpt)

    # Finding and deleting --------------------------------------------------------------------

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        credentials = self.credentials(account)
        answer = self.recent(
            "POST",
            "v2/video/list/",
            credentials=credentials,
            query={"fields": "id,title,video_description,share_url,create_time"},
            json={"max_count": LIST_DEPTH},
        )

        def found(item: Mapping[str, Any]) -> Result:
            post_id = str(item["id"])
            return listed(item, external_id=post_id, url=str(item.get("share_url") or self.post_url(account, post_id)))

        videos = self._data(answer).get("videos") or []
        result = self.find(videos, key, texts=("title", "video_description"), result=found)
        if result is None:
            raise TransientError(TIKTOK_MODERATION.english())
        return result

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        return not_deletable("TikTok")
