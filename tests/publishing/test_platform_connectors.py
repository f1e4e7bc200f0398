"""The platform API clients against local fake platforms (real HTTP on 127.0.0.1, with faults).

The first half holds every client to the same contract (temporary, permanent and unknown
outcomes, lookup, delete, credentials); the second half checks what each platform does its own
way (containers, resumable uploads, chunks, status polling, headers, text formats).
"""

import io
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from publishing.connectors.api import ApiConnector
from publishing.connectors.base import (
    AccountRef,
    MediaRef,
    Payload,
    PermanentError,
    Result,
    TransientError,
    UnknownOutcome,
)
from publishing.connectors.facebook import FacebookConnector
from publishing.connectors.http import HttpClient
from publishing.connectors.instagram import InstagramConnector
from publishing.connectors.linkedin import LinkedInConnector, little_text
from publishing.connectors.marker import carries, marker_of, text_marked
from publishing.connectors.registry import connector_for, credential_keys_for
from publishing.connectors.tiktok import TikTokConnector
from publishing.connectors.x import XConnector
from publishing.connectors.youtube import YouTubeConnector, seconds_until_quota_reset
from tests.posts.fakeplatforms import (
    TOKEN,
    FakeApi,
    FakeFacebook,
    FakeInstagram,
    FakeLinkedIn,
    FakeTikTok,
    FakeX,
    FakeYouTube,
)

KEY = "rounds-0123456789abcdef0123456789abcdef-fedcba9876543210"
TEXT = "Flu shots this week (free) for staff_and_visitors.\n\nhttps://example.org/flu_(2026)\n\n#Flu"
VIDEO_BYTES = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def media_root(settings: Any) -> Path:
    root = Path(settings.MEDIA_ROOT)
    (root / "posts").mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def photo(media_root: Path) -> MediaRef:
    path = media_root / "posts" / "nurse.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return MediaRef(path=str(path), alt_text="A nurse with a syringe")


@pytest.fixture
def photo2(media_root: Path, photo: MediaRef) -> MediaRef:
    path = media_root / "posts" / "queue.jpg"
    path.write_bytes(Path(photo.path).read_bytes())
    return MediaRef(path=str(path), alt_text="People queueing")


@pytest.fixture
def video(media_root: Path) -> MediaRef:
    path = media_root / "posts" / "clip.mp4"
    path.write_bytes(VIDEO_BYTES)
    return MediaRef(path=str(path), alt_text="", kind="video")


def client(cls: type[ApiConnector], media_root: Path, **options: Any) -> Any:
    return cls(timeout=0.5, media_root=media_root, poll_interval=0.01, poll_seconds=1.0, **options)


def account_of(fake: FakeApi, platform: str, **credentials: str) -> AccountRef:
    return AccountRef(platform=platform, handle="klinikum", credentials={**fake.credentials(), **credentials})


# The same contract for every platform ---------------------------------------------------------


@dataclass(frozen=True)
class Case:
    platform: str
    fake: type[FakeApi]
    connector: type[ApiConnector]
    media: str  # "", "photo" or "video": what a minimal post needs
    write: str  # the fake's step of the call that publishes
    refusal: str  # words of the platform's refusal
    deletes: bool


CASES = {
    case.platform: case
    for case in (
        Case("facebook", FakeFacebook, FacebookConnector, "", "feed", "blocked link", True),
        Case("instagram", FakeInstagram, InstagramConnector, "photo", "container", "blocked link", False),
        Case("linkedin", FakeLinkedIn, LinkedInConnector, "", "post", "length exceeds 3000", True),
        Case("x", FakeX, XConnector, "", "tweet", "duplicate content", True),
        Case("youtube", FakeYouTube, YouTubeConnector, "video", "session", "invalid video title", True),
        Case("tiktok", FakeTikTok, TikTokConnector, "video", "init", "title of the post is too long", False),
    )
}


@pytest.fixture(params=list(CASES))
def case(request: Any) -> Case:
    return CASES[request.param]


