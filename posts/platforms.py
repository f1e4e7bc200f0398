"""What each platform accepts, and the findings for one post on one account.

Pure functions over plain values: no ORM, so the editor can check unsaved form data and the
review stages and the publish gate can check saved posts with the same rules. Limits are the
platforms' documented API limits; where a number is ours, a comment says why.

Hashtags: `normalise_hashtags` never raises, it only cleans (split, strip "#", drop empties and
case-insensitive duplicates); `hashtag_errors` says which cleaned tags cannot be published, so a
form, the CSV importer and `findings_for_target` report the same problems in the same words.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from django.utils.translation import gettext, gettext_noop

MB = 1024 * 1024


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Counting(StrEnum):
    """How a platform measures text length."""

    CODE_POINTS = "code_points"
    X_WEIGHTED = "x_weighted"  # twitter-text v3: URLs 23, most non-Latin scripts and emoji 2
    UTF16_UNITS = "utf16_units"  # TikTok counts "UTF-16 runes": emoji and rare scripts count 2
    UTF8_BYTES = "utf8_bytes"  # YouTube limits the description in bytes, not characters


@dataclass(frozen=True)
class MediaInfo:
    """One media item as the rules see it: kind "photo"/"video", pixels, format, size, alt text."""

    kind: str
    width: int
    height: int
    format: str
    byte_size: int
    alt_text: str


@dataclass(frozen=True)
class Passage:
    """Where in a text a finding is: ``text[start:end]`` is the offending passage."""

    text: str
    start: int
    end: int

    # Characters of context shown on each side of the passage.
    CONTEXT = 60

    @property
    def before(self) -> str:
        """Return the text before the passage, shortened to its last CONTEXT characters."""
        head = self.text[: self.start]
        return head if len(head) <= self.CONTEXT else "…" + head[-self.CONTEXT :]

    @property
    def marked(self) -> str:
        """Return the passage itself, whole."""
        return self.text[self.start : self.end]

    @property
    def after(self) -> str:
        """Return the text after the passage, shortened to its first CONTEXT characters."""
        tail = self.text[self.end :]
        return tail if len(tail) <= self.CONTEXT else tail[: self.CONTEXT] + "…"


@dataclass(frozen=True)
class Finding:
    """One rule a post breaks (error) or strains (warning) on one platform.

    `media_index` is the 0-based position of the media item concerned, or None for the post;
    `passage`, where known, the text it is about with the offending part; `boxes`, the regions of
    the image concerned (``(left, top, width, height)`` in the stored image's pixels).
    """

    code: str
    severity: Severity
    message: str
    platform: str
    media_index: int | None = None
    passage: Passage | None = None
    boxes: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class PlatformRules:
    """The publishing rules of one platform. None means "no limit"."""

    platform: str
    label: str  # marked with gettext_noop; use display_label() in messages
    text_limit: int | None
    counting: Counting = Counting.CODE_POINTS
    forbidden_text_chars: str = ""
    title_limit: int | None = None
    title_required: bool = False
    max_hashtags: int | None = None  # above: error
    recommended_max_hashtags: int | None = None  # above: warning
    links_clickable: bool = True  # False: the link is left out of the text, with a warning
    min_media: int = 0
    max_media: int | None = None
    max_videos: int | None = None
    mixed_media: bool = True  # photos and videos in one post
    media_kinds: frozenset[str] = frozenset({"photo", "video"})
    requires_video: bool = False
    max_image_bytes: int | None = None
    max_image_pixels: int | None = None
    image_formats: frozenset[str] | None = None  # others are converted to JPEG (a warning)
    min_aspect: Fraction | None = None  # width / height, both or neither; outside: error
    max_aspect: Fraction | None = None
    crop_below: Fraction | None = None  # both or neither; outside: warning, the feed crops it
    crop_above: Fraction | None = None
    alt_text_limit: int | None = None

    def display_label(self) -> str:
        return gettext(self.label)


# The feed crops images beyond 3:1 either way (our threshold; no platform documents one).
_CROP_BELOW = Fraction(1, 3)
_CROP_ABOVE = Fraction(3, 1)

RULES: dict[str, PlatformRules] = {
    rules.platform: rules
    for rules in (
        PlatformRules(
            platform="facebook",
            label=gettext_noop("Facebook"),
            text_limit=63_206,
            # Graph API attached_media documents no cap; 10 matches the Instagram carousel so one
            # photo set fits both, and the feed shows at most 5 tiles anyway.
            max_media=10,
            max_videos=1,
            mixed_media=False,  # a video is its own /videos upload, photos cannot join it
            max_image_bytes=4 * MB,  # Graph API Page photos: 4 MB per photo
            image_formats=frozenset({"jpeg", "png", "gif", "webp", "bmp", "tiff"}),
            crop_below=_CROP_BELOW,
            crop_above=_CROP_ABOVE,
        ),
        PlatformRules(
            platform="instagram",
            label=gettext_noop("Instagram"),
            text_limit=2_200,
            max_hashtags=30,
            links_clickable=False,
            min_media=1,
            max_media=10,  # carousel: up to 10 images and videos (Content Publishing API)
            max_image_bytes=8 * MB,
            image_formats=frozenset({"jpeg"}),  # the Graph API takes JPEG only for feed images
            min_aspect=Fraction(4, 5),
            max_aspect=Fraction(191, 100),
        ),
        PlatformRules(
            platform="linkedin",
            label=gettext_noop("LinkedIn"),
            text_limit=3_000,
            recommended_max_hashtags=3,  # LinkedIn's own advice; more are allowed
            max_media=20,  # MultiImage API: 2 to 20 images
            max_videos=1,
            mixed_media=False,
            max_image_pixels=36_152_320,  # Images API: pixel count limit (no byte limit documented)
            image_formats=frozenset({"jpeg", "png", "gif"}),
            crop_below=_CROP_BELOW,
            crop_above=_CROP_ABOVE,
            alt_text_limit=4_086,  # Posts API altText
        ),
        PlatformRules(
            platform="x",
            label=gettext_noop("X"),
            text_limit=280,
            counting=Counting.X_WEIGHTED,
            max_media=4,
            max_videos=1,
            mixed_media=False,  # four images or one video
            max_image_bytes=5 * MB,
            image_formats=frozenset({"jpeg", "png", "gif", "webp"}),
            crop_below=_CROP_BELOW,
            crop_above=_CROP_ABOVE,
            alt_text_limit=1_000,
        ),
        PlatformRules(
            platform="youtube",
            label=gettext_noop("YouTube"),
            text_limit=5_000,
            counting=Counting.UTF8_BYTES,
            forbidden_text_chars="<>",  # Data API: title and description may not contain < or >
            title_limit=100,
            title_required=True,
            # Over 60 hashtags YouTube ignores them all and may remove the video for over-tagging.
            max_hashtags=60,
            min_media=1,
            max_media=1,
            max_videos=1,
            media_kinds=frozenset({"video"}),
            requires_video=True,
        ),
        PlatformRules(
            platform="tiktok",
            label=gettext_noop("TikTok"),
            text_limit=2_200,  # video caption; photo posts take a 4,000-rune description
            counting=Counting.UTF16_UNITS,
            links_clickable=False,
            min_media=1,
            max_media=35,  # photo mode
            max_videos=1,
            mixed_media=False,
            max_image_bytes=20 * MB,
            image_formats=frozenset({"jpeg", "webp"}),  # photo posts reject PNG
        ),
        PlatformRules(platform="webhook", label=gettext_noop("Webhook"), text_limit=None),
        PlatformRules(platform="outbox", label=gettext_noop("Outbox (folder)"), text_limit=None),
    )
}


def rules_for(platform: str) -> PlatformRules:
    """Return the rules of a platform; raise ValueError for an unknown one."""
    try:
        return RULES[platform]
    except KeyError:
        raise ValueError(f"Unknown platform: {platform!r}") from None


# Hashtags -------------------------------------------------------------------------------------

# "#" and the full-width number sign (U+FF03) both start a hashtag, so either separates tags.
_HASHTAG_SEPARATORS = re.compile(r"[\s,;#\uff03]+")
# A hashtag in running text: not inside a word, an HTML entity or a URL fragment.
_HASHTAG_IN_TEXT = re.compile(r"(?<![\w&/])[#\uff03](\w+)")


def normalise_hashtags(raw: str | Iterable[str]) -> list[str]:
    """Return the tags without "#", in order, without empties or case-insensitive duplicates.

    Tags may be separated by spaces, ";", "," or "#". Never raises: check the result with
    `hashtag_errors`.
    """
    pieces = [raw] if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        for token in _HASHTAG_SEPARATORS.split(unicodedata.normalize("NFC", piece)):
            key = token.casefold()
            if token and key not in seen:
                seen.add(key)
                tags.append(token)
    return tags


def _is_hashtag_char(char: str) -> bool:
    # Letters, marks (needed by Indic scripts), digits and "_": what the platforms link.
    return char == "_" or unicodedata.category(char)[0] in "LMN"


def hashtag_errors(tags: Iterable[str]) -> list[str]:
    """Return one message per tag (as cleaned by `normalise_hashtags`) that cannot be published."""
    errors: list[str] = []
    for tag in tags:
        if not all(_is_hashtag_char(char) for char in tag):
            errors.append(
                gettext("“#%(tag)s” is not a hashtag: use only letters, digits and underscores.") % {"tag": tag}
            )
        elif not any(unicodedata.category(char)[0] == "L" for char in tag):
            errors.append(gettext("“#%(tag)s” is not a hashtag: it needs at least one letter.") % {"tag": tag})
    return errors


def _hashtags_in(text: str) -> set[str]:
    return {
        match.casefold()
        for match in _HASHTAG_IN_TEXT.findall(text)
        if any(unicodedata.category(char)[0] == "L" for char in match)
    }


# Text -----------------------------------------------------------------------------------------


def compose_text(*, body: str, link: str, hashtags: Sequence[str], platform: str) -> str:
    """Return the text exactly as it will be published: body, link, then "#tag #tag".

    Parts are separated by a blank line. Where links in the text are not clickable (Instagram,
    TikTok) the link is left out; `findings_for_target` warns about it.
    """
    rules = rules_for(platform)
    parts = [body.strip()]
    if link.strip() and rules.links_clickable:
        parts.append(link.strip())
    tags = normalise_hashtags(hashtags)
    if tags:
        parts.append(" ".join(f"#{tag}" for tag in tags))
    return "\n\n".join(part for part in parts if part)


# twitter-text v3 (config/v3.json): these code points weigh 1, every other one 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
X_URL_LENGTH = 23  # every URL is shortened to a t.co link of this length
_URL = re.compile(r"(?<![\w.@])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\")]}"
_ZWJ = 0x200D


def _x_code_point_weight(code_point: int) -> int:
    return 1 if any(start <= code_point <= end for start, end in _X_LIGHT_RANGES) else 2


def _is_emoji_base(code_point: int) -> bool:
    return 0x1F000 <= code_point <= 0x1FAFF or 0x2300 <= code_point <= 0x27BF or 0x2B00 <= code_point <= 0x2BFF


def _is_emoji_modifier(code_point: int) -> bool:
    # Variation selectors, skin tones, tag characters (subdivision flags), combining keycap.
    return (
        code_point in (0xFE0E, 0xFE0F, 0x20E3) or 0x1F3FB <= code_point <= 0x1F3FF or 0xE0020 <= code_point <= 0xE007F
    )


def _x_weight(text: str) -> int:
    """Weigh text as twitter-text does: an emoji sequence (ZWJ family, flag, skin tone) counts 2."""
    total = 0
    in_emoji = False
    after_zwj = False
    pending_flag = False  # a first regional indicator; the second one of the pair is free
    for char in text:
        code_point = ord(char)
        if in_emoji and _is_emoji_modifier(code_point):
            continue
        if in_emoji and code_point == _ZWJ:
            after_zwj = True
            continue
        if after_zwj:
            after_zwj = False
            continue
        if 0x1F1E6 <= code_point <= 0x1F1FF:
            if pending_flag:
                pending_flag = False
                continue
            pending_flag = True
        else:
            pending_flag = False
        in_emoji = _is_emoji_base(code_point)
        total += _x_code_point_weight(code_point)
    return total


def _x_length(text: str) -> int:
    total = 0
    position = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        total += _x_weight(text[position : match.start()]) + X_URL_LENGTH
        position = match.start() + len(url)
    return total + _x_weight(text[position:])


def text_length(text: str, platform: str) -> int:
    """Return the length of text as the platform counts it, after NFC normalisation."""
    text = unicodedata.normalize("NFC", text)
    counting = rules_for(platform).counting
    if counting == Counting.X_WEIGHTED:
        return _x_length(text)
    if counting == Counting.UTF16_UNITS:
        return len(text.encode("utf-16-le")) // 2
    if counting == Counting.UTF8_BYTES:
        return len(text.encode("utf-8"))
    return len(text)


# Findings -------------------------------------------------------------------------------------


def _ratio_text(ratio: Fraction) -> str:
    if ratio.denominator <= 20:
        return f"{ratio.numerator}:{ratio.denominator}"
    return f"{float(ratio):.2f}:1"


def _megabytes(byte_size: int) -> str:
    return f"{byte_size / MB:.1f}".removesuffix(".0")


def _item_name(media: MediaInfo, index: int) -> str:
    if media.kind == "video":
        return gettext("Video %(number)s") % {"number": index + 1}
    return gettext("Photo %(number)s") % {"number": index + 1}


def _kind_name(kind: str) -> str:
    return {"photo": gettext("photos"), "video": gettext("videos")}.get(kind, kind)


class _Collector:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.findings: list[Finding] = []

    def error(self, code: str, message: str, media_index: int | None = None) -> None:
        self.findings.append(Finding(code, Severity.ERROR, message, self.platform, media_index))

    def warning(self, code: str, message: str, media_index: int | None = None) -> None:
        self.findings.append(Finding(code, Severity.WARNING, message, self.platform, media_index))


def _check_text(out: _Collector, rules: PlatformRules, *, text: str, title: str, tags: list[str], link: str) -> None:
    name = rules.display_label()
    if rules.text_limit is not None:
        length = text_length(text, rules.platform)
        if length > rules.text_limit:
            params = {"count": length, "platform": name, "limit": rules.text_limit, "url": X_URL_LENGTH}
            if rules.counting == Counting.UTF8_BYTES:
                message = gettext("Text is %(count)s bytes long; %(platform)s allows %(limit)s bytes.")
            elif rules.counting == Counting.X_WEIGHTED:
                message = gettext(
                    "Text counts as %(count)s characters on %(platform)s (each link counts as %(url)s); "
                    "%(platform)s allows %(limit)s."
                )
            else:
                message = gettext("Text is %(count)s characters; %(platform)s allows %(limit)s.")
            out.error("text_too_long", message % params)
    forbidden = sorted({char for char in text if char in rules.forbidden_text_chars})
    if forbidden:
        out.error(
            "text_forbidden_characters",
            gettext("%(platform)s does not allow these characters in the text: %(chars)s")
            % {"platform": name, "chars": " ".join(forbidden)},
        )
    if rules.title_required and not title.strip():
        out.error("title_missing", gettext("%(platform)s needs a title.") % {"platform": name})
    if rules.title_limit is not None and len(unicodedata.normalize("NFC", title)) > rules.title_limit:
        out.error(
            "title_too_long",
            gettext("Title is %(count)s characters; %(platform)s allows %(limit)s.")
            % {"count": len(unicodedata.normalize("NFC", title)), "platform": name, "limit": rules.title_limit},
        )
    forbidden = sorted({char for char in title if char in rules.forbidden_text_chars})
    if forbidden:
        out.error(
            "title_forbidden_characters",
            gettext("%(platform)s does not allow these characters in the title: %(chars)s")
            % {"platform": name, "chars": " ".join(forbidden)},
        )

    for message in hashtag_errors(tags):
        out.error("hashtag_invalid", message)
    count = len(_hashtags_in(text))
    if rules.max_hashtags is not None and count > rules.max_hashtags:
        out.error(
            "hashtags_too_many",
            gettext("The text has %(count)s hashtags; %(platform)s allows %(limit)s.")
            % {"count": count, "platform": name, "limit": rules.max_hashtags},
        )
    elif rules.recommended_max_hashtags is not None and count > rules.recommended_max_hashtags:
        out.warning(
            "hashtags_many",
            gettext("The text has %(count)s hashtags; %(platform)s recommends at most %(limit)s.")
            % {"count": count, "platform": name, "limit": rules.recommended_max_hashtags},
        )

    if link.strip() and not rules.links_clickable:
        out.warning(
            "link_not_clickable",
            gettext("Links in %(platform)s captions are not clickable; the link is left out.") % {"platform": name},
        )


def _check_media_set(out: _Collector, rules: PlatformRules, media: Sequence[MediaInfo]) -> None:
    name = rules.display_label()
    kinds = {item.kind for item in media}
    videos = sum(1 for item in media if item.kind == "video")
    if rules.requires_video and not videos:
        out.error("video_required", gettext("%(platform)s needs a video.") % {"platform": name})
    elif len(media) < rules.min_media:
        out.error(
            "media_required",
            gettext("%(platform)s needs at least one photo or video.") % {"platform": name},
        )
    for kind in sorted(kinds - rules.media_kinds):
        out.error(
            "media_kind_not_accepted",
            gettext("%(platform)s does not publish %(kind)s.") % {"platform": name, "kind": _kind_name(kind)},
        )
    if rules.max_media is not None and len(media) > rules.max_media:
        out.error(
            "media_too_many",
            gettext("The post has %(count)s media items; %(platform)s allows %(limit)s.")
            % {"count": len(media), "platform": name, "limit": rules.max_media},
        )
    if rules.max_videos is not None and videos > rules.max_videos:
        out.error(
            "videos_too_many",
            gettext("The post has %(count)s videos; %(platform)s allows %(limit)s per post.")
            % {"count": videos, "platform": name, "limit": rules.max_videos},
        )
    if not rules.mixed_media and {"photo", "video"} <= kinds:
        out.error(
            "media_mixed",
            gettext("%(platform)s cannot mix photos and videos in one post.") % {"platform": name},
        )


def _check_media_item(out: _Collector, rules: PlatformRules, media: MediaInfo, index: int) -> None:
    name = rules.display_label()
    item = _item_name(media, index)
    alt_text = media.alt_text.strip()
    if not alt_text:
        out.error("alt_text_missing", gettext("%(item)s has no alt text.") % {"item": item}, index)
    elif rules.alt_text_limit is not None and len(alt_text) > rules.alt_text_limit:
        out.error(
            "alt_text_too_long",
            gettext("%(item)s: the alt text is %(count)s characters; %(platform)s allows %(limit)s.")
            % {"item": item, "count": len(alt_text), "platform": name, "limit": rules.alt_text_limit},
            index,
        )
    if media.kind != "photo" or "photo" not in rules.media_kinds:
        return

    if rules.max_image_bytes is not None and media.byte_size > rules.max_image_bytes:
        out.error(
            "image_too_large",
            gettext("%(item)s is %(size)s MB; %(platform)s allows %(limit)s MB.")
            % {
                "item": item,
                "size": _megabytes(media.byte_size),
                "platform": name,
                "limit": _megabytes(rules.max_image_bytes),
            },
            index,
        )
    pixels = media.width * media.height
    if rules.max_image_pixels is not None and pixels > rules.max_image_pixels:
        out.error(
            "image_too_many_pixels",
            gettext("%(item)s has %(count)s pixels; %(platform)s allows %(limit)s.")
            % {"item": item, "count": pixels, "platform": name, "limit": rules.max_image_pixels},
            index,
        )
    image_format = media.format.lower().replace("jpg", "jpeg")
    if rules.image_formats is not None and image_format not in rules.image_formats:
        out.warning(
            "image_converted",
            gettext("%(item)s is %(format)s; it will be converted to JPEG for %(platform)s.")
            % {"item": item, "format": image_format.upper(), "platform": name},
            index,
        )

    if media.width <= 0 or media.height <= 0:
        return  # dimensions not known yet (upload still being processed)
    ratio = Fraction(media.width, media.height)
    params = {"item": item, "ratio": _ratio_text(ratio), "platform": name}
    if rules.min_aspect is not None and rules.max_aspect is not None:
        if not rules.min_aspect <= ratio <= rules.max_aspect:
            out.error(
                "aspect_ratio_not_accepted",
                gettext("%(item)s has an aspect ratio of %(ratio)s; %(platform)s accepts %(min)s to %(max)s.")
                % {**params, "min": _ratio_text(rules.min_aspect), "max": _ratio_text(rules.max_aspect)},
                index,
            )
    elif (
        rules.crop_below is not None
        and rules.crop_above is not None
        and not rules.crop_below <= ratio <= rules.crop_above
    ):
        out.warning(
            "aspect_ratio_cropped",
            gettext("%(item)s has an aspect ratio of %(ratio)s; %(platform)s will crop it in the feed.") % params,
            index,
        )


def findings_for_target(
    *,
    platform: str,
    body: str,
    link: str = "",
    hashtags: Sequence[str] = (),
    media: Sequence[MediaInfo] = (),
    title: str = "",
) -> list[Finding]:
    """Return every rule the post breaks or strains on one account of this platform.

    `body` is the text for this account (its override, else the post's); `title` is the video
    title where the platform has one (YouTube). Order: text, hashtags, link, media, per item.
    """
    rules = rules_for(platform)
    tags = normalise_hashtags(hashtags)
    text = compose_text(body=body, link=link, hashtags=tags, platform=platform)
    out = _Collector(platform)
    if not text and not media:
        out.error("post_empty", gettext("There is nothing to publish: no text and no media."))
    _check_text(out, rules, text=text, title=title, tags=tags, link=link)
    _check_media_set(out, rules, media)
    for index, item in enumerate(media):
        _check_media_item(out, rules, item, index)
    return out.findings


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == Severity.ERROR for finding in findings)


def _ratio_json(ratio: Fraction | None) -> float | None:
    return None if ratio is None else round(float(ratio), 4)


def rules_as_json() -> dict[str, object]:
    """Return every platform's rules as JSON-ready data for the editor's live counters."""
    return {
        "x_counting": {
            "url_length": X_URL_LENGTH,
            "light_ranges": [list(pair) for pair in _X_LIGHT_RANGES],
            "light_weight": 1,
            "default_weight": 2,
        },
        "platforms": {
            name: {
                "label": rules.display_label(),
                "text_limit": rules.text_limit,
                "counting": str(rules.counting),
                "links_clickable": rules.links_clickable,
                "title_limit": rules.title_limit,
                "title_required": rules.title_required,
                "max_hashtags": rules.max_hashtags,
                "recommended_max_hashtags": rules.recommended_max_hashtags,
                "min_media": rules.min_media,
                "max_media": rules.max_media,
                "max_videos": rules.max_videos,
                "mixed_media": rules.mixed_media,
                "media_kinds": sorted(rules.media_kinds),
                "requires_video": rules.requires_video,
                "max_image_bytes": rules.max_image_bytes,
                "max_image_pixels": rules.max_image_pixels,
                "image_formats": None if rules.image_formats is None else sorted(rules.image_formats),
                "min_aspect": _ratio_json(rules.min_aspect),
                "max_aspect": _ratio_json(rules.max_aspect),
                "crop_below": _ratio_json(rules.crop_below),
                "crop_above": _ratio_json(rules.crop_above),
                "alt_text_limit": rules.alt_text_limit,
            }
            for name, rules in RULES.items()
        },
    }
