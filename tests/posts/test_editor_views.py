"""The post editor, its findings endpoint, the post detail page and its state buttons."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from audit.selectors import events_for_object
from audit.versions import version_of
from posts.models import Account, Media, Post, PostStatus
from tests.conftest import IMAGES

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (IMAGES / name).read_bytes(), CONTENT_TYPES[name.rsplit(".", 1)[-1]])


def form_data(campaign: Any, targets: list[Any] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    data: dict[str, Any] = {
        "campaign": campaign.pk,
        "title": "Heart week opener",
        "body": "Move every day: your heart will thank you.",
        "link": "",
        "hashtags": "",
        "content_type": "education",
        "language": "de",
        "sources": "",
        "targets": [account.pk for account in targets],
        "scheduled_date": "",
        "scheduled_time": "",
        "time_zone": "Europe/Berlin",
    }
    data.update(extra)
    return data


def edit_data(post: Post, **extra: Any) -> dict[str, Any]:
    """Return the editor's fields as the edit page pre-fills them, changed by ``extra``."""
    data = form_data(post.campaign, list(Account.objects.filter(post_targets__post=post)))
    local = post.scheduled_at.astimezone(dt.timezone(dt.timedelta(0))) if post.scheduled_at else None
    data.update(
        title=post.title,
        body=post.body,
        time_zone="UTC",
        scheduled_date=local.date().isoformat() if local else "",
        scheduled_time=local.strftime("%H:%M") if local else "",
        version=version_of(model=Post, pk=post.pk),
        revision=post.current_revision_id or "",
    )
    for media in post.media.all():
        data[f"media_alt_{media.pk}"] = media.alt_text
        data[f"media_order_{media.pk}"] = media.position + 1
    data.update(extra)
    return data


def errors_of(response: Any) -> dict[str, list[str]]:
    return {field: list(errors) for field, errors in response.context["form"].errors.items()}


# Creating -------------------------------------------------------------------------------------


def test_new_post_page_prefills_campaign_date_and_the_users_zone(client: Any, editor: Any, campaign: Any) -> None:
    editor.time_zone = "America/New_York"
    editor.save()
    client.force_login(editor)

    response = client.get(reverse("posts:post_create") + f"?campaign={campaign.pk}&date=2026-05-04")

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["campaign"] == campaign.pk
    assert form.initial["scheduled_date"] == dt.date(2026, 5, 4)
    assert form.initial["time_zone"] == "America/New_York"
    assert "Save draft" in response.text
    assert '<script id="editor-rules" type="application/json">' in response.text


def test_create_with_two_targets_and_two_images_saves_a_draft(
    client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    facebook, _instagram, x = accounts
    client.force_login(editor)
    data = form_data(
        campaign,
        [facebook, x],
        hashtags="#Heart, health  #heart",
        link="https://example.org/heart",
        scheduled_date="2026-06-01",
        scheduled_time="10:00",
        **{
            f"override_{x.pk}": "Short version for X.",
            "new_file_0": upload("square_1080_rgba.png"),
            "new_alt_0": "A red paper heart",
            "new_file_1": upload("landscape_1200x628.webp"),
            "new_alt_1": "Nurses walking on the hospital lawn",
        },
    )

    response = client.post(reverse("posts:post_create"), data)

    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("posts:post_detail", args=[post.pk])
    assert post.status == PostStatus.DRAFT
    assert post.author == editor
    assert post.hashtags == ["Heart", "health"]
    assert post.link == "https://example.org/heart"
    assert post.scheduled_at == dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    assert post.time_zone == "Europe/Berlin"
    overrides = {target.account_id: target.body_override for target in post.targets.all()}
    assert overrides == {facebook.pk: "", x.pk: "Short version for X."}
    media = list(post.media.order_by("position"))
    assert [(m.alt_text, m.format, m.width, m.height) for m in media] == [
        ("A red paper heart", "png", 1080, 1080),
        ("Nurses walking on the hospital lawn", "webp", 1200, 628),
    ]
    assert post.current_revision is not None and post.current_revision.number == 1

    detail = client.get(response["Location"])
    assert "Heart week opener" in detail.text
    assert "Short version for X." in detail.text
    assert reverse("media", args=[media[0].thumbnail.name]) in detail.text
    assert "A red paper heart" in detail.text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bomb_30000x30000.png", "30000 × 30000 pixels"),
        ("not_an_image.jpg", "This file is not a JPEG, PNG or WebP image."),
    ],
)
def test_bad_image_gives_a_clear_error_and_creates_nothing(
    client: Any, editor: Any, campaign: Any, accounts: list[Any], name: str, message: str
) -> None:
    client.force_login(editor)
    data = form_data(
        campaign,
        accounts[:1],
        **{
            "new_file_0": upload("square_1080_rgba.png"),
            "new_alt_0": "A red paper heart",
            "new_file_1": SimpleUploadedFile(name, (IMAGES / name).read_bytes(), "image/png"),
            "new_alt_1": "Something",
        },
    )

    response = client.post(reverse("posts:post_create"), data)

    assert response.status_code == 200
    assert message in " ".join(errors_of(response)["new_file_1"])
    assert message in response.text
    assert Post.objects.count() == 0
    assert Media.objects.count() == 0


