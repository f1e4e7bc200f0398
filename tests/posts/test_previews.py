"""The platform previews: where each feed cuts the text, how X marks the excess, how images are cropped."""

import unicodedata
from fractions import Fraction
from typing import Any

import pytest

from posts.forms import Draft, DraftMedia
from posts.platforms import RULES, MediaInfo, text_length
from posts.previews import (
    PORTRAIT,
    SHAPES,
    SQUARE,
    TALL,
    WIDE,
    crop_for,
    cut_text,
    link_domain,
    shape_for,
    split_at_limit,
    target_previews,
)

HOSPITAL_TEXT = (
    "Herzwoche im Klinikum Nord: Am Samstag öffnen wir die Kardiologie für alle Interessierten. "
    "Blutdruck messen, Fragen an unsere Ärztinnen und Ärzte stellen, Reanimation üben. 💓 "
    "Wir freuen uns auf Sie – bringen Sie gern Ihre Familie mit!"
)


def test_every_platform_has_a_preview_shape() -> None:
    assert set(SHAPES) == set(RULES)


# Cuts ----------------------------------------------------------------------------------------


def test_instagram_shows_about_125_characters_then_more() -> None:
    shape = shape_for("instagram")
    cut = cut_text(HOSPITAL_TEXT, chars=shape.cut_chars, lines=shape.cut_lines)

    assert cut.cut
    assert len(cut.shown) <= 125
    assert len(cut.shown) >= 125 - 20  # at a word near the cut, not long before it
    assert cut.shown.endswith("an unsere")  # the last whole word before character 125
    assert len(cut.shown + " Ärztinnen") > 125
    assert cut.shown + " " + cut.rest == HOSPITAL_TEXT


def test_a_caption_of_exactly_125_characters_is_not_cut_and_126_is() -> None:
    assert not cut_text("a" * 125, chars=125, lines=2).cut
    cut = cut_text("a" * 126, chars=125, lines=2)
    assert (cut.shown, cut.rest) == ("a" * 125, "a")  # no space near: cut inside the word


def test_umlauts_count_once_even_when_typed_decomposed() -> None:
    composed = "ü" * 125
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) == 250

    assert not cut_text(decomposed, chars=125, lines=None).cut
    assert cut_text(decomposed + "ö", chars=125, lines=None).shown == composed


def test_a_cut_never_splits_an_emoji_sequence_or_a_flag() -> None:
    family = "👩\u200d👩\u200d👧"  # one family emoji: five code points
    text = "a" * 123 + family + "b"
    shown = cut_text(text, chars=125, lines=None).shown
    assert shown == "a" * 123

    flag = "🇩🇪"
    assert cut_text("a" * 124 + flag + "b", chars=125, lines=None).shown == "a" * 124

    thumbs = "👍🏽"  # skin tone modifier belongs to the thumb
    assert cut_text("a" * 124 + thumbs + "c", chars=125, lines=None).shown == "a" * 124


def test_facebook_cuts_after_five_lines_even_when_short() -> None:
    text = "\n".join(f"Line {number}" for number in range(1, 8))
    shape = shape_for("facebook")
    cut = cut_text(text, chars=shape.cut_chars, lines=shape.cut_lines)
    assert cut.shown == "Line 1\nLine 2\nLine 3\nLine 4\nLine 5"
    assert cut.rest == "Line 6\nLine 7"


def test_facebook_cuts_near_480_and_linkedin_near_210_characters() -> None:
    text = ("Wir impfen gegen Grippe, jeden Dienstag von 9 bis 12 Uhr. " * 12).strip()
    for platform, chars in (("facebook", 480), ("linkedin", 210)):
        shape = shape_for(platform)
        cut = cut_text(text, chars=shape.cut_chars, lines=shape.cut_lines)
        assert chars - 20 <= len(cut.shown) <= chars


def test_x_never_cuts_the_text() -> None:
    shape = shape_for("x")
    assert not cut_text("a" * 1000, chars=shape.cut_chars, lines=shape.cut_lines).cut


# The X count -----------------------------------------------------------------------------------


def test_x_marks_the_excess_counted_the_x_way() -> None:
    text = "a" * 300
    limited = split_at_limit(text, "x")
    assert (limited.within, limited.over) == ("a" * 280, "a" * 20)


def test_x_counts_a_link_as_23_when_splitting() -> None:
    url = "https://www.klinikum-nord.example/herzwoche/programm-samstag-oeffentlich"
    text = "a" * 250 + " " + url
    assert len(text) > 280
    assert text_length(text, "x") == 250 + 1 + 23
    assert split_at_limit(text, "x").over == ""

    text = "a" * 260 + " " + url  # 284: the link is the excess
    limited = split_at_limit(text, "x")
    assert limited.within == "a" * 260 + " "
    assert limited.over == url


