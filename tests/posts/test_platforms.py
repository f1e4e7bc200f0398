import json

import pytest

from posts.platforms import (
    MB,
    RULES,
    Finding,
    MediaInfo,
    Severity,
    compose_text,
    findings_for_target,
    has_errors,
    hashtag_errors,
    normalise_hashtags,
    rules_as_json,
    rules_for,
    text_length,
)


def photo(width: int = 1080, height: int = 1080, **fields: object) -> MediaInfo:
    values: dict[str, object] = {"format": "jpeg", "byte_size": 500_000, "alt_text": "A nurse washing her hands"}
    values.update(fields)
    return MediaInfo(kind="photo", width=width, height=height, **values)  # type: ignore[arg-type]


def video(**fields: object) -> MediaInfo:
    values: dict[str, object] = {"format": "mp4", "byte_size": 50 * MB, "alt_text": "Tour of the new ward"}
    values.update(fields)
    return MediaInfo(kind="video", width=1920, height=1080, **values)  # type: ignore[arg-type]


# Media (and a title) each platform needs, so a test sees only the rule it is about.
VALID_MEDIA = {"instagram": [photo()], "tiktok": [video()], "youtube": [video()]}


def codes(findings: list[Finding], severity: Severity | None = None) -> list[str]:
    return [finding.code for finding in findings if severity is None or finding.severity == severity]


def check(platform: str, body: str = "Wash your hands.", **kwargs: object) -> list[Finding]:
    kwargs.setdefault("media", VALID_MEDIA.get(platform, []))
    kwargs.setdefault("title", "Hand hygiene")
    return findings_for_target(platform=platform, body=body, **kwargs)  # type: ignore[arg-type]


# Rules table ---------------------------------------------------------------------------------


def test_rules_cover_every_platform_choice() -> None:
    from posts.models import Platform

    assert set(RULES) == set(Platform.values)


def test_rules_for_an_unknown_platform_raises_value_error() -> None:
    with pytest.raises(ValueError, match="myspace"):
        rules_for("myspace")


def test_rules_as_json_is_serialisable_and_lists_every_platform() -> None:
    data = json.loads(json.dumps(rules_as_json()))

    assert set(data["platforms"]) == set(RULES)
    assert data["platforms"]["instagram"]["text_limit"] == 2200
    assert data["platforms"]["instagram"]["min_aspect"] == 0.8
    assert data["platforms"]["instagram"]["max_aspect"] == 1.91
    assert data["platforms"]["x"]["counting"] == "x_weighted"
    assert data["platforms"]["webhook"]["text_limit"] is None
    assert data["x_counting"]["url_length"] == 23


# Text length ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "limit"),
    [
        ("facebook", 63_206),
        ("instagram", 2_200),
        ("linkedin", 3_000),
        ("x", 280),
        ("youtube", 5_000),
        ("tiktok", 2_200),
    ],
)
def test_text_exactly_at_the_limit_is_accepted_and_one_more_character_is_an_error(platform: str, limit: int) -> None:
    assert codes(check(platform, "a" * limit)) == []
    assert codes(check(platform, "a" * (limit + 1))) == ["text_too_long"]


@pytest.mark.parametrize("platform", ["webhook", "outbox"])
def test_webhook_and_outbox_have_no_text_limit(platform: str) -> None:
    assert rules_for(platform).text_limit is None
    assert check(platform, "a" * 100_000) == []


def test_text_too_long_message_names_count_platform_and_limit() -> None:
    [finding] = check("instagram", "a" * 2201)

    assert finding.message == "Text is 2201 characters; Instagram allows 2200."
    assert finding.severity == Severity.ERROR
    assert finding.platform == "instagram"


def test_hashtags_and_link_count_towards_the_text_limit() -> None:
    body = "a" * (280 - len("\n\n#b"))

    assert codes(check("x", body, hashtags=["b"])) == []
    assert codes(check("x", body + "a", hashtags=["b"])) == ["text_too_long"]