def test_more_images_than_one_request_may_add_are_refused_naming_the_limit_before_any_is_decoded(
    client: Any, editor: Any, campaign: Any, accounts: list[Any], settings: Any
) -> None:
    settings.ROUNDS_MAX_MEDIA_PER_REQUEST = 2
    client.force_login(editor)
    files = {f"new_file_{slot}": upload("square_1080_rgba.png") for slot in range(3)}
    alts = {f"new_alt_{slot}": f"Heart {slot}" for slot in range(3)}
    response = client.post(reverse("posts:post_create"), form_data(campaign, accounts[:1], **files, **alts))
    assert response.status_code == 200
    assert errors_of(response)["__all__"] == [
        "You can add at most 2 images at a time; you chose 3. Add the others afterwards."
    ]
    assert "You can add at most 2 images at a time" in response.text
    assert Post.objects.count() == 0 and Media.objects.count() == 0
    files = {f"new_file_{slot}": upload("square_1080_rgba.png") for slot in range(2)}
    response = client.post(reverse("posts:post_create"), form_data(campaign, accounts[:1], **files, **alts))
    assert response.status_code == 302 and Media.objects.count() == 2


def test_stored_photo_has_no_exif_and_is_upright(
    client: Any, editor: Any, campaign: Any, accounts: list[Any], settings: Any
) -> None:
    with Image.open(IMAGES / "photo_exif_gps_orientation6.jpg") as original:
        assert original.getexif()  # the fixture carries EXIF (orientation 6, GPS)
        assert original.width > original.height  # stored sideways, shown rotated by 90°
    client.force_login(editor)

    response = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            accounts[:1],
            **{"new_file_0": upload("photo_exif_gps_orientation6.jpg"), "new_alt_0": "A nurse at the desk"},
        ),
    )

    assert response.status_code == 302
    media = Media.objects.get()
    with media.file.open("rb") as handle, Image.open(handle) as stored:
        assert len(stored.getexif()) == 0
        assert stored.width < stored.height
        assert (stored.width, stored.height) == (media.width, media.height) == (480, 640)


def test_image_without_alt_text_is_refused(client: Any, editor: Any, campaign: Any, accounts: list[Any]) -> None:
    client.force_login(editor)

    response = client.post(
        reverse("posts:post_create"),
        form_data(campaign, accounts[:1], **{"new_file_0": upload("square_1080_rgba.png"), "new_alt_0": "  "}),
    )

    assert response.status_code == 200
    assert "Every image needs alt text" in " ".join(errors_of(response)["new_alt_0"])
    assert Post.objects.count() == 0
    assert Media.objects.count() == 0


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.org/f"]
)
def test_link_that_is_not_a_web_address_is_refused(client: Any, editor: Any, campaign: Any, link: str) -> None:
    client.force_login(editor)

    response = client.post(reverse("posts:post_create"), form_data(campaign, link=link))

    assert response.status_code == 200
    assert errors_of(response)["link"] == [
        "Only web links are allowed: the address must start with http:// or https://."
    ]
    assert Post.objects.count() == 0


@pytest.mark.parametrize("field", ["body", "sources"])
def test_a_pasted_file_as_text_is_refused_and_nothing_is_saved(
    client: Any, editor: Any, campaign: Any, field: str
) -> None:
    client.force_login(editor)
    pasted = "Sprechstunde Mo–Fr 8–12 Uhr, Tel. 030 1234567. " * 25_000  # a million characters

    response = client.post(reverse("posts:post_create"), form_data(campaign, **{field: pasted}))

    assert response.status_code == 200
    assert "at most" in errors_of(response)[field][0]
    assert Post.objects.count() == 0


