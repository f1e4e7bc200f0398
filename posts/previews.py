"""What each target account of a draft will show: a card shaped like the platform's, its count and findings.

The shapes (where a feed cuts the text, what it writes after the cut, how it crops an image) are
data in `SHAPES`, next to the publishing rules of `posts.platforms`, so the editor, the post page
and the review page draw the same card. The cut points are what the platforms' apps show today
(not documented limits): an approximation a reviewer can rely on for "what is seen before more".
"""

import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from math import log
from urllib.parse import urlsplit

from django.utils.translation import gettext, gettext_noop

from posts import linkcards, platforms
from posts.forms import Draft
from posts.models import Account, LinkCard, LinkCardStatus

SQUARE = Fraction(1, 1)
PORTRAIT = Fraction(4, 5)
WIDE = Fraction(16, 9)
TALL = Fraction(9, 16)
LINK_CARD = Fraction(191, 100)

# CSS classes of static/rounds/previews.css, one per crop (the CSP allows no inline style).
RATIO_CLASSES = {SQUARE: "1x1", PORTRAIT: "4x5", WIDE: "16x9", TALL: "9x16", LINK_CARD: "191x100"}


@dataclass(frozen=True)
class PreviewShape:
    """How one platform's feed shows a post: cut of the text, the words after it, image crops, link card."""

    platform: str
    cut_chars: int | None  # code points (after NFC) shown before "more"; None: the whole text
    cut_lines: int | None  # lines shown before "more"
    more: str  # gettext_noop; what the feed writes after the cut
    crops: tuple[Fraction, ...]  # the image is cropped to the nearest of these (the first if unknown)
    fit: str = "cover"  # "contain": letterboxed (TikTok photo mode)
    link_card: bool = False  # the link is shown as a card (title or domain, image)
    shows_title: bool = False  # a title line above the text (YouTube)
    layout: str = "feed"  # "feed": head, text, image; "photo_first": image, then text; "overlay": text on image


SHAPES: dict[str, PreviewShape] = {
    shape.platform: shape
    for shape in (
        # Feed: a square crop, 4:5 for portrait images; the caption's first ~125 characters, "… more".
        PreviewShape("instagram", 125, 2, gettext_noop("… more"), (SQUARE, PORTRAIT), layout="photo_first"),
        # Facebook cuts at about 480 characters or 5 lines: "… See more".
        PreviewShape("facebook", 480, 5, gettext_noop("… See more"), (LINK_CARD, SQUARE, PORTRAIT), link_card=True),
        # LinkedIn shows about 210 characters (3 lines) before "…see more".
        PreviewShape("linkedin", 210, 3, gettext_noop("…see more"), (LINK_CARD, SQUARE, PORTRAIT), link_card=True),
        # X never cuts: it refuses. Over 280 (counted the X way) the excess is marked; images show 16:9.
        PreviewShape("x", None, None, "", (WIDE,), link_card=True),
        # TikTok: a 9:16 frame, the caption over it, cut after about 2 lines.
        PreviewShape("tiktok", 100, 2, gettext_noop("more"), (TALL,), fit="contain", layout="overlay"),
        # YouTube: a 16:9 thumbnail, the title, then the description's start before "...more".
        PreviewShape("youtube", 150, 3, gettext_noop("...more"), (WIDE,), shows_title=True, layout="photo_first"),
        PreviewShape("webhook", None, None, "", (WIDE,)),
        PreviewShape("outbox", None, None, "", (WIDE,)),
    )
}


def shape_for(platform: str) -> PreviewShape:
    """Return the preview shape of a platform (a plain feed card for one without its own)."""
    return SHAPES.get(platform) or PreviewShape(platform, None, None, "", (WIDE,))


# Text ----------------------------------------------------------------------------------------


def _joins_previous(char: str) -> bool:
    """True if ``char`` belongs to the character before it (accents, emoji modifiers, ZWJ sequences)."""
    code_point = ord(char)
    return (
        unicodedata.combining(char) > 0
        or unicodedata.category(char) in ("Mn", "Me")
        or code_point in (0x200D, 0xFE0E, 0xFE0F, 0x20E3)
        or 0x1F3FB <= code_point <= 0x1F3FF
        or 0xE0020 <= code_point <= 0xE007F
    )


