"""Every image fixture through the way an upload really goes: the pipeline, then post_create."""

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from PIL import ExifTags, Image

from audit.models import AuditEvent
from posts.media import image_process
from posts.models import Account, Campaign, Media, Post
from posts.services import NewMedia, TargetSpec, post_create, post_findings
from tests.conftest import IMAGES

pytestmark = pytest.mark.django_db

# fixtures/csv/README.md, table "images/": the outcome the app must give each file.
ACCEPTED = {
    "photo_exif_gps_orientation6.jpg": "jpeg",
    "square_1080_rgba.png": "png",
    "landscape_1200x628.webp": "webp",
    "banner_5to1.jpg": "jpeg",
}
REJECTED = {
    "bomb_30000x30000.png": "too_many_pixels",
    "truncated.jpg": "corrupt",
    "not_an_image.jpg": "not_an_image",
}


@pytest.fixture
def facebook(account_factory: Any) -> Account:
    return account_factory("facebook")


@pytest.fixture
def instagram(account_factory: Any) -> Account:
    return account_factory("instagram")


def upload_post(editor: Any, campaign: Campaign, name: str, *accounts: Account) -> Post:
    with (IMAGES / name).open("rb") as upload:
        image = image_process(upload=upload)
    return post_create(
        actor=editor,
        campaign=campaign,
        data={"body": f"A post with {name}"},
        targets=[TargetSpec(account) for account in accounts],
        media=[NewMedia(image=image, alt_text=f"The picture {name}")],
    )


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def assert_clean(data: bytes) -> Image.Image:
    assert b"Exif" not in data and b"GPS" not in data and b"<x:xmpmeta" not in data
    image = Image.open(io.BytesIO(data))
    assert not image.getexif()
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in image.info and "xmp" not in image.info
    image.load()  # decodes completely
    return image


def test_the_table_covers_every_fixture() -> None:
    assert {path.name for path in IMAGES.iterdir()} == set(ACCEPTED) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_images_are_stored_re_encoded_without_metadata(
    name: str, editor: Any, campaign: Campaign, facebook: Account, settings: Any
) -> None:
    post = upload_post(editor, campaign, name, facebook)
    media = Media.objects.get(post=post)
    with media.file.open("rb") as handle:
        stored = handle.read()
    with media.thumbnail.open("rb") as handle:
        thumbnail = handle.read()
    assert hashlib.sha256(stored).hexdigest() == media.checksum
    assert media.byte_size == len(stored)
    assert media.format == ACCEPTED[name]
    image = assert_clean(stored)
    assert image.size == (media.width, media.height)
    assert (image.format or "").lower() == ACCEPTED[name]
    small = assert_clean(thumbnail)
    assert max(small.size) <= 400
    # The uploader's file name never reaches storage; the revision names the stored checksum.
    assert name.rsplit(".", 1)[0] not in media.file.name
    assert post.current_revision is not None
    assert post.current_revision.content["media"] == [
        {"checksum": media.checksum, "alt_text": f"The picture {name}", "kind": "photo"}
    ]
    # Only the re-encoded copy and its thumbnail are kept, never the original upload.
    assert sorted(path.name for path in stored_files(Path(settings.MEDIA_ROOT))) == sorted(
        Path(name).name for name in (media.file.name, media.thumbnail.name)
    )


def test_the_rotated_photo_is_stored_upright(editor: Any, campaign: Campaign, facebook: Account) -> None:
    name = "photo_exif_gps_orientation6.jpg"
    with Image.open(IMAGES / name) as original:
        raw_width, raw_height = original.size
        assert original.getexif()[ExifTags.Base.Orientation] == 6
    media = Media.objects.get(post=upload_post(editor, campaign, name, facebook))
    assert (media.width, media.height) == (raw_height, raw_width)


def test_the_transparent_png_keeps_its_alpha(editor: Any, campaign: Campaign, facebook: Account) -> None:
    media = Media.objects.get(post=upload_post(editor, campaign, "square_1080_rgba.png", facebook))
    with media.file.open("rb") as handle, Image.open(handle) as image:
        assert image.mode == "RGBA"
        assert image.size == (1080, 1080)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_images_create_nothing(
    name: str, editor: Any, campaign: Campaign, facebook: Account, settings: Any
) -> None:
    posts_before, events_before = Post.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        upload_post(editor, campaign, name, facebook)
    assert caught.value.code == REJECTED[name]
    assert caught.value.messages and all(message.strip() for message in caught.value.messages)
    assert Post.objects.count() == posts_before
    assert not Media.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_the_5_to_1_banner_is_accepted_but_flagged_for_instagram(
    editor: Any, campaign: Campaign, facebook: Account, instagram: Account
) -> None:
    post = upload_post(editor, campaign, "banner_5to1.jpg", instagram, facebook)
    media = Media.objects.get(post=post)
    assert media.width / media.height == pytest.approx(5, rel=0.01)
    findings = post_findings(post=post)
    instagram_codes = {finding.code: finding for finding in findings[instagram.pk]}
    assert "aspect_ratio_not_accepted" in instagram_codes
    assert instagram_codes["aspect_ratio_not_accepted"].severity == "error"
    assert "aspect_ratio_not_accepted" not in {finding.code for finding in findings[facebook.pk]}
