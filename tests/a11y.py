"""What a page must be in every browser test that looks at it: accessible (axe-core), no wider than
the screen, and in the reader's language.

- ``axe_violations(page)`` runs the vendored axe-core (tests/vendor/axe-core, MPL-2.0) on the page
  as it is and returns one line per violation (rule, impact, the first elements it concerns). The
  script goes in through the browser's debugging protocol, so the strict Content-Security-Policy
  of the page does not stop it and the page's own scripts are untouched.
- ``overflow(page)`` names the elements whose right edge lies beyond the viewport when the page
  scrolls sideways (empty when it does not).
- ``untranslated(page, language)`` returns the visible texts (and accessible names, placeholders,
  titles) of the page that are the English source of a message the language's catalogue translates:
  a string that left the template or the code without passing through gettext for the reader.
"""

import functools
import gettext
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# The rules and standards axe checks: WCAG 2.1 A and AA, and axe's best practices that concern
# what a person meets on our pages (landmarks, headings, a page's one main region).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}

_RUN_AXE = """async (options) => {
  const result = await window.axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map(
      (n) => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(1, 2).join("")
    ),
    count: v.nodes.length,
  }));
}"""


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[str]:
    """Return one line per axe-core violation on ``page`` (empty when it has none)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found = page.evaluate(_RUN_AXE, AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}, {v['count']}×): {v['help']} — " + " | ".join(v["nodes"]) for v in found]


_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.scrollingElement.scrollWidth <= width + 1) return [];
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    // Inside a container that scrolls on its own (a wide table in its scroll box) is fine.
    let boxed = false;
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) { boxed = true; break; }
    }
    if (boxed) continue;
    // Name only where it starts: an element sticking out of a parent that itself fits the screen.
    const parent = element.parentElement;
    if (parent && parent !== document.body && parent.getBoundingClientRect().right > width + 1) continue;
    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
      + (element.classList.length ? "." + [...element.classList].join(".") : "");
    wide.push(name + " right=" + Math.round(box.right));
    if (wide.length >= 8) break;
  }
  return [`page is ${document.scrollingElement.scrollWidth}px wide on a ${width}px screen`, ...wide];
}"""


def overflow(page: Any) -> list[str]:
    """Return why ``page`` scrolls sideways (the page width and the widest elements), or []."""
    return list(page.evaluate(_OVERFLOW))


_TEXTS = """() => {
  const texts = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    const skipped = "script, style, template, [data-user-content], .user-content, pre, code, textarea";
    if (!parent || parent.closest(skipped)) continue;
    if (!parent.checkVisibility || !parent.checkVisibility()) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.add(text);
  }
  const named = "[aria-label], [placeholder], [title]";
  for (const element of document.body.querySelectorAll(named)) {
    if (element.closest("[data-user-content], .user-content")) continue;
    for (const attribute of ["aria-label", "placeholder", "title"]) {
      const value = (element.getAttribute(attribute) || "").replace(/\\s+/g, " ").trim();
      if (value) texts.add(value);
    }
  }
  return [...texts];
}"""

_PLACEHOLDER = re.compile(r"%\(\w+\)[sdfi]|%[sdfi]|\{\w*\}")


@functools.cache
def _catalogue(language: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...], frozenset[str]]:
    """Return the English sources the language translates differently (plain ones, and patterns for those
    with placeholders), and the translations themselves (German "Filter" translates "Filters")."""
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    plain: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    translations: set[str] = set()
    for key, value in catalogue._catalog.items():  # type: ignore[attr-defined]
        source = (key[0] if isinstance(key, tuple) else key).split("\x04", 1)[-1]
        if not source:
            continue
        text = re.sub(r"\s+", " ", source).strip()
        translated = re.sub(r"\s+", " ", str(value)).strip()
        translations.add(translated)
        # Only sources of real words: a few letters besides the placeholders, and translated differently.
        letters = re.sub(r"[^A-Za-z]", "", _PLACEHOLDER.sub("", text))
        if len(letters) < 4 or text == translated or "<" in text:
            continue
        if _PLACEHOLDER.search(text):
            parts = _PLACEHOLDER.split(text)
            patterns.append(re.compile(".+?".join(re.escape(part) for part in parts) + r"\Z"))
        else:
            plain.add(text)
    return frozenset(plain - translations), tuple(patterns), frozenset(translations)


def untranslated(page: Any, language: str, *, data: frozenset[str] = frozenset()) -> list[str]:
    """Return the texts of ``page`` that are English sources the ``language`` catalogue translates.

    ``data``: texts people typed (user names, campaign names, post titles), which may happen to be an
    English source ("consent" is a user name in the demo) and are shown as typed.
    """
    if language == "en":
        return []
    plain, patterns, translations = _catalogue(language)
    found = []
    for text in page.evaluate(_TEXTS):
        if text in data or text in translations:
            continue
        if text in plain or any(pattern.match(text) for pattern in patterns if len(text) < 300):
            found.append(text)
    return sorted(found)