@pytest.fixture
def world(case: Case, media_root: Path, photo: MediaRef, video: MediaRef) -> Iterator[tuple[FakeApi, Any, Payload]]:
    media = {"": (), "photo": (photo,), "video": (video,)}[case.media]
    payload = Payload(text=TEXT, link="https://example.org/flu", title="Flu week", hashtags=("Flu",), media=media)
    with case.fake() as fake:
        yield fake, client(case.connector, media_root), payload


def test_the_registry_serves_each_platform_its_client(case: Case) -> None:
    assert isinstance(connector_for(connector="platform", platform=case.platform), case.connector)
    names = {key.name for key in credential_keys_for(connector="platform", platform=case.platform)}
    assert "access_token" in names and "api_base" in names
    assert credential_keys_for(connector="outbox", platform=case.platform) == ()


def test_publish_returns_the_platforms_id_and_url_and_the_text_carries_the_marker(
    case: Case, world: tuple[FakeApi, Any, Payload]
) -> None:
    fake, connector, payload = world

    result = connector.publish(account=account_of(fake, case.platform), payload=payload, key=KEY)

    assert len(fake.created) == 1
    created = fake.created[0]
    assert result.external_id == created.id
    assert result.url.startswith("https://") or case.platform == "tiktok"
    assert carries(created.text, KEY)
    assert "Flu shots this week" in created.text
    assert created.text.endswith(marker_of(KEY))