def test_the_model_refuses_an_overlong_text_for_every_writer(editor: Any, campaign: Any) -> None:
    from django.core.exceptions import ValidationError

    from posts.models import POST_TEXT_MAX
    from posts.services import post_create

    with pytest.raises(ValidationError) as caught:
        post_create(actor=editor, campaign=campaign, data={"body": "x" * (POST_TEXT_MAX + 1)}, targets=[])

    assert "body" in caught.value.message_dict
    assert Post.objects.count() == 0


def test_invalid_hashtag_is_refused_with_the_platform_message(client: Any, editor: Any, campaign: Any) -> None:
    client.force_login(editor)

    response = client.post(reverse("posts:post_create"), form_data(campaign, hashtags="heart, 2026"))

    assert errors_of(response)["hashtags"] == ["“#2026” is not a hashtag: it needs at least one letter."]
    assert Post.objects.count() == 0


@pytest.mark.parametrize(
    ("day", "time", "message"),
    [
        ("2026-03-29", "02:30", "02:30 does not exist on 29 March 2026 in Europe/Berlin"),
        ("2026-10-25", "02:30", "02:30 happens twice on 25 October 2026 in Europe/Berlin"),
    ],
)
def test_local_time_in_a_clock_change_is_refused(
    client: Any, editor: Any, campaign: Any, day: str, time: str, message: str
) -> None:
    client.force_login(editor)

    response = client.post(reverse("posts:post_create"), form_data(campaign, scheduled_date=day, scheduled_time=time))

    assert response.status_code == 200
    assert message in " ".join(errors_of(response)["scheduled_time"])
    assert Post.objects.count() == 0


def test_time_without_a_date_is_refused(client: Any, editor: Any, campaign: Any) -> None:
    client.force_login(editor)

    response = client.post(reverse("posts:post_create"), form_data(campaign, scheduled_time="10:00"))

    assert "scheduled_date" in errors_of(response)
    assert Post.objects.count() == 0


