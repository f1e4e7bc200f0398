"""An invisible marker of the idempotency key, appended to the text, so `lookup` can find a post again.

No platform takes an idempotency key, and `lookup` only knows the key. So the text carries a
short fingerprint of it, written in zero-width characters that every platform renders as
nothing: U+200B (zero width space) and then 14 base-3 digits drawn from U+200B, U+200C and
U+200D (4.8 million values: among the few dozen recent posts a lookup reads, a false match is
about one in 100,000). The leading U+200B ends a trailing hashtag before the marker (X counts
U+200C and U+200D as hashtag characters). X weighs each of these characters 1, so the marker
costs 15 of its 280.

Lookup reads the account's recent posts back and asks `carries`. That only works where the
platform keeps the characters as sent; docs/publishing.md says per platform how far that goes.
"""

import hashlib

from posts.platforms import rules_for, text_length
from publishing.connectors.base import PermanentError
from publishing.connectors.messages import TEXT_TOO_LONG_FOR_MARKER

_DIGITS = ("\u200b", "\u200c", "\u200d")
_LENGTH = 14
LEAD = "\u200b"


def marker_of(key: str) -> str:
    """Return the invisible marker of ``key`` (15 zero-width characters)."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    digits = []
    for _ in range(_LENGTH):
        number, digit = divmod(number, 3)
        digits.append(_DIGITS[digit])
    return LEAD + "".join(digits)


def text_marked(text: str, key: str, *, platform: str) -> str:
    """Return ``text`` with the marker of ``key`` appended; PermanentError if the platform has no room for it."""
    marked = text + marker_of(key)
    limit = rules_for(platform).text_limit
    if limit is not None and text_length(marked, platform) > limit:
        over = text_length(marked, platform) - limit
        raise PermanentError(TEXT_TOO_LONG_FOR_MARKER.english(count=len(marker_of(key)), over=over))
    return marked


def carries(text: object, key: str) -> bool:
    """Return whether a text read back from the platform carries the marker of ``key``."""
    return isinstance(text, str) and marker_of(key) in text