def test_x_counts_emoji_as_two_and_keeps_them_whole_at_the_limit() -> None:
    text = "a" * 279 + "💓" + "b"  # 279 + 2 + 1
    limited = split_at_limit(text, "x")
    assert limited.within == "a" * 279
    assert limited.over == "💓b"


def test_a_text_within_the_limit_has_no_excess_on_any_platform() -> None:
    for platform in RULES:
        assert split_at_limit(HOSPITAL_TEXT, platform).over == ""


# Images and links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "width", "height", "crop"),
    [
        ("instagram", 1080, 1080, SQUARE),
        ("instagram", 1920, 1080, SQUARE),  # landscape: the feed shows a square
        ("instagram", 1080, 1350, PORTRAIT),
        ("instagram", 1080, 1920, PORTRAIT),
        ("instagram", 0, 0, SQUARE),  # size not known yet
        ("x", 1080, 1080, WIDE),
        ("x", 1080, 1920, WIDE),
        ("tiktok", 1920, 1080, TALL),
        ("youtube", 1080, 1080, WIDE),
        ("facebook", 1200, 628, Fraction(191, 100)),
    ],
)
def test_images_are_cropped_to_the_platforms_nearest_ratio(
    platform: str, width: int, height: int, crop: Fraction
) -> None:
    assert crop_for(shape_for(platform), width, height) == crop


def test_link_cards_name_the_domain() -> None:
    assert link_domain("https://www.klinikum-nord.example/herzwoche?x=1") == "klinikum-nord.example"
    assert link_domain("http://Example.ORG:8080/a") == "example.org"


# Rendered cards --------------------------------------------------------------------------------


def _draft(accounts: list[Any], **fields: Any) -> Draft:
    fields.setdefault("title", "Herzwoche")
    fields.setdefault("body", HOSPITAL_TEXT)
    fields.setdefault("link", "https://www.klinikum-nord.example/herzwoche")
    fields.setdefault("hashtags", ["Herzwoche"])
    fields.setdefault("media", [])
    return Draft(targets=[(account, "") for account in accounts], **fields)


def test_previews_render_each_platforms_card(account_factory: Any, settings: Any) -> None:
    from django.template.loader import render_to_string

    instagram = account_factory("instagram", name="Klinikum Nord", handle="@klinikum_nord")
    facebook = account_factory("facebook", name="Klinikum Nord FB", handle="klinikum.nord")
    x = account_factory("x", name="Klinikum Nord X", handle="klinikum_x")
    photo = DraftMedia(MediaInfo("photo", 1080, 1920, "jpeg", 1000, "Blood pressure check"), "/media/t.jpg")
    previews = target_previews(_draft([instagram, facebook, x], media=[photo]))

    html = render_to_string("posts/partials/editor_findings.html", {"previews": previews})

    assert "@@" not in html
    assert html.count("@klinikum_nord") == 2  # head and caption of the Instagram card
    assert 'class="pv-media pv-r-4x5 pv-fit-cover"' in html  # Instagram: a tall image shows 4:5
    assert 'class="pv-media pv-r-16x9 pv-fit-cover"' in html  # X: 16:9
    assert html.count('class="pv-more">… more</span>') == 1
    assert "pv-card" not in html  # an image post shows the image, not the link card

    text_only = target_previews(_draft([facebook]))
    html = render_to_string("posts/partials/editor_findings.html", {"previews": text_only})
    assert '<span class="pv-card-domain">KLINIKUM-NORD.EXAMPLE</span>' in html


def test_the_post_page_shows_each_targets_card_from_the_server(
    client: Any, editor: Any, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    from django.urls import reverse

    accounts = [account_factory(platform) for platform in ("instagram", "linkedin", "x", "tiktok", "youtube")]
    post = post_factory(editor, campaign, targets=accounts, title="Herzwoche", body=HOSPITAL_TEXT * 2)
    client.force_login(editor)

    html = client.get(reverse("posts:post_detail", args=[post.pk])).text

    assert html.count('<article class="preview pv pv-') == 5
    assert "rounds/previews.css" in html
    assert "rounds/previews.js" not in html  # the script is the editor's only
    assert 'class="pv-more">…see more</span>' in html
    assert 'class="pv-media pv-r-9x16 pv-fit-contain"' in html  # TikTok's frame, even without media
    assert '<p class="pv-title">Herzwoche</p>' in html  # YouTube's title
    assert '<mark class="pv-over"' in html  # X: over 280