def test_500_is_transient_and_posts_nothing(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world
    fake.fail_next(case.write, "500")

    with pytest.raises(TransientError) as caught:
        connector.publish(account=account_of(fake, case.platform), payload=payload, key=KEY)

    assert caught.value.retry_after is None
    assert caught.value.response_excerpt
    assert fake.created == []


EXPECTED_WAIT: dict[str, Callable[[], float | None]] = {
    "facebook": lambda: 300.0,  # X-Business-Use-Case-Usage: estimated_time_to_regain_access 5 (minutes)
    "instagram": lambda: 300.0,
    "linkedin": lambda: None,  # LinkedIn names no reset time
    "x": lambda: 90.0,  # x-rate-limit-reset, 90 s ahead
    "youtube": seconds_until_quota_reset,  # quotaExceeded: the daily quota starts over at midnight Pacific
    "tiktok": lambda: 60.0,  # TikTok's windows are a minute
}


def test_rate_limits_are_transient_with_the_platforms_wait(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world
    fake.fail_next(case.write, "429")

    with pytest.raises(TransientError) as caught:
        connector.publish(account=account_of(fake, case.platform), payload=payload, key=KEY)

    expected = EXPECTED_WAIT[case.platform]()
    if expected is None:
        assert caught.value.retry_after is None
    else:
        assert caught.value.retry_after == pytest.approx(expected, abs=2)
    assert fake.created == []


def test_a_refusal_is_permanent_with_the_platforms_message(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world
    fake.fail_next(case.write, "400")

    with pytest.raises(PermanentError, match=case.refusal):
        connector.publish(account=account_of(fake, case.platform), payload=payload, key=KEY)
    assert fake.created == []


def test_a_wrong_token_is_refused_by_the_platform(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world

    with pytest.raises(PermanentError):
        connector.publish(account=account_of(fake, case.platform, access_token="stale"), payload=payload, key=KEY)
    assert fake.requests and all(r.headers["authorization"] == "Bearer stale" for r in fake.requests)
    assert fake.created == []


def test_missing_credentials_are_permanent_and_named(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world

    with pytest.raises(PermanentError, match="access_token"):
        connector.publish(account=AccountRef(platform=case.platform, handle="h"), payload=payload, key=KEY)
    assert fake.requests == []


def test_a_late_answer_within_the_timeout_is_success(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world
    fake.fail_next(case.write, "slow")

    result = connector.publish(account=account_of(fake, case.platform), payload=payload, key=KEY)

    assert result.external_id == fake.created[0].id
    assert fake.duplicates() == {}


def test_lookup_finds_what_publish_made_and_nothing_else(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world
    account = account_of(fake, case.platform)
    published = connector.publish(account=account, payload=payload, key=KEY)

    found = connector.lookup(account=account, key=KEY)

    assert found is not None and found.external_id == published.external_id
    other = KEY.replace("0123", "9999")
    if case.platform == "tiktok":  # TikTok lists only moderated posts: not listed is not "not there"
        with pytest.raises(TransientError, match="cannot tell"):
            connector.lookup(account=account, key=other)
    else:
        assert connector.lookup(account=account, key=other) is None


def test_delete_where_the_platform_allows_it(case: Case, world: tuple[FakeApi, Any, Payload]) -> None:
    fake, connector, payload = world
    account = account_of(fake, case.platform)
    published = connector.publish(account=account, payload=payload, key=KEY)

    deletion = connector.delete_with_proof(account=account, external_id=published.external_id)

    assert deletion.deleted is case.deletes
    assert connector.delete(account=account, external_id=published.external_id) is case.deletes
    assert deletion.response_excerpt
    if case.deletes:
        assert fake.deleted == [published.external_id]
        assert fake.live == {}
    else:
        assert "no way to delete" in deletion.response_excerpt
        assert list(fake.live) == [published.external_id]


LOST_ANSWER_STEPS = {"facebook": "feed", "linkedin": "post", "x": "tweet"}


@pytest.mark.parametrize("mode", ["timeout", "drop"])
@pytest.mark.parametrize("platform", list(LOST_ANSWER_STEPS))
def test_a_lost_answer_is_unknown_and_lookup_then_finds_the_post(platform: str, mode: str, media_root: Path) -> None:
    case = CASES[platform]
    payload = Payload(text=TEXT, link="https://example.org/flu")
    with case.fake() as fake:
        connector = client(case.connector, media_root)
        account = account_of(fake, platform)
        fake.fail_next(LOST_ANSWER_STEPS[platform], mode)
        started = time.monotonic()

        with pytest.raises(UnknownOutcome):
            connector.publish(account=account, payload=payload, key=KEY)

        assert time.monotonic() - started < 1.4  # the client gave up at its timeout, not the server's
        found = connector.lookup(account=account, key=KEY)
        assert found is not None and found.external_id == fake.created[0].id
        assert fake.duplicates() == {} and len(fake.created) == 1


def test_no_connection_is_transient_because_nothing_was_sent(media_root: Path) -> None:
    fake = FakeX().start()
    credentials = fake.credentials()
    fake.stop()
    with pytest.raises(TransientError, match="could not send"):
        client(XConnector, media_root).publish(
            account=AccountRef(platform="x", handle="k", credentials=credentials), payload=Payload(text="Hi"), key=KEY
        )


# The invisible marker -------------------------------------------------------------------------


def test_the_marker_is_invisible_and_tells_keys_apart() -> None:
    marker = marker_of(KEY)
    assert len(marker) == 15
    assert all(unicodedata.category(char) == "Cf" for char in marker)
    assert marker != marker_of(KEY + "x")
    assert carries("Hello" + marker, KEY) and not carries("Hello" + marker_of("other"), KEY)
    assert not carries(None, KEY)


def test_the_marker_needs_room_within_the_platforms_limit() -> None:
    assert text_marked("a" * 265, KEY, platform="x").startswith("a" * 265)
    with pytest.raises(PermanentError, match="shorten it by 1"):
        text_marked("a" * 266, KEY, platform="x")


# Facebook -------------------------------------------------------------------------------------


@pytest.fixture
def facebook() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


def test_facebook_text_with_a_link_goes_to_the_page_feed(facebook: FakeFacebook, media_root: Path) -> None:
    connector = client(FacebookConnector, media_root)
    payload = Payload(text=TEXT, link="https://example.org/flu")

    result = connector.publish(account=account_of(facebook, "facebook"), payload=payload, key=KEY)

    (call,) = facebook.calls("POST", "/4711/feed")
    assert call.form()["link"] == "https://example.org/flu"
    assert call.form()["message"] == TEXT + marker_of(KEY)
    assert result.url == f"https://www.facebook.com/{result.external_id}"


def test_facebook_one_image_is_a_page_photo_with_its_alt_text(
    facebook: FakeFacebook, media_root: Path, photo: MediaRef
) -> None:
    connector = client(FacebookConnector, media_root)

    result = connector.publish(
        account=account_of(facebook, "facebook"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
    )

    (call,) = facebook.calls("POST", "/4711/photos")
    fields, files = call.multipart()
    assert files["source"] == Path(photo.path).read_bytes()
    assert fields["alt_text_custom"] == "A nurse with a syringe"
    assert fields["published"] == "true"
    assert result.external_id == facebook.created[0].id
    assert facebook.calls("POST", "/4711/feed") == []


def test_facebook_several_images_are_uploaded_unpublished_then_attached_to_one_post(
    facebook: FakeFacebook, media_root: Path, photo: MediaRef, photo2: MediaRef
) -> None:
    connector = client(FacebookConnector, media_root)

    connector.publish(
        account=account_of(facebook, "facebook"), payload=Payload(text=TEXT, media=(photo, photo2)), key=KEY
    )

    uploads = facebook.calls("POST", "/4711/photos")
    assert [call.multipart()[0]["published"] for call in uploads] == ["false", "false"]
    assert len(facebook.created) == 1
    assert facebook.created[0].media == list(facebook.photos)


def test_facebook_does_not_upload_videos(facebook: FakeFacebook, media_root: Path, video: MediaRef) -> None:
    with pytest.raises(PermanentError, match="videos"):
        client(FacebookConnector, media_root).publish(
            account=account_of(facebook, "facebook"), payload=Payload(text=TEXT, media=(video,)), key=KEY
        )
    assert facebook.requests == []


def test_facebook_delete_of_a_post_already_gone_counts_as_gone(facebook: FakeFacebook, media_root: Path) -> None:
    deletion = client(FacebookConnector, media_root).delete_with_proof(
        account=account_of(facebook, "facebook"), external_id="4711_999"
    )
    assert deletion.deleted is True
    assert "does not exist" in deletion.response_excerpt


# Instagram ------------------------------------------------------------------------------------


@pytest.fixture
def instagram() -> Iterator[FakeInstagram]:
    with FakeInstagram(processing_polls=2) as fake:
        yield fake


def test_instagram_creates_a_container_waits_until_finished_then_publishes(
    instagram: FakeInstagram, media_root: Path, photo: MediaRef
) -> None:
    connector = client(InstagramConnector, media_root)

    result = connector.publish(
        account=account_of(instagram, "instagram"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
    )

    (container_call,) = instagram.calls("POST", f"/{instagram.user_id}/media")
    form = container_call.form()
    assert form["image_url"] == "https://media.example.org/m/posts/nurse.jpg"
    assert form["alt_text"] == "A nurse with a syringe"
    assert carries(form["caption"], KEY)
    (container_id,) = instagram.containers
    status_polls = [r for r in instagram.calls("GET", r"/\d+") if r.path.endswith(container_id)]
    assert len(status_polls) == 3  # IN_PROGRESS twice, then FINISHED
    (publish_call,) = instagram.calls("POST", f"/{instagram.user_id}/media_publish")
    assert publish_call.form() == {"creation_id": container_id}
    assert instagram.containers[container_id]["status_code"] == "PUBLISHED"
    assert result.external_id == instagram.created[0].id
    assert result.url == f"https://www.instagram.com/p/{result.external_id}/"


def test_instagram_several_items_become_one_carousel(
    instagram: FakeInstagram, media_root: Path, photo: MediaRef, video: MediaRef
) -> None:
    client(InstagramConnector, media_root).publish(
        account=account_of(instagram, "instagram"), payload=Payload(text=TEXT, media=(photo, video)), key=KEY
    )

    forms = [call.form() for call in instagram.calls("POST", f"/{instagram.user_id}/media")]
    assert [form.get("is_carousel_item") for form in forms] == ["true", "true", None]
    assert forms[1] == {
        "media_type": "VIDEO",  # a video in a carousel; alone it would be a REELS container
        "video_url": "https://media.example.org/m/posts/clip.mp4",
        "is_carousel_item": "true",
    }
    assert forms[2]["media_type"] == "CAROUSEL" and len(forms[2]["children"].split(",")) == 2
    assert instagram.created[0].media == [
        "https://media.example.org/m/posts/nurse.jpg",
        "https://media.example.org/m/posts/clip.mp4",
    ]


@pytest.mark.parametrize("mode", ["timeout", "drop"])
def test_instagram_a_lost_publish_answer_is_settled_by_the_container_status(
    instagram: FakeInstagram, media_root: Path, photo: MediaRef, mode: str
) -> None:
    instagram.fail_next("publish", mode)

    result = client(InstagramConnector, media_root).publish(
        account=account_of(instagram, "instagram"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
    )

    assert result.external_id == instagram.created[0].id
    assert len(instagram.calls("POST", f"/{instagram.user_id}/media_publish")) == 1
    assert instagram.duplicates() == {}


def test_instagram_a_lost_answer_before_publishing_is_sent_again_for_the_same_container(
    instagram: FakeInstagram, media_root: Path, photo: MediaRef
) -> None:
    instagram.fail_next("publish", "reset")

    result = client(InstagramConnector, media_root).publish(
        account=account_of(instagram, "instagram"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
    )

    calls = instagram.calls("POST", f"/{instagram.user_id}/media_publish")
    assert len(calls) == 2 and calls[0].form() == calls[1].form()  # the same container, published once
    assert [post.id for post in instagram.created] == [result.external_id]


def test_instagram_unknown_when_neither_publish_nor_the_status_answers(
    instagram: FakeInstagram, media_root: Path, photo: MediaRef
) -> None:
    connector = client(InstagramConnector, media_root)
    account = account_of(instagram, "instagram")
    instagram.fail_next("publish", "drop")
    instagram.fail_next("status", "ok", "ok", "ok", "500")

    with pytest.raises(UnknownOutcome, match="status is unknown"):
        connector.publish(account=account, payload=Payload(text=TEXT, media=(photo,)), key=KEY)

    found = connector.lookup(account=account, key=KEY)
    assert found is not None and found.external_id == instagram.created[0].id


def test_instagram_processing_error_is_permanent_and_nothing_is_published(media_root: Path, photo: MediaRef) -> None:
    with FakeInstagram(processing_fails=True) as fake:
        with pytest.raises(PermanentError, match="could not process"):
            client(InstagramConnector, media_root).publish(
                account=account_of(fake, "instagram"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
            )
        assert fake.calls("POST", f"/{fake.user_id}/media_publish") == []


def test_instagram_still_processing_after_our_patience_is_a_retry(media_root: Path, photo: MediaRef) -> None:
    with FakeInstagram(processing_polls=10_000) as fake:
        with pytest.raises(TransientError, match="IN_PROGRESS"):
            client(InstagramConnector, media_root).publish(
                account=account_of(fake, "instagram"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
            )
        assert fake.created == []


def test_instagram_needs_media_and_the_public_media_address(
    instagram: FakeInstagram, media_root: Path, photo: MediaRef
) -> None:
    connector = client(InstagramConnector, media_root)
    with pytest.raises(PermanentError, match="at least one image"):
        connector.publish(account=account_of(instagram, "instagram"), payload=Payload(text=TEXT), key=KEY)
    credentials = {k: v for k, v in instagram.credentials().items() if k != "media_base_url"}
    with pytest.raises(PermanentError, match="media_base_url"):
        connector.publish(
            account=AccountRef(platform="instagram", handle="k", credentials=credentials),
            payload=Payload(text=TEXT, media=(photo,)),
            key=KEY,
        )


# LinkedIn -------------------------------------------------------------------------------------


@pytest.fixture
def linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as fake:
        yield fake


def test_linkedin_posts_with_the_version_and_protocol_headers_and_little_text(
    linkedin: FakeLinkedIn, media_root: Path
) -> None:
    result = client(LinkedInConnector, media_root).publish(
        account=account_of(linkedin, "linkedin"),
        payload=Payload(text=TEXT, link="https://example.org/flu", title="Flu week"),
        key=KEY,
    )

    (call,) = linkedin.calls("POST", "/rest/posts")
    assert call.headers["linkedin-version"] == "202609"
    assert call.headers["x-restli-protocol-version"] == "2.0.0"
    document = call.json()
    assert document["author"] == linkedin.author
    assert document["commentary"].startswith(r"Flu shots this week \(free\) for staff\_and\_visitors.")
    assert "https://example.org/flu_(2026)" in document["commentary"]  # URLs stay clickable
    assert "{hashtag|\\#|Flu}" in document["commentary"]
    assert document["content"] == {"article": {"source": "https://example.org/flu", "title": "Flu week"}}
    assert result.external_id == linkedin.created[0].id
    assert result.url == f"https://www.linkedin.com/feed/update/{result.external_id}/"


def test_linkedin_refuses_requests_without_its_headers(linkedin: FakeLinkedIn) -> None:
    http = HttpClient(timeout=0.5)
    bare = http.call("GET", f"{linkedin.base_url}/rest/posts", headers={"Authorization": f"Bearer {TOKEN}"})
    versioned = http.call(
        "GET",
        f"{linkedin.base_url}/rest/posts",
        headers={"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": "202609"},
    )
    assert (bare.status, versioned.status) == (400, 400)
    assert "LinkedIn-Version" in bare.text and "X-Restli-Protocol-Version" in versioned.text


def test_linkedin_images_are_uploaded_then_attached_with_alt_text(
    linkedin: FakeLinkedIn, media_root: Path, photo: MediaRef, photo2: MediaRef
) -> None:
    connector = client(LinkedInConnector, media_root)
    account = account_of(linkedin, "linkedin")

    connector.publish(account=account, payload=Payload(text="One", media=(photo,)), key=KEY)
    connector.publish(account=account, payload=Payload(text="Two", media=(photo, photo2)), key=KEY + "2")

    assert all(data == Path(photo.path).read_bytes() for data in linkedin.images.values())
    one, two = linkedin.created
    assert one.extra["content"] == {"media": {"id": one.media[0], "altText": "A nurse with a syringe"}}
    assert [image["altText"] for image in two.extra["content"]["multiImage"]["images"]] == [
        "A nurse with a syringe",
        "People queueing",
    ]


def test_linkedin_little_text_escapes_reserved_characters_but_keeps_links_and_hashtags() -> None:
    assert little_text("a (b) [c] {d} <e> @f *g* ~h~ | \\ #Tag_1 https://x.org/a_(b)") == (
        r"a \(b\) \[c\] \{d\} \<e\> \@f \*g\* \~h\~ \| \\ {hashtag|\#|Tag\_1} https://x.org/a_(b)"
    )


# X --------------------------------------------------------------------------------------------


def test_x_images_are_uploaded_with_alt_text_and_attached(media_root: Path, photo: MediaRef) -> None:
    with FakeX() as fake:
        result = client(XConnector, media_root).publish(
            account=account_of(fake, "x"), payload=Payload(text="Flu shots", media=(photo,)), key=KEY
        )

        (media_id,) = fake.media
        assert fake.media[media_id] == {"bytes": Path(photo.path).read_bytes(), "alt": "A nurse with a syringe"}
        assert fake.created[0].media == [media_id]
        assert result.url == f"https://x.com/klinikum/status/{result.external_id}"


def test_x_lookup_cannot_tell_without_a_plan_that_reads_timelines(media_root: Path) -> None:
    with FakeX(timeline_allowed=False) as fake, pytest.raises(TransientError, match="cannot tell"):
        client(XConnector, media_root).lookup(account=account_of(fake, "x", user_id=fake.user_id), key=KEY)


# YouTube --------------------------------------------------------------------------------------


@pytest.fixture
def youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


def test_youtube_opens_a_resumable_session_then_puts_the_bytes(
    youtube: FakeYouTube, media_root: Path, video: MediaRef
) -> None:
    result = client(YouTubeConnector, media_root).publish(
        account=account_of(youtube, "youtube"),
        payload=Payload(text=TEXT, title="Flu <week>", hashtags=("Flu",), media=(video,), language="de"),
        key=KEY,
    )

    (session,) = youtube.calls("POST", "/upload/youtube/v3/videos")
    assert session.query == {"uploadType": "resumable", "part": "snippet,status"}
    assert session.headers["x-upload-content-length"] == str(len(VIDEO_BYTES))
    assert session.headers["x-upload-content-type"] == "video/mp4"
    resource = session.json()
    assert resource["snippet"]["title"] == "Flu week"  # YouTube refuses < and > in titles
    assert resource["snippet"]["tags"] == ["Flu"] and resource["snippet"]["defaultLanguage"] == "de"
    assert resource["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False}
    (upload,) = youtube.calls("PUT", r"/upload/session/\d+")
    assert upload.body == VIDEO_BYTES
    assert youtube.created[0].extra["bytes"] == VIDEO_BYTES
    assert result.url == f"https://www.youtube.com/watch?v={result.external_id}"


def test_youtube_an_upload_cut_off_is_resumed_where_the_session_stopped(
    youtube: FakeYouTube, media_root: Path, video: MediaRef
) -> None:
    youtube.cut_next_upload()

    result = client(YouTubeConnector, media_root).publish(
        account=account_of(youtube, "youtube"), payload=Payload(text=TEXT, media=(video,)), key=KEY
    )

    _first, status, rest = youtube.calls("PUT", r"/upload/session/\d+")
    half = len(VIDEO_BYTES) // 2
    assert status.headers["content-range"] == f"bytes */{len(VIDEO_BYTES)}"
    assert rest.headers["content-range"] == f"bytes {half}-{len(VIDEO_BYTES) - 1}/{len(VIDEO_BYTES)}"
    assert rest.body == VIDEO_BYTES[half:]
    assert youtube.created[0].extra["bytes"] == VIDEO_BYTES
    assert [post.id for post in youtube.created] == [result.external_id]


@pytest.mark.parametrize("mode", ["timeout", "drop", "500"])
def test_youtube_a_lost_or_failed_upload_answer_is_settled_by_the_session(
    youtube: FakeYouTube, media_root: Path, video: MediaRef, mode: str
) -> None:
    youtube.fail_next("upload", mode)

    result = client(YouTubeConnector, media_root).publish(
        account=account_of(youtube, "youtube"), payload=Payload(text=TEXT, media=(video,)), key=KEY
    )

    assert [post.id for post in youtube.created] == [result.external_id]
    assert youtube.created[0].extra["bytes"] == VIDEO_BYTES


def test_youtube_unknown_when_the_session_cannot_be_asked(
    youtube: FakeYouTube, media_root: Path, video: MediaRef
) -> None:
    youtube.fail_next("upload", "drop", "500")

    with pytest.raises(UnknownOutcome, match="cannot tell"):
        client(YouTubeConnector, media_root).publish(
            account=account_of(youtube, "youtube"), payload=Payload(text=TEXT, media=(video,)), key=KEY
        )
    assert len(youtube.created) == 1  # it did arrive: lookup will find it before any retry


def test_youtube_takes_exactly_one_video(youtube: FakeYouTube, media_root: Path, photo: MediaRef) -> None:
    with pytest.raises(PermanentError, match="one video"):
        client(YouTubeConnector, media_root).publish(
            account=account_of(youtube, "youtube"), payload=Payload(text=TEXT, media=(photo,)), key=KEY
        )


# TikTok ---------------------------------------------------------------------------------------


def test_tiktok_video_creator_info_init_upload_then_status(media_root: Path, video: MediaRef) -> None:
    with FakeTikTok(moderation_polls=2) as fake:
        result = client(TikTokConnector, media_root).publish(
            account=account_of(fake, "tiktok", privacy_level="SELF_ONLY"),
            payload=Payload(text=TEXT, media=(video,)),
            key=KEY,
        )

        (init,) = fake.calls("POST", "/v2/post/publish/video/init/")
        document = init.json()
        assert document["post_info"]["privacy_level"] == "SELF_ONLY"
        assert carries(document["post_info"]["title"], KEY)
        size = len(VIDEO_BYTES)
        assert document["source_info"] == {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": size,
            "total_chunk_count": 1,
        }
        (upload,) = fake.calls("PUT", r"/upload/.+")
        assert upload.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        assert len(fake.calls("POST", "/v2/post/publish/status/fetch/")) == 3
        assert result.external_id == fake.created[0].id
        assert result.url == f"https://www.tiktok.com/@klinikum/video/{result.external_id}"


def test_tiktok_large_videos_go_in_chunks_and_the_last_takes_the_rest(media_root: Path, video: MediaRef) -> None:
    with FakeTikTok() as fake:
        client(TikTokConnector, media_root, chunk_bytes=3000).publish(
            account=account_of(fake, "tiktok"), payload=Payload(text=TEXT, media=(video,)), key=KEY
        )

        size = len(VIDEO_BYTES)
        assert fake.calls("POST", "/v2/post/publish/video/init/")[0].json()["source_info"]["total_chunk_count"] == 3
        ranges = [call.headers["content-range"] for call in fake.calls("PUT", r"/upload/.+")]
        assert ranges == ["bytes 0-2999/10240", "bytes 3000-5999/10240", f"bytes 6000-{size - 1}/{size}"]
        assert next(iter(fake.publishes.values()))["data"] == VIDEO_BYTES


def test_tiktok_photos_are_pulled_from_the_public_media_address(
    media_root: Path, photo: MediaRef, photo2: MediaRef
) -> None:
    with FakeTikTok() as fake:
        client(TikTokConnector, media_root).publish(
            account=account_of(fake, "tiktok"),
            payload=Payload(text=TEXT, title="Flu week", media=(photo, photo2)),
            key=KEY,
        )

        document = fake.calls("POST", "/v2/post/publish/content/init/")[0].json()
        assert document["media_type"] == "PHOTO" and document["post_mode"] == "DIRECT_POST"
        assert document["source_info"]["photo_images"] == [
            "https://media.example.org/m/posts/nurse.jpg",
            "https://media.example.org/m/posts/queue.jpg",
        ]
        assert document["post_info"]["title"] == "Flu week"
        assert carries(document["post_info"]["description"], KEY)


def test_tiktok_a_post_still_in_moderation_is_accepted_with_its_publish_id(media_root: Path, video: MediaRef) -> None:
    with FakeTikTok(moderation_polls=10_000) as fake:
        result = client(TikTokConnector, media_root).publish(
            account=account_of(fake, "tiktok"), payload=Payload(text=TEXT, media=(video,)), key=KEY
        )

        assert result == Result(
            external_id=next(iter(fake.publishes)), url="", response_excerpt=result.response_excerpt
        )
        assert "PROCESSING_DOWNLOAD" in result.response_excerpt


def test_tiktok_refuses_a_privacy_level_the_creator_may_not_use(media_root: Path, video: MediaRef) -> None:
    with FakeTikTok(privacy=("SELF_ONLY",)) as fake:
        with pytest.raises(PermanentError, match="allowed: SELF_ONLY"):
            client(TikTokConnector, media_root).publish(
                account=account_of(fake, "tiktok"), payload=Payload(text=TEXT, media=(video,)), key=KEY
            )
        assert fake.calls("POST", "/v2/post/publish/video/init/") == []


@pytest.mark.parametrize("mode", ["timeout", "drop"])
def test_tiktok_a_lost_answer_to_the_last_chunk_is_settled_by_the_status(
    media_root: Path, video: MediaRef, mode: str
) -> None:
    with FakeTikTok() as fake:
        fake.fail_next("upload", mode)
        result = client(TikTokConnector, media_root).publish(
            account=account_of(fake, "tiktok"), payload=Payload(text=TEXT, media=(video,)), key=KEY
        )
        assert [post.id for post in fake.created] == [result.external_id]


def test_tiktok_lookup_cannot_tell_until_moderation_lists_the_post(media_root: Path, photo: MediaRef) -> None:
    with FakeTikTok(moderation_polls=10_000) as fake:
        connector = client(TikTokConnector, media_root)
        account = account_of(fake, "tiktok")
        fake.fail_next("init", "drop")

        with pytest.raises(UnknownOutcome):
            connector.publish(account=account, payload=Payload(text=TEXT, media=(photo,)), key=KEY)
        with pytest.raises(TransientError, match="cannot tell"):
            connector.lookup(account=account, key=KEY)

        fake.created[0].extra["listed"] = True  # moderation finished
        found = connector.lookup(account=account, key=KEY)
        assert found is not None and found.external_id == fake.created[0].id
        assert found.url == f"https://www.tiktok.com/@klinikum/video/{found.external_id}"


def test_tiktok_lookup_without_the_list_scope_cannot_tell(media_root: Path) -> None:
    with FakeTikTok(list_allowed=False) as fake, pytest.raises(TransientError, match="cannot tell"):
        client(TikTokConnector, media_root).lookup(account=account_of(fake, "tiktok"), key=KEY)
