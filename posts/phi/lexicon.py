"""The word lists the recognisers use, shipped as data (``posts/phi/data``): names and conditions per language."""

import functools
import re
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("de", "en", "tr", "ja")


def _words(name: str, *, lines: bool = False) -> list[str]:
    path = DATA / name
    if not path.exists():
        return []
    found: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found.extend([line] if lines else line.split())
    return found


@functools.cache
def given_names_latin() -> frozenset[str]:
    """Given names of every Latin-script language: a German post names Turkish patients too."""
    return frozenset(
        name.casefold().replace("i̇", "i") for lang in ("de", "en", "tr") for name in _words(f"given_names_{lang}.txt")
    )


def ascii_fold(text: str) -> str:
    """Lower case without accents, Turkish dotless and dotted i as i: how names are written in e-mail addresses."""
    text = text.replace("İ", "i").replace("ı", "i").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def ascii_given_names() -> frozenset[str]:
    return frozenset(ascii_fold(name) for lang in ("de", "en", "tr") for name in _words(f"given_names_{lang}.txt"))


@functools.cache
def japanese_surnames() -> frozenset[str]:
    return frozenset(_words("surnames_ja.txt"))


@functools.cache
def japanese_given_names() -> frozenset[str]:
    return frozenset(_words("given_names_ja.txt"))


@functools.cache
def public_figures() -> frozenset[str]:
    """Surnames and single names of people a post quotes or remembers, not treats (casefolded)."""
    return frozenset(word.casefold() for word in _words("public_figures.txt", lines=True))


@functools.cache
def conditions(language: str) -> tuple[str, ...]:
    """The language's diagnoses, conditions and procedures, longest first (the longest match wins)."""
    phrases = set(_words(f"conditions_{language}.txt", lines=True))
    if language != "en":
        # Latin abbreviations and international terms (COPD, COVID-19) are used in every language.
        phrases |= {phrase for phrase in _words("conditions_en.txt", lines=True) if phrase.isupper() or "-" in phrase}
    return tuple(sorted(phrases, key=len, reverse=True))


@functools.cache
def condition_pattern(language: str) -> re.Pattern[str]:
    phrases = conditions(language)
    body = "|".join(re.escape(phrase) for phrase in phrases)
    if language == "ja":
        # "がんばる" (to do one's best) is not "がん" (cancer).
        return re.compile(f"(?:{body})(?![ばびぶべぼ])")
    # German writes conditions into compounds (Hüftoperation, Bypass-Operation): a phrase may end a word.
    prefix = r"(?:(?<=[\w-])|(?<!\w))" if language == "de" else r"(?<!\w)"
    return re.compile(rf"{prefix}(?:{body})(?!\w)", re.IGNORECASE)
