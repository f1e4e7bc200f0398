"""GPS as a finding (issue 16): an upload whose original carried a location records that fact, never the place.

The pipeline removes the location from the stored file; the post's media row keeps a flag, and the
editor (live findings, the thumbnail's badge) and reviewers are told to check the picture itself.
"""

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from posts.media import image_process
from posts.models import Media
from posts.services import NewMedia, TargetSpec, post_content_findings, post_create
from tests.posts.test_editor_views import edit_data, errors_of, form_data

pytestmark = pytest.mark.django_db

LOCATION_MESSAGE = (
    "the original photo carried a location; it was removed — check the picture shows no identifying place."
)
BADGE = "data-location-removed"
GPS = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 18.0)}


def photo(pillow_format: str = "JPEG", *, gps: dict[int, Any] | None = None, xmp: str = "") -> bytes:
    """Return a small photo in ``pillow_format``, with GPS in its EXIF (JPEG, PNG eXIf, WebP) if given."""
    image = Image.new("RGB", (64, 48), "#2563eb")
    params: dict[str, Any] = {}
    if gps is not None:
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Phone"
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
        params["exif"] = exif
    if xmp:
        params["xmp"] = xmp.encode()
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **params)
    return buffer.getvalue()


def stored_gps(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


@pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "WEBP"])
def test_gps_coordinates_in_the_original_are_recorded_as_a_fact_and_removed(pillow_format: str) -> None:
    original = photo(pillow_format, gps=GPS)
    assert stored_gps(original)[2] == (52.0, 31.0, 12.0)  # the original really carries them

    image = image_process(upload=io.BytesIO(original))

    assert image.had_location_metadata is True
    assert stored_gps(image.content) == {}
    assert b"Phone" not in image.content


def test_xmp_location_is_recorded_and_a_photo_without_one_is_not() -> None:
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Hamburg"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    assert image_process(upload=io.BytesIO(photo("JPEG", xmp=xmp))).had_location_metadata is True
    assert image_process(upload=io.BytesIO(photo("JPEG"))).had_location_metadata is False
    # A GPS block holding only its version (no coordinate) places nothing.
    assert image_process(upload=io.BytesIO(photo("JPEG", gps={0: b"\x02\x02\x00\x00"}))).had_location_metadata is False


def test_the_media_row_keeps_the_flag_and_the_post_wide_finding_names_the_image(
    editor: Any, campaign: Any, account_factory: Any
) -> None:
    post = post_create(
        actor=editor,
        campaign=campaign,
        data={"body": "Unser neuer Eingang."},
        targets=[TargetSpec(account=account_factory("facebook"))],
        media=[
            NewMedia(image=image_process(upload=io.BytesIO(photo())), alt_text="Der Eingang von vorn"),
            NewMedia(image=image_process(upload=io.BytesIO(photo(gps=GPS))), alt_text="Der Eingang von der Seite"),
        ],
    )

    plain, located = post.media.order_by("position")
    assert (plain.original_had_location, located.original_had_location) == (False, True)
    with located.file.open("rb") as handle:
        assert stored_gps(handle.read()) == {}
    findings = [finding for finding in post_content_findings(post=post) if finding.code == "image_location"]
    assert len(findings) == 1
    assert findings[0].severity == "warning" and findings[0].media_index == 1
    assert findings[0].message == f"Image 2: {LOCATION_MESSAGE}"
    revision = post.current_revision
    assert revision is not None and "location" not in str(revision.content)  # the content hash is unchanged


def test_a_photo_without_location_gives_no_finding(editor: Any, campaign: Any) -> None:
    post = post_create(
        actor=editor,
        campaign=campaign,
        data={"body": "Unser neuer Eingang."},
        media=[NewMedia(image=image_process(upload=io.BytesIO(photo())), alt_text="Der Eingang")],
    )
    assert not [finding for finding in post_content_findings(post=post) if finding.code == "image_location"]


