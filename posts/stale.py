"""Refuse a save made on an older version of a post, saying who changed what since (audit.versions)."""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.erasure import Opener
from audit.models import AuditEvent
from audit.versions import Change, changes_merge, version_check
from posts.models import ContentType, Post, PostStatus, Purpose, Revision

# The review decisions' audit actions (``review.<verdict>``), as the change list names them.
VERDICT_WORDS = {
    "approve": gettext_lazy("approved"),
    "request_changes": gettext_lazy("changes requested"),
    "reject": gettext_lazy("rejected"),
}

SHORT = 80


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def _around_difference(old: object, new: object) -> tuple[str, str]:
    """Return both texts cut to the stretch where they first differ, so a change late in a long text shows."""
    old_text, new_text = " ".join(str(old).split()), " ".join(str(new).split())
    same = 0
    for a, b in zip(old_text, new_text, strict=False):
        if a != b:
            break
        same += 1
    start = max(0, same - SHORT // 4)

    def cut(text: str) -> str:
        part = text[start : start + SHORT]
        return ("…" if start else "") + part + ("…" if len(text) > start + SHORT else "")

    return cut(old_text), cut(new_text)


def _moment(value: object) -> str:
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return _short(value)
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _targets(targets: list[dict[str, Any]]) -> str:
    """Return the accounts in one line, each with a text for it alone marked so ("instagram @klinikum (own text)")."""
    own = " (" + _("own text") + ")"
    return ", ".join(f"{t['platform']} {t['handle']}" + (own if t["body_override"] else "") for t in targets) or "—"


def _content_lines() -> list[tuple[str, str, Callable[[Any], str]]]:
    """Return each snapshot key with its label and how to write its value as text (shortened by the caller)."""
    return [
        ("title", _("Internal title"), str),
        ("body", _("Text"), str),
        ("link", _("Link"), str),
        ("hashtags", _("Hashtags"), lambda tags: " ".join(f"#{tag}" for tag in tags)),
        ("content_type", _("Content type"), lambda value: _label(ContentType, value)),
        ("language", _("Language"), str),
        ("sources", _("Sources"), str),
        ("targets", _("Targets"), _targets),
        ("media", _("Images"), lambda items: "; ".join(item["alt_text"] for item in items) or "—"),
        ("featured", _("Featured people"), lambda people: str(len(people))),
        ("purpose", _("Campaign purpose"), lambda value: _label(Purpose, value)),
    ]


def _content_changes(*, post: Post, since_number: int) -> list[Change]:
    """Return the lines in which the post's current content differs from its revision ``since_number``."""
    # By id, not through ``post.current_revision``: a row joined to a locked read may predate the lock.
    old = Revision.objects.filter(post=post, number=since_number).values_list("content", flat=True).first()
    current = (
        Revision.objects.filter(post=post, pk=post.current_revision_id or 0).values_list("number", "content").first()
    )
    if old is None or current is None:
        return [Change(_("Content"), "", _("a new revision"))]
    new = current[1]
    changes = []
    for key, label, show in _content_lines():
        # A key an older snapshot format did not hold (posts.content) is no change; what it was is
        # unknown (a title change then writes its own event, shown below).
        if old.get(key) == new.get(key) or key not in old:
            continue
        before_text, after_text = show(old.get(key, "")), show(new.get(key, ""))
        before, after = _short(before_text), _short(after_text)
        if before == after:  # two long texts that differ only past what a short line shows
            before, after = _around_difference(before_text, after_text)
        changes.append(Change(label, before, after))
    return changes


def post_changes(events: Sequence[AuditEvent], *, post: Post) -> list[Change]:
    """Return what ``events`` (on ``post``, oldest first) changed, one line per field."""
    lines: list[Change] = []
    revisions = [event.changes.get("revision") for event in events if event.action == "post.revision_created"]
    numbers = [number for number in revisions if isinstance(number, int)]
    for event in events:
        changes = event.changes
        if event.action == "post.revision_created" and numbers:
            lines.extend(_content_changes(post=post, since_number=min(numbers) - 1))
            numbers = []
        elif event.action == "post.title_changed":  # only while the revision did not hold the title
            title = Opener().open(changes.get("title", ["", ""]))
            old, new = title if isinstance(title, list) else (title, title)
            lines.append(Change(_("Internal title"), _short(old), _short(new)))
        elif event.action == "post.moved":
            old, new = changes.get("scheduled_at", [None, None])
            lines.append(Change(_("Time"), _moment(old), _moment(new)))
        elif event.action == "post.status_changed":
            old, new = changes.get("status", ["", ""])
            lines.append(Change(_("Status"), _label(PostStatus, old), _label(PostStatus, new)))
        elif event.action.startswith("review.") and "stage" in changes:
            action = event.action.removeprefix("review.")
            verdict = str(VERDICT_WORDS.get(action, action.replace("_", " ")))
            lines.append(Change(_("Review"), "", f"{changes['stage']}: {verdict}"))
        elif event.action == "review.post_chain_set":
            lines.append(Change(_("Review chain"), "", _short(changes.get("chain", ""))))
    return changes_merge(lines)


def post_version_check(*, post: Post, expected: int | None) -> None:
    """Raise `audit.versions.StaleVersion` if ``post`` (locked by the caller) changed since version ``expected``."""
    version_check(
        obj=post,
        expected=expected,
        message=_("This post was changed by %(name)s at %(time)s since you opened it."),
        describe=lambda events: post_changes(events, post=post),
    )
