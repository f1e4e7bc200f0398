"""The German catalogue is complete, compiled, and used by the pages."""

import ast
import gettext
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale" / "de" / "LC_MESSAGES"
PO = LOCALE_DIR / "django.po"
MO = LOCALE_DIR / "django.mo"


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)


def _unquote(text: str) -> str:
    """Decode one quoted PO string ("..." with C escapes)."""
    return ast.literal_eval(text.strip())


def parse_po(path: Path) -> list[Entry]:
    """A small reader for gettext PO files (no obsolete "#~" entries), with the standard library only."""
    entries: list[Entry] = []
    current: Entry | None = None
    flags: set[str] = set()
    target: tuple[str, int] | None = None  # which field a continuation line extends

    def start(lineno: int) -> Entry:
        nonlocal current, flags
        entry = Entry(line=lineno, flags=flags)
        flags = set()
        entries.append(entry)
        current = entry
        return entry

    def append(name: str, index: int, text: str) -> None:
        assert current is not None
        if name == "msgstr":
            current.msgstr[index] = current.msgstr.get(index, "") + text
        else:
            setattr(current, name, (getattr(current, name) or "") + text)

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            target = None
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}:{lineno}: a string continues nothing"
            append(target[0], target[1], _unquote(line))
            continue
        if keyword == "msgctxt":
            start(lineno).msgctxt = ""
            target = ("msgctxt", 0)
        elif keyword == "msgid":
            if current is None or current.msgctxt is None or current.msgid or current.msgstr:
                start(lineno)
            target = ("msgid", 0)
        elif keyword == "msgid_plural":
            target = ("msgid_plural", 0)
        elif keyword == "msgstr":
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            target = ("msgstr", int(keyword[len("msgstr[") : -1]))
        else:
            raise AssertionError(f"{path}:{lineno}: cannot read {raw!r}")
        append(target[0], target[1], _unquote(rest))
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO)


def test_the_catalogue_has_entries(entries: list[Entry]) -> None:
    header = [entry for entry in entries if entry.msgid == "" and entry.msgctxt is None]
    assert header, "the catalogue has no header"
    assert "Language: de" in header[0].msgstr[0]
    assert len(entries) > 100


def test_every_entry_is_translated_and_none_is_fuzzy(entries: list[Entry]) -> None:
    fuzzy = [f"line {entry.line}: {entry.msgid!r}" for entry in entries if "fuzzy" in entry.flags]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)
    untranslated = []
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            continue  # the header
        wanted = 2 if entry.msgid_plural is not None else 1
        if len(entry.msgstr) < wanted or not all(entry.msgstr.values()):
            untranslated.append(f"line {entry.line}: {entry.msgid!r}")
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_the_compiled_catalogue_exists() -> None:
    assert MO.is_file(), f"{MO} is missing: run `make messages` (or manage.py compilemessages)"


def test_the_compiled_catalogue_matches_the_po(entries: list[Entry]) -> None:
    """A .mo compiled before the last change to the .po would show stale or English text."""
    with MO.open("rb") as handle:
        catalog: dict[Any, str] = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if catalog.get(key) != entry.msgstr.get(0):
                stale.append(entry.msgid)
        elif any(catalog.get((key, n)) != text for n, text in entry.msgstr.items()):
            stale.append(entry.msgid)
    assert not stale, "recompile the catalogue; out of date for:\n" + "\n".join(map(repr, stale))


@pytest.fixture
def _restore_language() -> Iterator[None]:
    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate()


@pytest.mark.usefixtures("_restore_language")
@pytest.mark.parametrize("how", ["cookie", "accept-language"])
def test_the_login_page_is_german(client: Any, db: None, how: str) -> None:
    headers = {}
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    else:
        headers["HTTP_ACCEPT_LANGUAGE"] = "de"
    response = client.get("/accounts/login/", **headers)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Benutzername" in page
    assert "Anmelden" in page
    assert "Passwort" in page
    assert "Username" not in page


@pytest.mark.usefixtures("_restore_language")
def test_the_login_page_stays_english_by_default(client: Any, db: None) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "Username" in page
    assert "Benutzername" not in page