def _cluster_start(text: str, index: int) -> int:
    """Return ``index`` moved back to the start of the character cluster it falls in."""
    while 0 < index < len(text) and (_joins_previous(text[index]) or ord(text[index - 1]) == 0x200D):
        index -= 1
    # A flag is a pair of regional indicators: never keep one half.
    flags = 0
    while index - flags > 0 and 0x1F1E6 <= ord(text[index - flags - 1]) <= 0x1F1FF:
        flags += 1
    if flags % 2 and index < len(text) and 0x1F1E6 <= ord(text[index]) <= 0x1F1FF:
        index -= 1
    return index


# Where no space is found this close before the cut, the cut falls inside the word (as feeds do).
_WORD_BACKOFF = 20


@dataclass(frozen=True)
class Cut:
    """A text as a feed shows it: ``shown`` before "more", ``rest`` behind it ("" if nothing is hidden)."""

    shown: str
    rest: str

    @property
    def cut(self) -> bool:
        return bool(self.rest)


def cut_text(text: str, *, chars: int | None, lines: int | None) -> Cut:
    """Return where a feed cuts ``text``: after ``chars`` characters or ``lines`` lines, at a word if one is near.

    Characters are code points after NFC (a decomposed "ü" counts 1); a cut never splits an
    accent from its letter, an emoji sequence or a flag.
    """
    text = unicodedata.normalize("NFC", text.strip())
    end = len(text)
    if lines is not None:
        breaks = [index for index, char in enumerate(text) if char == "\n"]
        if len(breaks) >= lines:
            end = breaks[lines - 1]
    if chars is not None and end > chars:
        end = _cluster_start(text, chars)
        space = text.rfind(" ", max(0, end - _WORD_BACKOFF), end + 1)
        if space > 0:
            end = space
    if end >= len(text):
        return Cut(text, "")
    return Cut(text[:end].rstrip(), text[end:].lstrip())


@dataclass(frozen=True)
class Limited:
    """A text split at a platform's limit: ``within`` fits, ``over`` is the excess ("" if it fits)."""

    within: str
    over: str


def split_at_limit(text: str, platform: str) -> Limited:
    """Return ``text`` (NFC) split where the platform's count passes its limit, counted as the platform counts.

    On X a link counts 23 wherever it is cut, so the excess starts after the last character that fits.
    """
    text = unicodedata.normalize("NFC", text)
    limit = platforms.rules_for(platform).text_limit
    if limit is None or platforms.text_length(text, platform) <= limit:
        return Limited(text, "")
    # The count of a prefix never falls as the prefix grows: find the longest one that fits.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if platforms.text_length(text[:middle], platform) <= limit:
            low = middle
        else:
            high = middle - 1
    end = _cluster_start(text, low)
    # A link counts whole or not at all (on X, 23 from its first character after "://").
    for match in platforms._URL.finditer(text):
        if match.start() < end < match.end():
            end = match.start()
    return Limited(text[:end], text[end:])


# Images and links ----------------------------------------------------------------------------


def crop_for(shape: PreviewShape, width: int, height: int) -> Fraction:
    """Return the crop the platform's feed gives an image of these pixels: the nearest of its crops."""
    if width <= 0 or height <= 0:
        return shape.crops[0]
    ratio = Fraction(width, height)
    return min(shape.crops, key=lambda crop: abs(log(ratio / crop)))


def link_domain(link: str) -> str:
    """Return the host a link card names ("example.org", without "www.")."""
    host = urlsplit(link).hostname or ""
    return host.removeprefix("www.")


# Previews ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewImage:
    """One image of a card: its thumbnail (empty for an upload not sent yet), crop and the upload's place."""

    url: str
    alt: str
    ratio_class: str
    new_index: int | None  # n-th new upload of the form: the page shows the chosen file itself


