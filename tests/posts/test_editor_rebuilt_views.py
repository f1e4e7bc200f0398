"""The rebuilt editor (issue 15, item 3): consent picker, grouped zones, kept images, slots, handles."""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent.services import consent_revoke
from posts.models import Media, Post
from tests.conftest import IMAGES
from tests.posts.test_editor_views import edit_data, errors_of, form_data

pytestmark = pytest.mark.django_db

BODY = "Herzwoche im Klinikum: Vorträge am 17.03.2027 um 18:00. Anmeldung unter 040 1234-5678 – für Groß und Klein."


def offered_ids(response: Any, slot: int = 0) -> list[int]:
    return [record.pk for record in response.context["form"].fields[f"featured_consent_{slot}"].queryset]


@pytest.fixture
def people(subject_factory: Any, record_factory: Any, officer: Any) -> dict[str, Any]:
    """Consents of five people: one valid everywhere, and four the picker must never offer somewhere."""
    today = timezone.localdate()
    names = ("Anna Müller", "Ben Özdemir", "Cem Yılmaz", "Dana Ng", "Emil Groß")
    anna, ben, cem, dana, emil = (subject_factory(display_name=name) for name in names)
    return {
        "valid": record_factory(anna),
        "revoked": consent_revoke(record=record_factory(ben), actor=officer, received_via="letter"),
        "expired": record_factory(
            cem, signed_on=today - dt.timedelta(days=100), expires_on=today - dt.timedelta(days=1)
        ),
        "instagram_only": record_factory(dana, all_platforms=False, platforms=["instagram"]),
        "ends_soon": record_factory(emil, expires_on=today + dt.timedelta(days=20)),
    }


def test_picker_offers_only_consents_valid_on_the_posts_date_and_for_its_platforms(
    client: Any, editor: Any, campaign: Any, account_factory: Any, post_factory: Any, people: dict[str, Any]
) -> None:
    facebook = account_factory("facebook")
    post = post_factory(editor, campaign, targets=[facebook], when=timezone.now() + dt.timedelta(days=40))
    client.force_login(editor)
    url = reverse("posts:post_edit", args=[post.pk])

    page = client.get(url)

    assert offered_ids(page) == []  # the registry is found by searching, never listed whole
    html = page.content.decode()
    for name in ("Anna Müller", "Ben Özdemir", "Cem Yılmaz", "Dana Ng", "Emil Groß"):
        assert name not in html
    # Without scripts, "Search" sends the form and lists the matches (an empty search: every usable one).
    found = client.post(url, {**edit_data(post), "consent_find": "0", "consent_search_0": " "})
    assert offered_ids(found) == [people["valid"].pk]  # no revoked, expired, Instagram-only, nor ends before

    # Without a date (now) and with no targets chosen, the consent ending in 20 days and Dana's are offered.
    create = reverse("posts:post_create")
    fresh = client.post(create, form_data(campaign, consent_find="0", consent_search_0="a"))
    assert set(offered_ids(fresh)) == {people["valid"].pk, people["instagram_only"].pk, people["ends_soon"].pk}


def test_a_search_without_scripts_lists_matches_keeps_the_input_and_saves_nothing(
    client: Any, editor: Any, campaign: Any, account_factory: Any, people: dict[str, Any]
) -> None:
    instagram = account_factory("instagram")
    client.force_login(editor)
    data = form_data(campaign, [instagram], title="Herzwoche", body=BODY, consent_find="1", consent_search_1="müll")

    page = client.post(reverse("posts:post_create"), data)

    assert page.status_code == 200 and Post.objects.count() == 0
    assert offered_ids(page, 1) == [people["valid"].pk] and offered_ids(page, 0) == []
    html = page.content.decode()
    assert 'name="consent_search_1" value="müll"' in html and BODY in html
    assert "1 consent listed." in html
    assert not page.context["form"].errors


def test_a_row_lists_its_chosen_persons_usable_consents_only(
    client: Any, editor: Any, campaign: Any, record_factory: Any, people: dict[str, Any]
) -> None:
    anna = people["valid"].subject
    second = record_factory(anna)
    client.force_login(editor)
    data = form_data(
        campaign, featured_subject_0=anna.reference, featured_subject_1=people["revoked"].subject.reference
    )

    page = client.post(reverse("posts:post_create"), data)

    assert set(offered_ids(page, 0)) == {people["valid"].pk, second.pk}
    assert offered_ids(page, 1) == []  # Ben's only consent is revoked
    assert offered_ids(page, 2) == []


