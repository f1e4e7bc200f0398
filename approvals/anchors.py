"""Where a quoted passage stands in a text: the anchors of review comments, on plain values only.

A comment keeps the passage it was written on as a quote with a little context either side and
its offsets, as the W3C Web Annotation TextQuoteSelector (with a TextPositionSelector as a hint)
does. In a later revision the passage is found again by its quote; where it occurs more than
once, the context decides, then the distance from where it was. Offsets count code points of the
text with its line ends made ``\\n`` (what a browser shows and selects), never UTF-16 units.
"""

from dataclasses import dataclass
from itertools import pairwise

# Characters of context kept either side of a quote: enough to tell repeated phrases apart.
CONTEXT = 32

KEPT = "kept"
MOVED = "moved"
CHANGED = "changed"


def text_normalise(text: str) -> str:
    """Return ``text`` with every line end as ``\\n``, as a browser shows (and selects) it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Anchor:
    """A quote found in a text: its offsets and the context the comment keeps."""

    start: int
    end: int
    quote: str
    prefix: str
    suffix: str


def _common_tail(left: str, right: str) -> int:
    count = 0
    for a, b in zip(reversed(left), reversed(right), strict=False):
        if a != b:
            break
        count += 1
    return count


def _common_head(left: str, right: str) -> int:
    count = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        count += 1
    return count


def _occurrences(text: str, quote: str) -> list[int]:
    found: list[int] = []
    position = text.find(quote)
    while position != -1:
        found.append(position)
        position = text.find(quote, position + 1)
    return found


def anchor_locate(text: str, *, quote: str, prefix: str = "", suffix: str = "", hint: int = 0) -> Anchor | None:
    """Return where ``quote`` stands in ``text`` (the occurrence whose context fits best), or None if nowhere.

    Both are normalised first (`text_normalise`). Among several occurrences, the one whose
    surroundings share the most characters with ``prefix`` and ``suffix`` wins; a tie goes to
    the one nearest ``hint`` (the offset it had), then the first.
    """
    text, quote = text_normalise(text), text_normalise(quote)
    prefix, suffix = text_normalise(prefix), text_normalise(suffix)
    if not quote.strip():
        return None
    positions = _occurrences(text, quote)
    if not positions:
        return None

    def fit(position: int) -> tuple[int, int]:
        before = text[max(0, position - len(prefix)) : position]
        after = text[position + len(quote) : position + len(quote) + len(suffix)]
        return (_common_tail(before, prefix) + _common_head(after, suffix), -abs(position - hint))

    start = max(positions, key=fit) if len(positions) > 1 else positions[0]
    end = start + len(quote)
    return Anchor(
        start=start,
        end=end,
        quote=quote,
        prefix=text[max(0, start - CONTEXT) : start],
        suffix=text[end : end + CONTEXT],
    )


@dataclass(frozen=True)
class Segment:
    """A run of text; ``marks`` are the ids of the comments whose passage covers it (empty: plain text)."""

    text: str
    marks: tuple[int, ...] = ()


def text_segments(text: str, ranges: list[tuple[int, int, int]]) -> list[Segment]:
    """Split ``text`` (normalised) into runs, each with the ids of the ranges ``(start, end, id)`` covering it.

    Overlapping passages split into runs covered by both, so every character appears once.
    """
    text = text_normalise(text)
    cuts = {0, len(text)}
    for start, end, _id in ranges:
        cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    points = sorted(cuts)
    segments: list[Segment] = []
    for left, right in pairwise(points):
        if left == right:
            continue
        marks = tuple(ident for start, end, ident in ranges if start <= left and right <= end)
        segments.append(Segment(text=text[left:right], marks=marks))
    return segments