def test_x_counts_every_url_as_23_characters() -> None:
    long_url = "https://www.example-hospital.org/departments/cardiology/heart-health-week-2025"

    assert text_length(long_url, "x") == 23
    assert text_length("see https://t.co/a", "x") == 4 + 23
    assert text_length("Read www.example.org.", "x") == len("Read ") + 23 + len(".")
    assert text_length(long_url, "instagram") == len(long_url)


def test_x_link_at_the_boundary_counts_as_23() -> None:
    link = "https://www.example-hospital.org/a/very/long/path/that/would/not/fit/otherwise"
    body = "a" * (280 - 2 - 23)  # body, blank line, link

    assert codes(check("x", body, link=link)) == []
    assert codes(check("x", body + "a", link=link)) == ["text_too_long"]


def test_x_counts_cjk_and_emoji_as_two_and_latin_as_one() -> None:
    assert text_length("Herz", "x") == 4
    assert text_length("日本", "x") == 4
    assert text_length("😀", "x") == 2
    assert text_length("👍🏽", "x") == 2  # skin tone modifier is free
    assert text_length("👨\u200d👩\u200d👧", "x") == 2  # one ZWJ family
    assert text_length("🇩🇪", "x") == 2  # one flag
    assert text_length("☀️", "x") == 2  # with variation selector


def test_text_length_counts_code_points_after_nfc_normalisation() -> None:
    decomposed = "Cafe\u0301"

    assert text_length(decomposed, "instagram") == 4
    assert text_length(decomposed, "x") == 4
    assert text_length("😀", "instagram") == 1


def test_youtube_description_limit_is_in_utf8_bytes() -> None:
    assert text_length("ä", "youtube") == 2
    assert codes(check("youtube", "ä" * 2500)) == []
    assert codes(check("youtube", "ä" * 2501)) == ["text_too_long"]


def test_tiktok_counts_utf16_units() -> None:
    assert text_length("😀", "tiktok") == 2
    assert text_length("ä", "tiktok") == 1


def test_youtube_rejects_angle_brackets_in_the_description() -> None:
    assert codes(check("youtube", "Blood pressure <140")) == ["text_forbidden_characters"]


def test_youtube_title_is_required_and_limited_to_100_characters() -> None:
    assert codes(check("youtube", title="t" * 100)) == []
    assert codes(check("youtube", title="t" * 101)) == ["title_too_long"]
    assert codes(check("youtube", title="  ")) == ["title_missing"]


def test_other_platforms_need_no_title() -> None:
    assert check("facebook", title="") == []


def test_empty_post_without_media_is_an_error() -> None:
    assert "post_empty" in codes(check("facebook", "", media=[]))
    assert codes(check("facebook", "", media=[photo()])) == []


# Hashtags ------------------------------------------------------------------------------------


def test_instagram_allows_30_hashtags_and_31_is_an_error() -> None:
    tags = [f"tag{n}" for n in range(31)]

    assert codes(check("instagram", hashtags=tags[:30])) == []
    assert codes(check("instagram", hashtags=tags)) == ["hashtags_too_many"]


def test_instagram_counts_hashtags_written_in_the_body_too() -> None:
    body = " ".join(f"#body{n}" for n in range(20))
    tags = [f"field{n}" for n in range(11)]

    assert codes(check("instagram", body, hashtags=tags)) == ["hashtags_too_many"]


def test_hashtag_counting_ignores_url_fragments_and_numbers() -> None:
    body = "We are #1, see https://example.org/page#section " + " ".join(f"#t{n}" for n in range(30))

    assert codes(check("instagram", body)) == []


def test_linkedin_more_than_three_hashtags_is_only_a_warning() -> None:
    assert codes(check("linkedin", hashtags=["a", "b", "c"])) == []
    findings = check("linkedin", hashtags=["a", "b", "c", "d"])

    assert codes(findings) == ["hashtags_many"]
    assert not has_errors(findings)


def test_x_has_no_hashtag_limit_beyond_the_text_length() -> None:
    assert codes(check("x", "Hi", hashtags=[f"t{n}" for n in range(50)])) == []


def test_invalid_hashtag_is_an_error_on_every_platform() -> None:
    findings = check("facebook", hashtags=["foo-bar"])

    assert codes(findings) == ["hashtag_invalid"]
    assert "#foo-bar" in findings[0].message