def upload(data: bytes, name: str = "eingang.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_an_editor_upload_with_gps_shows_the_badge_and_the_finding_in_the_editor(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    facebook = account_factory("facebook")
    client.force_login(editor)

    saved = client.post(
        reverse("posts:post_create"),
        form_data(campaign, [facebook], new_file_0=upload(photo(gps=GPS)), new_alt_0="Der Eingang"),
    )

    assert saved.status_code == 302, errors_of(saved)
    media = Media.objects.get()
    assert media.original_had_location
    page = client.get(reverse("posts:post_edit", args=[media.post_id]))
    html = page.content.decode()
    assert html.count(BADGE) == 1
    assert "location removed" in html
    assert 'data-finding="image_location"' in html and LOCATION_MESSAGE in html
    detail = client.get(reverse("posts:post_detail", args=[media.post_id])).content.decode()
    assert BADGE in detail and LOCATION_MESSAGE in detail

    cache.clear()
    live = client.post(reverse("posts:findings"), {**edit_data(media.post), "post": media.post_id})
    assert live.status_code == 200 and 'data-finding="image_location"' in live.text
    removed = client.post(
        reverse("posts:findings"), {**edit_data(media.post), "post": media.post_id, f"media_remove_{media.pk}": "on"}
    )
    assert 'data-finding="image_location"' not in removed.text


def test_a_kept_upload_carries_the_flag_to_the_badge_the_live_findings_and_the_saved_image(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    facebook = account_factory("facebook")
    client.force_login(editor)

    refused = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign, [facebook], scheduled_date="2027-03-17", new_file_0=upload(photo(gps=GPS)), new_alt_0="Eingang"
        ),
    )

    assert refused.status_code == 200 and "scheduled_time" in errors_of(refused)
    kept = refused.context["form"].kept[0]
    assert kept.had_location
    html = refused.content.decode()
    assert BADGE in html and 'data-finding="image_location"' in html
    cache.clear()
    live = client.post(reverse("posts:findings"), form_data(campaign, [facebook], kept_0=kept.token))
    assert 'data-finding="image_location"' in live.text
    live_removed = client.post(
        reverse("posts:findings"), form_data(campaign, [facebook], kept_0=kept.token, kept_remove_0="on")
    )
    assert 'data-finding="image_location"' not in live_removed.text

    saved = client.post(
        reverse("posts:post_create"), form_data(campaign, [facebook], kept_0=kept.token, new_alt_0="Eingang")
    )

    assert saved.status_code == 302, errors_of(saved)
    assert Media.objects.get().original_had_location


def test_a_plain_upload_has_no_badge_and_no_finding(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    client.force_login(editor)
    saved = client.post(
        reverse("posts:post_create"),
        form_data(campaign, [account_factory("facebook")], new_file_0=upload(photo()), new_alt_0="Der Eingang"),
    )
    assert saved.status_code == 302, errors_of(saved)
    media = Media.objects.get()
    assert not media.original_had_location
    html = client.get(reverse("posts:post_edit", args=[media.post_id])).content.decode()
    assert BADGE not in html and 'data-finding="image_location"' not in html


def test_governance_sees_the_flag_in_the_media_admin(client: Any, editor: Any, governance: Any, campaign: Any) -> None:
    post = post_create(
        actor=editor,
        campaign=campaign,
        data={"body": "Unser neuer Eingang."},
        media=[NewMedia(image=image_process(upload=io.BytesIO(photo(gps=GPS))), alt_text="Der Eingang")],
    )
    client.force_login(governance)
    page = client.get(reverse("admin:posts_media_change", args=[post.media.get().pk]))
    assert page.status_code == 200
    assert "original carried a location" in page.content.decode().lower()
    listed = client.get(reverse("admin:posts_media_changelist"), {"original_had_location__exact": "1"})
    assert listed.status_code == 200 and "Der Eingang" in listed.content.decode()
