"""Each family of platform clients end to end: approved, scheduled, dispatched and sent to a local fake platform.

A post goes through the review chain and the schedule as in production; its account's connector
is "platform" with credentials stored encrypted; the dispatcher's pass and the send task run
as in test_publishing. The fakes record what the platform would show, so the tests see the one
post, and the publication records its id and URL.
"""

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from approvals.services import round_submit
from posts.media import image_process
from posts.models import Media, Post, PostStatus
from posts.services import FeatureSpec, NewMedia, account_save, post_schedule, post_update
from publishing.connectors.marker import carries
from publishing.models import AttemptOutcome, Publication
from publishing.models import PublicationStatus as P
from publishing.services import publication_key
from tests.conftest import image_checks_run
from tests.posts.fakeplatforms import FakeApi, FakeFacebook, FakeInstagram, FakeLinkedIn, FakeTikTok, FakeX, FakeYouTube
from tests.publishing import test_publishing

# The review chain and the dispatcher's pass, set up as test_publishing does (fixtures and helpers).
flu, reviewers, run_pass = test_publishing.flu, test_publishing.reviewers, test_publishing.run_pass
approve_all, at = test_publishing.approve_all, test_publishing.at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.ROUNDS_PUBLISH_HTTP_TIMEOUT = 0.5
    settings.ROUNDS_PUBLISH_BACKOFF_SECONDS = 30
    settings.ROUNDS_PUBLISH_MAX_ATTEMPTS = 6
    settings.ROUNDS_CONNECTOR_OPTIONS = {
        platform: {"poll_interval": 0.01, "poll_seconds": 1.0} for platform in ("instagram", "tiktok", "youtube")
    }


def jpeg() -> Any:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), "teal").save(buffer, "JPEG")
    buffer.seek(0)
    return image_process(upload=buffer)


def add_video(post: Post) -> None:
    """Give a draft a video (the upload pipeline takes images only), as a new revision."""
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
    thumbnail = io.BytesIO()
    Image.new("RGB", (16, 9), "black").save(thumbnail, "JPEG")
    Media.objects.create(
        post=post,
        kind="video",
        file=ContentFile(data, name="clip.mp4"),
        thumbnail=ContentFile(thumbnail.getvalue(), name="clip.jpg"),
        alt_text="Nurses at the flu clinic",
        checksum="0" * 64,
        width=1920,
        height=1080,
        format="mp4",
        byte_size=len(data),
    )
    post_update(post=post, actor=post.author, data={"title": post.title})


@pytest.fixture
def platform_account(account_factory: Any, governance: Any) -> Callable[[str, FakeApi], Any]:
    def make(platform: str, fake: FakeApi) -> Any:
        account = account_factory(platform, connector="platform", handle="klinikum")
        return account_save(account=account, actor=governance, credentials=fake.credentials())

    return make


@pytest.fixture
def scheduled_with(
    editor: Any,
    flu: Any,
    reviewers: dict[str, Any],
    post_factory: Any,
) -> Callable[..., Post]:
    """Return a maker of posts with media, approved by the whole chain and scheduled in three days."""

    def make(account: Any, *, media: str = "", featured: list[FeatureSpec] | None = None, **data: Any) -> Post:
        data.setdefault("content_type", "event")
        data.setdefault("title", "Flu clinic")
        data.setdefault("body", "Flu shots for everyone this Saturday at the main entrance.")
        post = post_factory(editor, flu, targets=[account], when=timezone.now() + dt.timedelta(days=3), **data)
        if media == "photo":
            post_update(post=post, actor=editor, media_add=[NewMedia(image=jpeg(), alt_text="A nurse with a syringe")])
            image_checks_run(post)
        elif media == "video":
            add_video(post)
        if featured:
            post_update(post=post, actor=editor, featured=featured)
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        approve_all(post, reviewers)
        post_schedule(post=post, actor=editor)
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
        return post

    return make


FAMILIES = {
    "facebook": (FakeFacebook, "photo"),
    "instagram": (FakeInstagram, "photo"),
    "linkedin": (FakeLinkedIn, ""),
    "x": (FakeX, ""),
    "youtube": (FakeYouTube, "video"),
    "tiktok": (FakeTikTok, "photo"),
}


@pytest.fixture(params=list(FAMILIES))
def family(request: Any) -> Iterator[tuple[str, FakeApi, str]]:
    fake_class, media = FAMILIES[request.param]
    with fake_class() as fake:
        yield request.param, fake, media