def test_normalise_hashtags_splits_strips_and_drops_case_insensitive_duplicates() -> None:
    assert normalise_hashtags("#a, b;c  #A") == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("  ;, # ", []),
        ("#Herz#Gesundheit", ["Herz", "Gesundheit"]),
        ("\uff03Herz", ["Herz"]),  # full-width number sign
        (["#Herz", "herz", "Lunge Niere"], ["Herz", "Lunge", "Niere"]),
        ("Über über", ["Über"]),
        ("foo-bar", ["foo-bar"]),  # kept: hashtag_errors reports it
    ],
)
def test_normalise_hashtags_cases(raw: str | list[str], expected: list[str]) -> None:
    assert normalise_hashtags(raw) == expected


def test_hashtag_errors_accepts_letters_digits_underscores_in_any_script() -> None:
    assert hashtag_errors(["Herz_2025", "Über", "नमस्ते", "日本"]) == []


def test_hashtag_errors_reports_punctuation_and_digit_only_tags() -> None:
    errors = hashtag_errors(["foo-bar", "2025", "ok"])

    assert len(errors) == 2
    assert "#foo-bar" in errors[0]
    assert "#2025" in errors[1]


# compose_text --------------------------------------------------------------------------------


def test_compose_text_joins_body_link_and_hashtags_with_blank_lines() -> None:
    text = compose_text(
        body="  Wash your hands.\n", link="https://example.org/hands", hashtags=["#hygiene", "Health"], platform="x"
    )

    assert text == "Wash your hands.\n\nhttps://example.org/hands\n\n#hygiene #Health"


def test_compose_text_without_link_or_hashtags_is_the_body() -> None:
    assert compose_text(body="Wash your hands.", link="", hashtags=(), platform="facebook") == "Wash your hands."


def test_compose_text_leaves_the_link_out_of_instagram_captions_and_warns() -> None:
    text = compose_text(body="Wash your hands.", link="https://example.org", hashtags=["hygiene"], platform="instagram")
    findings = check("instagram", link="https://example.org")

    assert text == "Wash your hands.\n\n#hygiene"
    assert codes(findings) == ["link_not_clickable"]
    assert findings[0].severity == Severity.WARNING
    assert findings[0].message == "Links in Instagram captions are not clickable; the link is left out."


# Media sets ----------------------------------------------------------------------------------


def test_instagram_without_media_is_an_error() -> None:
    assert codes(check("instagram", media=[])) == ["media_required"]


def test_tiktok_without_media_is_an_error() -> None:
    assert codes(check("tiktok", media=[])) == ["media_required"]


def test_youtube_photo_only_post_is_an_error_youtube_needs_a_video() -> None:
    findings = check("youtube", media=[photo()])

    assert "video_required" in codes(findings, Severity.ERROR)
    assert "YouTube needs a video." in [finding.message for finding in findings]


def test_youtube_accepts_one_video_and_no_more() -> None:
    assert check("youtube", media=[video()]) == []
    assert "media_too_many" in codes(check("youtube", media=[video(), video()]))


@pytest.mark.parametrize(
    ("platform", "limit"), [("instagram", 10), ("x", 4), ("facebook", 10), ("linkedin", 20), ("tiktok", 35)]
)
def test_photo_count_at_the_limit_is_accepted_and_one_more_is_an_error(platform: str, limit: int) -> None:
    assert codes(check(platform, media=[photo()] * limit)) == []
    assert codes(check(platform, media=[photo()] * (limit + 1))) == ["media_too_many"]


def test_x_cannot_mix_photos_and_a_video() -> None:
    assert codes(check("x", media=[photo(), video()])) == ["media_mixed"]


def test_x_allows_one_video() -> None:
    assert codes(check("x", media=[video(), video()])) == ["videos_too_many"]


def test_instagram_carousel_may_mix_photos_and_videos() -> None:
    assert check("instagram", media=[photo(), video(), photo()]) == []


# Media items ---------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(RULES))
def test_missing_alt_text_is_an_error_everywhere(platform: str) -> None:
    item = video(alt_text="  ") if platform == "youtube" else photo(alt_text="  ")
    findings = check(platform, media=[item])

    assert codes(findings) == ["alt_text_missing"]
    assert findings[0].media_index == 0


