"""YouTube through the Data API v3: videos.insert with the resumable upload protocol.

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video
   resource (title, description, tags, privacy) and ``X-Upload-Content-Length`` /
   ``X-Upload-Content-Type`` → 200 with the session URI in ``Location``. Nothing exists yet.
2. ``PUT <session URI>`` with the bytes → 200/201 with the video resource (its ``id``).

When step 2 fails (no answer, 5xx), the session itself says what arrived: ``PUT`` with
``Content-Range: bytes */<size>`` answers 200/201 with the video (it was uploaded) or 308 with
``Range`` (what it has); the rest is sent again. Only when the session cannot be asked is the
outcome unknown. Lookup reads the channel's uploads playlist (``channels?mine=true`` →
``playlistItems``, the 50 newest) and matches the invisible marker in the description. Delete:
``DELETE /youtube/v3/videos?id=`` → 204.

Errors: ``{"error": {"code", "message", "errors": [{"reason"}]}}``; 403 with reason
``quotaExceeded`` waits for the daily quota reset (midnight Pacific time), ``rateLimitExceeded``
and ``userRateLimitExceeded`` are temporary too. An upload costs 1,600 of the default 10,000
daily quota units.
"""

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from publishing.connectors.api import ApiConnector, listed
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
from publishing.connectors.http import Answer, content_type_of, error_for
from publishing.connectors.marker import text_marked
from publishing.connectors.messages import HTTP_STATUS, VIDEO_UNREADABLE, YOUTUBE_NO_PLAYLIST, YOUTUBE_ONE_VIDEO

API = "https://www.googleapis.com"
LOOKUP_DEPTH = 50
RESUME_TRIES = 3
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")

CREDENTIALS = (
    CredentialKey("access_token", _("An OAuth 2.0 token with the youtube.upload and youtube scopes.")),
    CredentialKey("privacy_status", _("public, unlisted or private; default public."), required=False),
    api_base_key(API),
)