def test_saving_a_draft_never_fails_because_of_platform_findings(
    client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    instagram = accounts[1]  # needs an image, which this post lacks
    client.force_login(editor)

    response = client.post(reverse("posts:post_create"), form_data(campaign, [instagram], body="x" * 3000))

    assert response.status_code == 302
    post = Post.objects.get()
    detail = client.get(response["Location"])
    assert "Instagram needs at least one photo or video." in detail.text
    assert post.targets.get().account == instagram


def test_campaign_the_user_may_not_edit_is_not_offered(
    client: Any, editor: Any, other_editor: Any, campaign_factory: Any
) -> None:
    foreign = campaign_factory(other_editor, name="Someone else's")
    campaign_factory(editor, name="Mine")
    client.force_login(editor)

    response = client.post(reverse("posts:post_create"), form_data(foreign))

    assert "campaign" in errors_of(response)
    assert list(response.context["form"].fields["campaign"].queryset.values_list("name", flat=True)) == ["Mine"]
    assert Post.objects.count() == 0


def test_viewer_may_not_open_the_new_post_page(client: Any, viewer: Any, campaign: Any) -> None:
    client.force_login(viewer)

    assert client.get(reverse("posts:post_create")).status_code == 403


# Editing --------------------------------------------------------------------------------------


def test_edit_changes_alt_text_order_removes_and_adds_images(
    client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    client.force_login(editor)
    client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            accounts[:1],
            **{
                "new_file_0": upload("square_1080_rgba.png"),
                "new_alt_0": "First",
                "new_file_1": upload("landscape_1200x628.webp"),
                "new_alt_1": "Second",
            },
        ),
    )
    post = Post.objects.get()
    first, second = post.media.order_by("position")
    page = client.get(reverse("posts:post_edit", args=[post.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["targets"] == [accounts[0].pk]

    response = client.post(
        reverse("posts:post_edit", args=[post.pk]),
        edit_data(
            post,
            body="A new text.",
            **{
                f"media_alt_{first.pk}": "First, better described",
                f"media_order_{first.pk}": 2,
                f"media_order_{second.pk}": 1,
                "new_file_0": upload("photo_exif_gps_orientation6.jpg"),
                "new_alt_0": "Third",
            },
        ),
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == "A new text."
    assert [m.alt_text for m in post.media.order_by("position")] == ["Second", "First, better described", "Third"]
    assert post.current_revision is not None and post.current_revision.number == 2

    response = client.post(
        reverse("posts:post_edit", args=[post.pk]),
        edit_data(post, **{f"media_remove_{second.pk}": "on"}),
    )
    assert response.status_code == 302
    assert [m.alt_text for m in post.media.order_by("position")] == ["First, better described", "Third"]


def test_failed_edit_changes_nothing(client: Any, editor: Any, campaign: Any, accounts: list[Any]) -> None:
    client.force_login(editor)
    client.post(reverse("posts:post_create"), form_data(campaign, accounts[:1]))
    post = Post.objects.get()

    response = client.post(
        reverse("posts:post_edit", args=[post.pk]),
        edit_data(
            post,
            body="Changed",
            **{
                "new_file_0": upload("square_1080_rgba.png"),
                "new_alt_0": "Fine",
                "new_file_1": upload("not_an_image.jpg"),
            },
        ),
    )

    assert response.status_code == 200
    assert set(errors_of(response)) == {"new_file_1", "new_alt_1"}
    post.refresh_from_db()
    assert post.body == "Move every day: your heart will thank you."
    assert Media.objects.count() == 0


def test_editor_outside_the_campaign_cannot_edit_its_posts(
    client: Any, editor: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)
    client.force_login(other_editor)

    assert client.get(reverse("posts:post_edit", args=[post.pk])).status_code in (403, 404)
    response = client.post(reverse("posts:post_edit", args=[post.pk]), edit_data(post, body="Hijacked"))
    assert response.status_code in (403, 404)
    post.refresh_from_db()
    assert post.body == "Wash your hands: it saves lives."


def test_viewer_sees_the_post_but_cannot_edit_it(
    client: Any, editor: Any, viewer: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, title="Hand hygiene")
    client.force_login(viewer)

    detail = client.get(reverse("posts:post_detail", args=[post.pk]))
    assert detail.status_code == 200
    assert "Hand hygiene" in detail.text
    assert reverse("posts:post_edit", args=[post.pk]) not in detail.text
    page = client.get(reverse("posts:post_edit", args=[post.pk]))
    assert page.status_code == 403
    # The viewer's role is the reason, not the post's state.
    assert "You may not change posts of this campaign." in page.text and "current state" not in page.text
    response = client.post(reverse("posts:post_edit", args=[post.pk]), edit_data(post, body="Viewer was here"))
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.body == "Wash your hands: it saves lives."


def test_the_campaigns_editor_refused_a_withdrawn_post_is_told_it_is_its_state(
    client: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, title="Hand hygiene")
    Post.objects.filter(pk=post.pk).update(status=PostStatus.WITHDRAWN)
    client.force_login(editor)

    page = client.get(reverse("posts:post_edit", args=[post.pk]))

    assert page.status_code == 403
    assert "You may not edit this post in its current state." in page.text


# Findings -------------------------------------------------------------------------------------


def test_findings_endpoint_reports_text_over_280_for_x(
    client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    facebook, _instagram, x = accounts
    client.force_login(editor)

    response = client.post(reverse("posts:findings"), form_data(campaign, [facebook, x], body="a" * 300))

    assert response.status_code == 200
    assert "Text counts as 300 characters on X (each link counts as 23); X allows 280." in response.text
    assert 'data-finding="text_too_long"' in response.text
    assert response.text.count('data-finding="text_too_long"') == 1  # Facebook allows 63,206
    assert "<html" not in response.text  # a fragment, not a page
    assert Post.objects.count() == 0


def test_findings_use_the_override_and_the_unsaved_image_size(
    client: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    _facebook, instagram, x = accounts
    client.force_login(editor)
    data = form_data(
        campaign,
        [instagram, x],
        body="a" * 300,
        **{
            f"override_{x.pk}": "Short.",
            "new_media_0_format": "image/png",
            "new_media_0_width": "2000",
            "new_media_0_height": "400",
            "new_media_0_size": "1000",
            "new_alt_0": "Banner",
        },
    )

    response = client.post(reverse("posts:findings"), data)

    assert 'data-finding="text_too_long"' not in response.text
    assert "Photo 1 has an aspect ratio of 5:1; Instagram accepts 4:5 to 1.91:1." in response.text
    assert "Instagram needs at least one photo or video." not in response.text


def test_findings_endpoint_needs_an_editor_and_a_visible_post(
    client: Any, editor: Any, viewer: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)
    client.force_login(viewer)
    assert client.post(reverse("posts:findings"), form_data(campaign)).status_code == 403
    client.force_login(other_editor)
    assert client.post(reverse("posts:findings"), form_data(campaign, post=post.pk)).status_code == 404
    assert client.get(reverse("posts:findings")).status_code == 405


# Detail and actions ---------------------------------------------------------------------------


def test_schedule_of_a_draft_is_refused_with_a_message(
    client: Any, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1], when=dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC))
    client.force_login(editor)

    response = client.post(reverse("posts:post_schedule", args=[post.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("posts:post_detail", args=[post.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You may not do this with this post in its current state."
    ]
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    assert client.get(reverse("posts:post_schedule", args=[post.pk])).status_code == 405


def test_withdraw_records_the_reason(client: Any, editor: Any, campaign: Any, post_factory: Any) -> None:
    post = post_factory(editor, campaign)
    client.force_login(editor)
    detail = client.get(reverse("posts:post_detail", args=[post.pk]))
    assert reverse("posts:post_withdraw", args=[post.pk]) in detail.text
    assert reverse("posts:post_schedule", args=[post.pk]) not in detail.text

    response = client.post(
        reverse("posts:post_withdraw", args=[post.pk]), {"reason": "Campaign cancelled", "confirm_irreversible": "yes"}
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.WITHDRAWN
    event = events_for_object(obj=post).filter(action="post.status_changed").get()
    assert event.changes["reason"] == "Campaign cancelled"


def test_a_viewer_refused_a_withdraw_is_told_it_is_the_campaign_not_the_posts_state(
    client: Any, editor: Any, viewer: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)
    client.force_login(viewer)
    assert client.get(reverse("posts:post_detail", args=[post.pk])).status_code == 200

    response = client.post(
        reverse("posts:post_withdraw", args=[post.pk]), {"reason": "Weg damit", "confirm_irreversible": "yes"}
    )

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["You may not change posts of this campaign."]
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    assert not events_for_object(obj=post).filter(action="post.status_changed").exists()


def test_detail_shows_times_in_both_zones_revision_and_findings(
    client: Any, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    post = post_factory(
        editor, campaign, targets=[accounts[2]], when=dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC), body="b" * 290
    )
    assert post.time_zone == "Europe/Berlin"
    editor.time_zone = "UTC"
    editor.save()
    client.force_login(editor)

    response = client.get(reverse("posts:post_detail", args=[post.pk]))

    text = response.text
    assert "09:00" in text and "(UTC)" in text
    assert "10:00" in text and "(Europe/Berlin)" in text
    assert post.content_hash[:12] in text
    assert "Text counts as 290 characters on X" in text


def test_detail_page_query_count_does_not_grow_with_posts(
    client: Any, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    post = post_factory(editor, campaign, targets=accounts)
    client.force_login(editor)
    url = reverse("posts:post_detail", args=[post.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(49):
        post_factory(editor, campaign, targets=accounts)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get(url).status_code == 200

    assert len(fifty) == len(one)


def test_detail_is_404_for_a_post_of_an_invisible_campaign(
    client: Any, editor: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)
    client.force_login(other_editor)

    assert client.get(reverse("posts:post_detail", args=[post.pk])).status_code == 404
    assert client.post(reverse("posts:post_withdraw", args=[post.pk])).status_code == 404
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_a_handle_given_with_its_at_sign_is_shown_with_one(
    client: Any, editor: Any, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    with_at, without = account_factory("instagram", handle="@klinikum_nord"), account_factory("x", handle="kn_news")
    post = post_factory(editor, campaign, targets=[with_at, without])
    client.force_login(editor)

    urls = [reverse(name, args=[post.pk]) for name in ("posts:post_detail", "posts:post_edit")]
    pages = [client.get(url).content.decode() for url in urls]

    for page in pages:
        assert "@klinikum_nord" in page and "@kn_news" in page
        assert "@@" not in page