def test_a_scheduled_post_is_published_once_through_the_platform_api(
    family: tuple[str, FakeApi, str],
    platform_account: Any,
    scheduled_with: Any,
    time_machine: Any,
    run_pass: Any,
) -> None:
    platform, fake, media = family
    account = platform_account(platform, fake)
    post = scheduled_with(account, media=media)

    time_machine.move_to(at(post), tick=False)
    assert run_pass()["claimed"] == 1

    publication = Publication.objects.get(post=post)
    assert publication.status == P.CONFIRMED, publication.last_error
    assert len(fake.created) == 1
    created = fake.created[0]
    assert publication.external_id == created.id
    assert publication.url.startswith("https://") and publication.external_id in publication.url
    assert carries(created.text, publication_key(publication))
    assert "Flu shots for everyone" in created.text
    if media:
        assert created.media or created.extra.get("bytes")
    assert [a.outcome for a in publication.attempt_log.all()] == [AttemptOutcome.CONFIRMED]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED

    time_machine.move_to(at(post, 600), tick=False)
    assert run_pass()["claimed"] == 0
    assert len(fake.created) == 1


def test_a_lost_answer_is_looked_up_and_confirmed_without_posting_again(
    platform_account: Any,
    scheduled_with: Any,
    time_machine: Any,
    run_pass: Any,
) -> None:
    with FakeX() as fake:
        post = scheduled_with(platform_account("x", fake))
        fake.fail_next("tweet", "drop")

        time_machine.move_to(at(post), tick=False)
        run_pass()

        publication = Publication.objects.get(post=post)
        assert publication.status == P.CONFIRMED
        assert [a.outcome for a in publication.attempt_log.all()] == [AttemptOutcome.UNKNOWN, AttemptOutcome.RECONCILED]
        assert publication.external_id == fake.created[0].id
        assert publication.url == f"https://x.com/klinikum/status/{publication.external_id}"
        assert len(fake.calls("POST", "/2/tweets")) == 1 and fake.duplicates() == {}


def test_a_rate_limit_waits_until_the_platforms_reset_then_publishes(
    platform_account: Any,
    scheduled_with: Any,
    time_machine: Any,
    run_pass: Any,
) -> None:
    with FakeX(reset_in=900) as fake:
        post = scheduled_with(platform_account("x", fake))
        fake.fail_next("tweet", "429")

        time_machine.move_to(at(post), tick=False)
        run_pass()
        publication = Publication.objects.get(post=post)
        assert publication.status == P.RETRY_WAIT
        assert (publication.next_attempt_at - timezone.now()).total_seconds() == pytest.approx(900, abs=2)

        time_machine.move_to(publication.next_attempt_at + dt.timedelta(seconds=1), tick=False)
        run_pass()
        publication.refresh_from_db()
        assert publication.status == P.CONFIRMED
        outcomes = [a.outcome for a in publication.attempt_log.all()]
        assert outcomes == [AttemptOutcome.TRANSIENT, AttemptOutcome.CONFIRMED]
        assert len(fake.created) == 1


def test_tiktok_that_cannot_tell_waits_for_a_person_and_never_posts_twice(
    platform_account: Any,
    scheduled_with: Any,
    time_machine: Any,
    run_pass: Any,
) -> None:
    with FakeTikTok(moderation_polls=10_000) as fake:
        post = scheduled_with(platform_account("tiktok", fake), media="photo")
        fake.fail_next("init", "drop")  # TikTok took the photos; the answer was lost

        time_machine.move_to(at(post), tick=False)
        run_pass()
        publication = Publication.objects.get(post=post)
        for _ in range(8):
            if publication.status != P.RETRY_WAIT:
                break
            time_machine.move_to(publication.next_attempt_at + dt.timedelta(seconds=1), tick=False)
            run_pass()
            publication.refresh_from_db()

        assert publication.status == P.FAILED
        assert "cannot tell" in publication.last_error
        assert len(fake.calls("POST", "/v2/post/publish/content/init/")) == 1
        assert len(fake.created) == 1


def test_credentials_are_stored_encrypted_and_a_missing_key_fails_with_its_name(
    platform_account: Any,
    scheduled_with: Any,
    time_machine: Any,
    run_pass: Any,
    governance: Any,
) -> None:
    from django.db import connection

    with FakeLinkedIn() as fake:
        account = platform_account("linkedin", fake)
        with connection.cursor() as cursor:
            cursor.execute("SELECT credentials FROM posts_account WHERE id = %s", [account.pk])
            stored = cursor.fetchone()[0]
        assert fake.credentials()["author_urn"] not in stored

        post = scheduled_with(account)
        credentials = {k: v for k, v in fake.credentials().items() if k != "author_urn"}
        account_save(account=account, actor=governance, credentials=credentials)

        time_machine.move_to(at(post), tick=False)
        run_pass()
        publication = Publication.objects.get(post=post)
        assert publication.status == P.FAILED
        assert "'author_urn'" in publication.last_error
        assert fake.requests == []
