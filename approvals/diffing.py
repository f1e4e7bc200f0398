"""Word-level differences between two revision snapshots, for the review page.

Plain values in, plain values out: no ORM, no HTML. Texts are split into words, whitespace runs and
single signs (an emoji with its modifiers and joiners stays one sign); scripts written without
spaces (Chinese, Japanese) are compared character by character, as a word there is a character.
A change is always shown whole; only long unchanged stretches between changes are shortened.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

SAME, ADD, DEL, GAP = "same", "add", "del", "gap"

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_MODIFIERS = "\u0300-\u036f\u20d0-\u20ff\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
TOKEN = re.compile(
    rf"\s+"
    rf"|[{_CJK}]"
    rf"|[\U0001f1e6-\U0001f1ff]{{2}}"  # a flag: two regional indicators
    rf"|(?:(?![{_CJK}])\w|[{_MODIFIERS}])+"
    rf"|.[{_MODIFIERS}]*(?:\u200d.[{_MODIFIERS}]*)*",
    re.S,
)
# Unchanged text longer than this between changes is shortened to CONTEXT characters on each side.
LONG_SAME = 240
CONTEXT = 80


@dataclass(frozen=True)
class Segment:
    kind: str  # SAME, ADD, DEL, or GAP (unchanged text left out; ``text`` is empty)
    text: str

    @property
    def blank_marks(self) -> str:
        """Return visible signs for a change of whitespace alone (otherwise nothing would show): ⏎ and ␣."""
        if self.kind == SAME or not self.text or self.text.strip():
            return ""
        return "".join("⏎" if char == "\n" else "␣" for char in self.text if char != "\r")


@dataclass(frozen=True)
class FieldDiff:
    """One changed part of a post: a field, a target's own text, a media item."""

    key: str  # stable, for tests and anchors: "body", "target:3", "media:<checksum>", ...
    label: str
    change: str  # "changed", "added" or "removed"
    segments: list[Segment]


def tokens(text: str) -> list[str]:
    """Return ``text`` as words, whitespace runs and single signs; joined, they give ``text`` back."""
    return TOKEN.findall(text)


def _shorten(parts: list[str], *, first: bool, last: bool) -> list[Segment]:
    text = "".join(parts)
    if len(text) <= LONG_SAME:
        return [Segment(SAME, text)]
    head: list[str] = []
    if not first:
        while parts and len("".join(head)) < CONTEXT:
            head.append(parts.pop(0))
    tail: list[str] = []
    if not last:
        while parts and len("".join(tail)) < CONTEXT:
            tail.insert(0, parts.pop())
    out = [Segment(SAME, "".join(head))] if head else []
    if parts:
        out.append(Segment(GAP, ""))
    if tail:
        out.append(Segment(SAME, "".join(tail)))
    return out


# Below this share of matching signs, a text counts as rewritten: shown as removed whole, then added whole.
REWRITTEN = 0.35


def _weak(text: str) -> bool:
    # A space or a lone sign between two changes only chops them up: it joins them instead.
    return len(text) <= 3 and not any(char.isalnum() for char in text)


def text_segments(old: str, new: str) -> list[Segment]:
    """Return the word-level difference from ``old`` to ``new``; every added or removed word is included."""
    a, b = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < REWRITTEN:
        return [Segment(DEL, old), Segment(ADD, new)]
    # (old text, new text, unchanged?) per stretch; weak unchanged stretches between changes join them.
    runs: list[tuple[list[str], list[str], bool]] = []
    opcodes = matcher.get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        same = op == "equal"
        inner = 0 < index < len(opcodes) - 1
        if same and inner and _weak("".join(a[i1:i2])):
            same = False
        if runs and not same and not runs[-1][2]:
            runs[-1][0].extend(a[i1:i2])
            runs[-1][1].extend(b[j1:j2])
        else:
            runs.append((list(a[i1:i2]), list(b[j1:j2]), same))
    out: list[Segment] = []
    for index, (removed, added, same) in enumerate(runs):
        if same:
            out.extend(_shorten(removed, first=index == 0, last=index == len(runs) - 1))
            continue
        if removed:
            out.append(Segment(DEL, "".join(removed)))
        if added:
            out.append(Segment(ADD, "".join(added)))
    return out