def seconds_until_quota_reset(now: dt.datetime | None = None) -> float:
    """Return the seconds until midnight Pacific time, when YouTube's daily quota starts over."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(PACIFIC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=PACIFIC)
    return (midnight - now).total_seconds()


def video_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


class YouTubeConnector(ApiConnector):
    """Upload a video to a YouTube channel."""

    platform: ClassVar[str] = "youtube"
    default_base: ClassVar[str] = API
    credential_keys: ClassVar[tuple[CredentialKey, ...]] = CREDENTIALS

    @staticmethod
    def _reasons(answer: Answer) -> set[str]:
        error = answer.json().get("error") or {}
        return {str(item.get("reason")) for item in error.get("errors") or [] if isinstance(item, dict)}

    def message_of(self, answer: Answer) -> str:
        error = answer.json().get("error") or {}
        return str(error.get("message") or answer.excerpt[:200]) if isinstance(error, dict) else answer.excerpt[:200]

    def classify(self, answer: Answer) -> ConnectorError:
        reasons = self._reasons(answer)
        message = self.message_of(answer)
        if "quotaExceeded" in reasons:
            return TransientError(
                HTTP_STATUS.english(status=answer.status, message=message),
                retry_after=seconds_until_quota_reset(),
                response_excerpt=answer.excerpt,
            )
        if reasons & RATE_REASONS:
            return TransientError(
                HTTP_STATUS.english(status=answer.status, message=message), response_excerpt=answer.excerpt
            )
        return error_for(answer, message=message)

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        credentials = self.credentials(account)
        videos = [item for item in payload.media if item.kind == "video"]
        if len(videos) != 1 or len(payload.media) != 1:
            raise PermanentError(YOUTUBE_ONE_VIDEO.english())
        video = videos[0]
        path = Path(video.path)
        try:
            size = path.stat().st_size
        except OSError as error:
            raise PermanentError(VIDEO_UNREADABLE.english(name=path.name, error=error)) from error
        session = self._session(credentials, payload, key, video, size)
        return self._upload(credentials, session, path, size)

    def _resource(self, credentials: Mapping[str, str], payload: Payload, key: str) -> dict[str, Any]:
        first_line = payload.text.strip().splitlines()[0] if payload.text.strip() else ""
        title = (payload.title or first_line or "Video").replace("<", "").replace(">", "")[:100]
        snippet: dict[str, Any] = {
            "title": title,
            "description": text_marked(payload.text, key, platform=self.platform),
            "tags": list(payload.hashtags),
        }
        if payload.language:
            snippet["defaultLanguage"] = payload.language
        return {
            "snippet": snippet,
            "status": {
                "privacyStatus": credentials.get("privacy_status") or "public",
                "selfDeclaredMadeForKids": False,
            },
        }

    def _session(self, credentials: Mapping[str, str], payload: Payload, key: str, video: MediaRef, size: int) -> str:
        # A session uploads nothing and expires unused: repeating it is harmless.
        answer = self.request(
            "POST",
            "upload/youtube/v3/videos",
            credentials=credentials,
            query={"uploadType": "resumable", "part": "snippet,status"},
            json=self._resource(credentials, payload, key),
            headers={
                "X-Upload-Content-Length": str(size),
                "X-Upload-Content-Type": content_type_of(video.path, default="video/*"),
            },
            repeatable=True,
        )
        location = answer.header("Location")
        if not location:
            raise PermanentError("YouTube did not return an upload session", response_excerpt=answer.excerpt)
        return location

    def _put(self, credentials: Mapping[str, str], session: str, path: Path, size: int, start: int) -> Answer:
        with path.open("rb") as stream:
            stream.seek(start)
            # Streamed from the file: http.client sends a file body in blocks when the length is known.
            return self.request(
                "PUT",
                session,
                credentials=credentials,
                body=stream,
                headers={
                    "Content-Type": content_type_of(str(path), default="video/*"),
                    "Content-Length": str(size - start),
                    **({"Content-Range": f"bytes {start}-{size - 1}/{size}"} if start else {}),
                },
                accept=(308,),
            )

    def _upload(self, credentials: Mapping[str, str], session: str, path: Path, size: int) -> Result:
        """Send the bytes; after a lost answer or a 5xx ask the session what it has and send the rest."""
        start = 0
        for _try in range(RESUME_TRIES):
            try:
                answer = self._put(credentials, session, path, size, start)
            except (UnknownOutcome, TransientError) as error:
                answer = self._session_status(credentials, session, size, error)
            if answer.status in {200, 201}:
                return self._result(answer)
            start = self._received(answer)
        raise UnknownOutcome(f"the upload did not complete after {RESUME_TRIES} tries")

    def _session_status(self, credentials: Mapping[str, str], session: str, size: int, error: ConnectorError) -> Answer:
        try:
            return self.request(
                "PUT",
                session,
                credentials=credentials,
                headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"},
                body=b"",
                repeatable=True,
                accept=(308,),
            )
        except (TransientError, PermanentError) as status_error:
            if isinstance(error, UnknownOutcome):
                raise UnknownOutcome(
                    f"{error.message}; the upload session cannot tell: {status_error.message}"
                ) from error
            raise error from status_error

    @staticmethod
    def _received(answer: Answer) -> int:
        """Return the first byte the session still needs, from a 308's ``Range: bytes=0-N``."""
        last = answer.header("Range").rpartition("-")[2]
        return int(last) + 1 if last.isdigit() else 0

    @staticmethod
    def _result(answer: Answer) -> Result:
        video_id = str(answer.json().get("id") or "")
        if not video_id:
            raise PermanentError("YouTube answered without a video id", response_excerpt=answer.excerpt)
        return Result(external_id=video_id, url=video_url(video_id), response_excerpt=answer.excerpt)

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        credentials = self.credentials(account)
        channels = self.recent(
            "GET", "youtube/v3/channels", credentials=credentials, query={"part": "contentDetails", "mine": "true"}
        )
        items = channels.json().get("items") or [{}]
        uploads = ((items[0].get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if not uploads:
            raise TransientError(YOUTUBE_NO_PLAYLIST.english())
        listing = self.recent(
            "GET",
            "youtube/v3/playlistItems",
            credentials=credentials,
            query={"part": "snippet", "playlistId": uploads, "maxResults": LOOKUP_DEPTH},
        )
        snippets = [item.get("snippet") or {} for item in listing.json().get("items") or []]
        return self.find(snippets, key, texts=("description",), result=self._found)

    @staticmethod
    def _found(snippet: Mapping[str, Any]) -> Result:
        video_id = str((snippet.get("resourceId") or {}).get("videoId") or "")
        return listed(snippet, external_id=video_id, url=video_url(video_id))

    def delete_with_proof(self, *, account: AccountRef, external_id: str) -> Deletion:
        credentials = self.credentials(account)
        answer = self.request(
            "DELETE", "youtube/v3/videos", credentials=credentials, query={"id": external_id}, accept=(404,)
        )
        return Deletion(deleted=True, response_excerpt=f"HTTP {answer.status} {answer.excerpt}".strip())