def test_consent_search_matches_part_of_a_name_or_reference_and_answers_a_page_at_most(
    client: Any, editor: Any, campaign: Any, subject_factory: Any, record_factory: Any, people: dict[str, Any]
) -> None:
    for number in range(25):
        record_factory(subject_factory(display_name=f"Jörg Übelacker {number:02}"))
    client.force_login(editor)
    url = reverse("posts:consent_options")

    def answer(**params: Any) -> dict[str, Any]:
        response = client.get(url, {"campaign": campaign.pk, **params})
        assert response.status_code == 200
        return response.json()

    assert [option["id"] for option in answer(q="Mül")["options"]] == [people["valid"].pk]
    assert [option["id"] for option in answer(q="anna MÜL")["options"]] == [people["valid"].pk]
    reference = people["valid"].subject.reference
    assert [option["id"] for option in answer(q=reference[-4:])["options"]] == [people["valid"].pk]
    assert [option["id"] for option in answer(reference=reference)["options"]] == [people["valid"].pk]
    assert answer(q="Ben")["options"] == []  # revoked
    many = answer(q="Übel")
    assert len(many["options"]) == 20 and many["more"] is True
    fewer = answer(q="Übelacker 2")  # names with a 2, or references with one
    assert 7 <= len(fewer["options"]) < 20 and fewer["more"] is False


def test_consent_list_is_recomputed_for_the_targets_and_time_chosen(
    client: Any, editor: Any, campaign: Any, account_factory: Any, people: dict[str, Any]
) -> None:
    facebook, instagram = account_factory("facebook"), account_factory("instagram")
    client.force_login(editor)
    url = reverse("posts:consent_options")
    later = (timezone.localdate() + dt.timedelta(days=40)).isoformat()

    def ids(**params: Any) -> set[int]:
        response = client.get(url, {"campaign": campaign.pk, "time_zone": "Europe/Berlin", **params})
        assert response.status_code == 200
        return {option["id"] for option in response.json()["options"]}

    assert ids(targets=[instagram.pk]) == {people["valid"].pk, people["instagram_only"].pk, people["ends_soon"].pk}
    assert ids(targets=[facebook.pk]) == {people["valid"].pk, people["ends_soon"].pk}
    assert ids(targets=[instagram.pk], scheduled_date=later, scheduled_time="09:00") == {
        people["valid"].pk,
        people["instagram_only"].pk,
    }
    option = client.get(url, {"campaign": campaign.pk}).json()["options"][0]
    assert option["search"].startswith("Anna Müller ") and "photo" in option["kinds"]


def test_consent_json_is_for_editors_only(client: Any, viewer: Any) -> None:
    client.force_login(viewer)
    assert client.get(reverse("posts:consent_options")).status_code == 403


@pytest.mark.parametrize("which", ["revoked", "expired", "instagram_only"])
def test_a_posted_consent_the_picker_does_not_offer_is_refused_with_a_clear_error(
    client: Any, editor: Any, campaign: Any, account_factory: Any, people: dict[str, Any], which: str
) -> None:
    record = people[which]
    client.force_login(editor)

    response = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            [account_factory("facebook")],
            body=BODY,
            featured_subject_0=record.subject.reference,
            featured_consent_0=record.pk,
            featured_kinds_0=["photo"],
        ),
    )

    assert response.status_code == 200
    assert errors_of(response)["featured_consent_0"] == [
        "This consent cannot be used for this post: it is revoked, expired, not verified, or does not cover "
        "the post's platforms, purpose or date. Choose one of the consents offered."
    ]
    assert Post.objects.count() == 0


def test_a_consent_that_does_not_allow_what_the_post_shows_is_refused(
    client: Any, editor: Any, campaign: Any, account_factory: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory(display_name="Anna Müller")
    name_only = record_factory(anna, media_kinds=["name"])
    client.force_login(editor)

    response = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            [account_factory("facebook")],
            featured_subject_0=anna.reference,
            featured_consent_0=name_only.pk,
            featured_kinds_0=["name", "photo"],
        ),
    )

    assert response.status_code == 200
    assert errors_of(response)["featured_consent_0"] == ["The consent does not allow showing: photo."]
    assert Post.objects.count() == 0


# Time zones ------------------------------------------------------------------------------------