def test_x_alt_text_is_limited_to_1000_characters() -> None:
    assert check("x", media=[photo(alt_text="a" * 1000)]) == []
    assert codes(check("x", media=[photo(alt_text="a" * 1001)])) == ["alt_text_too_long"]


@pytest.mark.parametrize(("platform", "limit"), [("instagram", 8 * MB), ("x", 5 * MB), ("facebook", 4 * MB)])
def test_image_size_at_the_limit_is_accepted_and_one_byte_more_is_an_error(platform: str, limit: int) -> None:
    assert check(platform, media=[photo(byte_size=limit)]) == []
    assert codes(check(platform, media=[photo(byte_size=limit + 1)])) == ["image_too_large"]


def test_image_too_large_message_gives_megabytes() -> None:
    [finding] = check("x", media=[photo(byte_size=int(7.5 * MB))])

    assert finding.message == "Photo 1 is 7.5 MB; X allows 5 MB."


def test_png_for_instagram_is_a_warning_that_it_will_be_converted_to_jpeg() -> None:
    findings = check("instagram", media=[photo(format="png")])

    assert codes(findings) == ["image_converted"]
    assert not has_errors(findings)
    assert "JPEG" in findings[0].message


def test_x_accepts_png_and_webp_unchanged() -> None:
    assert check("x", media=[photo(format="png"), photo(format="webp")]) == []


def test_banner_5_to_1_is_an_error_on_instagram_but_only_a_warning_on_x() -> None:
    banner = photo(width=5000, height=1000)
    instagram = check("instagram", media=[banner])
    x = check("x", media=[banner])

    assert codes(instagram) == ["aspect_ratio_not_accepted"]
    assert instagram[0].message == "Photo 1 has an aspect ratio of 5:1; Instagram accepts 4:5 to 1.91:1."
    assert codes(x) == ["aspect_ratio_cropped"]
    assert not has_errors(x)


@pytest.mark.parametrize(("width", "height"), [(1080, 1350), (1910, 1000), (1080, 1080)])
def test_instagram_accepts_aspect_ratios_from_4_5_to_1_91_inclusive(width: int, height: int) -> None:
    assert check("instagram", media=[photo(width, height)]) == []


@pytest.mark.parametrize(("width", "height"), [(1080, 1351), (1911, 1000), (1080, 1920)])
def test_instagram_rejects_aspect_ratios_just_outside_4_5_to_1_91(width: int, height: int) -> None:
    assert codes(check("instagram", media=[photo(width, height)])) == ["aspect_ratio_not_accepted"]


@pytest.mark.parametrize("platform", ["x", "facebook", "linkedin"])
def test_feed_platforms_warn_only_beyond_3_to_1_either_way(platform: str) -> None:
    assert check(platform, media=[photo(3000, 1000), photo(1000, 3000)]) == []
    assert codes(check(platform, media=[photo(3001, 1000)])) == ["aspect_ratio_cropped"]
    assert codes(check(platform, media=[photo(1000, 3001)])) == ["aspect_ratio_cropped"]


def test_unknown_dimensions_skip_the_aspect_check() -> None:
    assert check("instagram", media=[photo(0, 0)]) == []


def test_linkedin_limits_image_pixel_count() -> None:
    assert codes(check("linkedin", media=[photo(8000, 5000)])) == ["image_too_many_pixels"]


def test_findings_point_at_the_media_item_concerned() -> None:
    findings = check("instagram", media=[photo(), photo(alt_text=""), photo(width=5000, height=1000)])

    assert [(finding.code, finding.media_index) for finding in findings] == [
        ("alt_text_missing", 1),
        ("aspect_ratio_not_accepted", 2),
    ]


def test_has_errors_is_false_for_warnings_only_and_true_with_an_error() -> None:
    warning = Finding("hashtags_many", Severity.WARNING, "…", "linkedin")
    error = Finding("text_too_long", Severity.ERROR, "…", "x")

    assert not has_errors([])
    assert not has_errors([warning])
    assert has_errors([warning, error])