def _field(key: str, label: str, old: str, new: str) -> FieldDiff | None:
    if old == new:
        return None
    if not old:
        return FieldDiff(key, label, "added", [Segment(ADD, new)])
    if not new:
        return FieldDiff(key, label, "removed", [Segment(DEL, old)])
    return FieldDiff(key, label, "changed", text_segments(old, new))


def _target_name(target: dict[str, Any]) -> str:
    return f"{target.get('platform', '')} @{target.get('handle', '')}"


def _media_line(item: dict[str, Any]) -> str:
    checksum = str(item.get("checksum") or "")
    return _("%(kind)s sha256:%(checksum)s…, alt text: %(alt)s") % {
        "kind": item.get("kind", ""),
        "checksum": checksum[:12],
        "alt": item.get("alt_text") or "—",
    }


def snapshot_diff(old: dict[str, Any], new: dict[str, Any], *, labels: dict[str, str] | None = None) -> list[FieldDiff]:
    """Return what changed from snapshot ``old`` to ``new``, field by field, in the order a post is read.

    ``labels`` names values shown as words (content type, purpose) instead of their codes.
    """
    labels = labels or {}

    def shown(value: object) -> str:
        return labels.get(str(value), str(value or ""))

    out: list[FieldDiff | None] = [
        _field("title", _("Internal title"), old.get("title") or "", new.get("title") or ""),
        _field("body", _("Text"), old.get("body") or "", new.get("body") or ""),
        _field("link", _("Link"), old.get("link") or "", new.get("link") or ""),
        _field(
            "hashtags",
            _("Hashtags"),
            " ".join(f"#{tag}" for tag in old.get("hashtags") or []),
            " ".join(f"#{tag}" for tag in new.get("hashtags") or []),
        ),
        _field("content_type", _("Content type"), shown(old.get("content_type")), shown(new.get("content_type"))),
        _field("language", _("Language"), old.get("language") or "", new.get("language") or ""),
        _field("sources", _("Sources"), old.get("sources") or "", new.get("sources") or ""),
    ]
    old_targets = {t.get("account_id"): t for t in old.get("targets") or []}
    new_targets = {t.get("account_id"): t for t in new.get("targets") or []}
    for account_id, target in new_targets.items():
        before = old_targets.get(account_id)
        if before is None:
            out.append(
                FieldDiff(f"target:{account_id}", _("Target account"), "added", [Segment(ADD, _target_name(target))])
            )
        out.append(
            _field(
                f"override:{account_id}",
                _("Own text for %(account)s") % {"account": _target_name(target)},
                (before or {}).get("body_override") or "",
                target.get("body_override") or "",
            )
        )
    for account_id, target in old_targets.items():
        if account_id not in new_targets:
            out.append(
                FieldDiff(f"target:{account_id}", _("Target account"), "removed", [Segment(DEL, _target_name(target))])
            )
    out.extend(_media_diff(old.get("media") or [], new.get("media") or []))
    if "purpose" in old or "purpose" in new:
        out.append(_field("purpose", _("Campaign purpose"), shown(old.get("purpose")), shown(new.get("purpose"))))
    return [item for item in out if item is not None]


def _media_diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[FieldDiff]:
    out = []
    old_by_sum = {item.get("checksum"): item for item in old}
    new_sums = [item.get("checksum") for item in new]
    for position, item in enumerate(new, start=1):
        label = _("Media %(n)s") % {"n": position}
        before = old_by_sum.get(item.get("checksum"))
        key = f"media:{item.get('checksum')}"
        if before is None:
            out.append(FieldDiff(key, label, "added", [Segment(ADD, _media_line(item))]))
            continue
        alt = _field(
            key,
            _("Alt text of media %(n)s") % {"n": position},
            before.get("alt_text") or "",
            item.get("alt_text") or "",
        )
        if alt is not None:
            out.append(alt)
    for item in old:
        if item.get("checksum") not in new_sums:
            key = f"media:{item.get('checksum')}"
            out.append(FieldDiff(key, _("Media removed"), "removed", [Segment(DEL, _media_line(item))]))
    kept_old = [item.get("checksum") for item in old if item.get("checksum") in new_sums]
    kept_new = [checksum for checksum in new_sums if checksum in old_by_sum]
    if kept_old != kept_new:
        out.append(
            FieldDiff("media_order", _("Media order"), "changed", [Segment(ADD, _("The media were reordered."))])
        )
    return out