def test_zones_list_the_accounts_and_users_zone_first_then_the_region_then_continents(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    account_factory("facebook", time_zone="Europe/Vienna")
    editor.time_zone = "Europe/Istanbul"
    editor.save()
    client.force_login(editor)

    html = client.get(reverse("posts:post_create") + f"?campaign={campaign.pk}").content.decode()

    select = html[html.index('name="time_zone"') : html.index("</select>", html.index('name="time_zone"'))]
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups[:2] == ["Your accounts and you", "Common in Europe"]
    assert {"Africa", "Americas", "Asia", "Europe", "Pacific", "Other"} <= set(groups[2:])
    first_group = select[: select.index("</optgroup>")]
    assert re.findall(r'<option value="([^"]+)"', first_group) == ["Europe/Vienna", "Europe/Istanbul"]
    assert select.count('value="Europe/Vienna"') == 1
    assert 'value="Europe/Istanbul" selected' in select


# Handles ---------------------------------------------------------------------------------------


def test_handles_are_shown_with_one_at_sign(
    client: Any, editor: Any, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    typed_with_at = account_factory("instagram", name="Klinikum Nord", handle="@klinikum_nord")
    typed_without = account_factory("facebook", name="Klinikum Süd", handle="klinikum_sued")
    post = post_factory(editor, campaign, targets=[typed_with_at, typed_without])
    client.force_login(editor)

    for url in (reverse("posts:post_edit", args=[post.pk]), reverse("posts:post_detail", args=[post.pk])):
        html = client.get(url).content.decode()
        assert '<span class="handle">@klinikum_nord</span>' in html, url
        assert '<span class="handle">@klinikum_sued</span>' in html, url
        assert "@@" not in html, url


# Progressive slots -----------------------------------------------------------------------------


def test_only_one_empty_person_and_image_slot_is_shown_beside_the_filled_ones(
    client: Any, editor: Any, campaign: Any, subject_factory: Any
) -> None:
    client.force_login(editor)
    html = client.get(reverse("posts:post_create") + f"?campaign={campaign.pk}").content.decode()
    assert html.count("data-slot-extra") == 2 + 3  # persons 2-3 and images 2-4 wait behind "Add ..."
    assert "Add a person" in html and "Add an image" in html

    anna, ben = subject_factory(), subject_factory()
    refused = client.post(
        reverse("posts:post_create"),
        form_data(campaign, featured_subject_0=anna.reference, featured_subject_1=ben.reference),
    )
    rows = refused.context["form"].featured_rows()
    assert [row.extra for row in rows] == [False, False, False]  # two filled (with errors), one empty


# Images kept across a refused save -------------------------------------------------------------


def upload(name: str = "square_1080_rgba.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (IMAGES / name).read_bytes(), content_type="image/png")


def refused_with_image(client: Any, campaign: Any, accounts: list[Any]) -> tuple[Any, str]:
    """Post the editor with an image and a date but no time: refused; return the answer and the kept token."""
    response = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            accounts,
            body=BODY,
            scheduled_date="2027-03-17",
            new_file_0=upload(),
            new_alt_0="Ein rotes Papierherz",
        ),
    )
    assert response.status_code == 200
    assert "scheduled_time" in errors_of(response)
    kept = response.context["form"].kept[0]
    return response, kept.token


def test_an_image_chosen_before_a_refused_save_is_kept_and_saved_with_the_fix(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    facebook = account_factory("facebook")
    client.force_login(editor)

    response, token = refused_with_image(client, campaign, [facebook])

    html = response.content.decode()
    assert f'name="kept_0" value="{token}"' in html
    shown = response.context["form"].draft().media[0].info  # the findings judge the image as it will be stored
    assert (shown.format, shown.width, shown.height) == ("png", 1080, 1080)
    assert "kept" in html and "square_1080_rgba.png" in html
    thumbnail = client.get(reverse("posts:pending_thumbnail", args=[token]))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] in {"image/png", "image/jpeg"}
    assert len(list((Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(editor.pk)).iterdir())) == 2

    saved = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            [facebook],
            body=BODY,
            scheduled_date="2027-03-17",
            scheduled_time="18:00",
            kept_0=token,
            new_alt_0="Ein rotes Papierherz",
        ),
    )

    assert saved.status_code == 302, errors_of(saved)
    media = Media.objects.get()
    assert media.checksum
    assert (media.width, media.height, media.alt_text) == (1080, 1080, "Ein rotes Papierherz")
    assert media.post.body == BODY
    assert not list((Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(editor.pk)).iterdir())


