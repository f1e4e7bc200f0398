"""The text the recognisers read: invisible characters removed, full-width digits and letters made plain.

Offsets stay those of the text as written (Python ``str`` indices): `Clean.origin` maps each
index of the clean text back. A phone number with a zero-width space or a right-to-left mark
inside it is still one number; the span reported covers it as the editor typed it.
"""

import re
import unicodedata
from dataclasses import dataclass

# Zero-width and joiner characters, the soft hyphen, byte-order mark, bidirectional controls.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Spaces other than the plain one (no-break, narrow no-break, thin, ideographic, ...).
SPACES = frozenset("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000")
# Dashes and minus signs that people and phones put between digits.
DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


@dataclass(frozen=True)
class Clean:
    text: str
    origin: tuple[int, ...]  # origin[i]: index in the written text of clean text's character i
    length: int  # the written text's length

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the written text's span of the clean text's ``[start, end)``."""
        if start >= end:
            point = self.origin[start] if start < len(self.origin) else self.length
            return point, point
        return self.origin[start], self.origin[end - 1] + 1


def clean(text: str) -> Clean:
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in INVISIBLE:
            continue
        if char in SPACES:
            char = " "
        elif char in DASHES:
            char = "-"
        elif "\uff01" <= char <= "\uff5e":  # full-width ASCII: one character for one
            char = unicodedata.normalize("NFKC", char)
        chars.append(char)
        origin.append(index)
    return Clean(text="".join(chars), origin=tuple(origin), length=len(text))


URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'）)\]]+", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w&])#\w+")

_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_TURKISH = re.compile(r"[ğĞışŞİ]|\b(?:ve|bir|için|ile|bu|olarak|hastanemiz\w*)\b")
_GERMAN = re.compile(
    r"[äöüßÄÖÜ]|\b(?:und|der|die|das|dem|den|des|mit|nicht|wir|ist|auf|für|Sie|uns|hat|nach|ihre[rmn]?|seine[rmn]?|"
    r"wieder|ein|eine[rmn]?|zu|im|am|von|bei|wurde|sind|heute)\b"
)


def guess_language(text: str) -> str:
    """Return ``ja``, ``tr``, ``de`` or ``en``: the post's own language field wins where there is one."""
    if len(_KANA_KANJI.findall(text)) >= 3:
        return "ja"
    turkish = len(_TURKISH.findall(text))
    german = len(_GERMAN.findall(text))
    if turkish > german and turkish >= 2:
        return "tr"
    if german >= 2:
        return "de"
    return "en"