@dataclass(frozen=True)
class TargetPreview:
    """One target account's text as it will go out, its length, findings and the pieces of its card."""

    account: Account
    override: str
    text: str
    length: int
    limit: int | None
    findings: list[platforms.Finding]
    thumbnail_url: str
    thumbnail_alt: str
    media_count: int
    link: str
    title: str = ""
    image: PreviewImage | None = None
    has_video: bool = False
    card: LinkCard | None = None  # the fetched card of ``link``, if one is stored

    @property
    def card_ok(self) -> bool:
        return self.card is not None and self.card.status == LinkCardStatus.OK

    @property
    def card_pending(self) -> bool:
        """True while the link's card is still to be fetched ("fetching…")."""
        return self.card is not None and self.card.status == LinkCardStatus.PENDING

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.length > self.limit

    @property
    def has_errors(self) -> bool:
        return platforms.has_errors(self.findings)

    @property
    def shape(self) -> PreviewShape:
        return shape_for(self.account.platform)

    @property
    def cut(self) -> Cut:
        shape = self.shape
        return cut_text(self.text, chars=shape.cut_chars, lines=shape.cut_lines)

    @property
    def limited(self) -> Limited:
        return split_at_limit(self.text, self.account.platform)

    @property
    def more(self) -> str:
        return gettext(self.shape.more) if self.shape.more else ""

    @property
    def ratio_class(self) -> str:
        """Return the CSS class suffix of the media frame: the image's crop, else the platform's first."""
        return self.image.ratio_class if self.image is not None else RATIO_CLASSES[self.shape.crops[0]]

    @property
    def link_domain(self) -> str:
        return link_domain(self.link)


def _first_image(draft: Draft, shape: PreviewShape) -> PreviewImage | None:
    if not draft.media:
        return None
    first = draft.media[0]
    info = first.info
    crop = crop_for(shape, info.width, info.height)
    # A first image without a thumbnail is the first upload not sent yet: the page shows the chosen file.
    new_index = None if first.thumbnail_url else 0
    return PreviewImage(first.thumbnail_url, info.alt_text, RATIO_CLASSES[crop], new_index)


def _card_link(draft: Draft, account: Account, override: str) -> str:
    """Return the URL the target's feed makes a link card of ("" where it makes none)."""
    if not shape_for(account.platform).link_card or not platforms.rules_for(account.platform).links_clickable:
        return ""
    return linkcards.card_link(link=draft.link, body=override or draft.body)


def card_links(draft: Draft) -> list[str]:
    """Return the distinct URLs the draft's targets show as link cards."""
    found = (_card_link(draft, account, override) for account, override in draft.targets)
    return list(dict.fromkeys(url for url in found if url))


def target_previews(draft: Draft) -> list[TargetPreview]:
    """Return, per target of the draft, the composed text, its count against the limit, findings and card."""
    media = [item.info for item in draft.media]
    first = draft.media[0] if draft.media else None
    cards = linkcards.cards_for(card_links(draft))
    previews = []
    for account, override in draft.targets:
        platform = account.platform
        body = override or draft.body
        text = platforms.compose_text(body=body, link=draft.link, hashtags=draft.hashtags, platform=platform)
        rules = platforms.rules_for(platform)
        shape = shape_for(platform)
        card_url = _card_link(draft, account, override)
        previews.append(
            TargetPreview(
                account=account,
                override=override,
                text=text,
                length=platforms.text_length(text, platform),
                limit=rules.text_limit,
                findings=platforms.findings_for_target(
                    platform=platform,
                    body=body,
                    link=draft.link,
                    hashtags=draft.hashtags,
                    media=media,
                    title=draft.title,
                ),
                thumbnail_url=first.thumbnail_url if first else "",
                thumbnail_alt=first.info.alt_text if first else "",
                media_count=len(draft.media),
                link=(draft.link if rules.links_clickable else "") or card_url,
                title=draft.title if shape.shows_title else "",
                image=_first_image(draft, shape),
                has_video=any(item.kind == "video" for item in media),
                card=cards.get(card_url),
            )
        )
    return previews