def test_a_kept_image_runs_through_the_media_checks_again(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    facebook = account_factory("facebook")
    client.force_login(editor)
    _response, token = refused_with_image(client, campaign, [facebook])
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(editor.pk)
    original = next(path for path in folder.iterdir() if not path.name.endswith(".thumb"))
    original.write_bytes((IMAGES / "not_an_image.jpg").read_bytes())

    response = client.post(
        reverse("posts:post_create"),
        form_data(campaign, [facebook], kept_0=token, new_alt_0="Ein rotes Papierherz"),
    )

    assert response.status_code == 200
    assert errors_of(response)["new_file_0"]
    assert Post.objects.count() == 0


def test_a_kept_image_is_only_for_the_person_who_chose_it(
    client: Any, editor: Any, other_editor: Any, campaign: Any, campaign_factory: Any, account_factory: Any
) -> None:
    facebook = account_factory("facebook")
    client.force_login(editor)
    _response, token = refused_with_image(client, campaign, [facebook])
    other = Client()
    other.force_login(other_editor)

    assert other.get(reverse("posts:pending_thumbnail", args=[token])).status_code == 404
    response = other.post(
        reverse("posts:post_create"),
        form_data(campaign_factory(other_editor), [facebook], kept_0=token, new_alt_0="Herz"),
    )
    assert response.status_code == 200
    assert errors_of(response)["new_file_0"] == [
        "The image kept from your last try is no longer there: choose it again."
    ]
    assert client.get(reverse("posts:pending_thumbnail", args=[token + "x"])).status_code == 404


def test_a_kept_image_the_person_removes_is_not_saved(
    client: Any, editor: Any, campaign: Any, account_factory: Any
) -> None:
    facebook = account_factory("facebook")
    client.force_login(editor)
    _response, token = refused_with_image(client, campaign, [facebook])

    saved = client.post(
        reverse("posts:post_create"),
        form_data(campaign, [facebook], body=BODY, kept_0=token, kept_remove_0="on", new_alt_0=""),
    )

    assert saved.status_code == 302, errors_of(saved)
    assert not Media.objects.exists()
    assert not list((Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(editor.pk)).iterdir())


def test_kept_images_older_than_a_day_are_purged(
    client: Any, editor: Any, campaign: Any, account_factory: Any, time_machine: Any
) -> None:
    from posts.pending import pending_purge

    client.force_login(editor)
    _response, token = refused_with_image(client, campaign, [account_factory("facebook")])
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(editor.pk)
    assert pending_purge() == 0 and len(list(folder.iterdir())) == 2

    time_machine.move_to(timezone.now() + dt.timedelta(days=1, minutes=1))

    assert pending_purge() == 2
    assert not list(folder.iterdir())
    assert client.get(reverse("posts:pending_thumbnail", args=[token])).status_code == 404


def test_a_linked_consent_revoked_later_stays_only_in_its_own_row_and_is_never_offered_elsewhere(
    client: Any, editor: Any, campaign: Any, account_factory: Any, people: dict[str, Any], officer: Any
) -> None:
    facebook = account_factory("facebook")
    anna_consent = people["valid"]
    client.force_login(editor)
    featured = {
        "featured_subject_0": anna_consent.subject.reference,
        "featured_consent_0": anna_consent.pk,
        "featured_kinds_0": ["photo"],
    }
    assert client.post(reverse("posts:post_create"), form_data(campaign, [facebook], **featured)).status_code == 302
    post = Post.objects.get()
    consent_revoke(record=anna_consent, actor=officer, received_via="letter")

    page = client.get(reverse("posts:post_edit", args=[post.pk]))

    assert anna_consent.pk in offered_ids(page, 0)
    assert anna_consent.pk not in offered_ids(page, 1)
    other = client.get(reverse("posts:consent_options"), {"post": post.pk, "targets": [facebook.pk]}).json()
    assert anna_consent.pk not in {option["id"] for option in other["options"]}


def test_a_person_keeps_at_most_sixteen_images(client: Any, editor: Any, campaign: Any, account_factory: Any) -> None:
    from posts.pending import KEEP_AT_MOST

    facebook = account_factory("facebook")
    client.force_login(editor)
    tokens = [refused_with_image(client, campaign, [facebook])[1] for _ in range(KEEP_AT_MOST + 1)]

    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(editor.pk)
    assert len(list(folder.iterdir())) == 2 * KEEP_AT_MOST
    assert client.get(reverse("posts:pending_thumbnail", args=[tokens[0]])).status_code == 404
    assert client.get(reverse("posts:pending_thumbnail", args=[tokens[-1]])).status_code == 200
