"""Show English words that are stored as data in the reader's language, without changing the data.

Two kinds of stored words:

* **Default names** (review stages and chains, role groups, the consent's default recipients):
  rows seeded in English that people may rename. `display_name` translates a value only while it
  still equals a registered default, so a renamed stage shows as typed.
* **Stored messages** (a publication's last error, an attempt's error): written once in English by
  the worker and kept unchanged in the audit trail. A module declares each message as a
  `StoredMessage` (a ``gettext_noop`` template with ``%(name)s`` fields); the English text is
  stored, and `message_display` finds the template again in a stored text and translates it, with
  its fields put back.

Both registries are filled when the declaring modules are imported (apps' ``ready()``).
"""

import re
from collections.abc import Iterable
from functools import lru_cache

from django.utils.translation import get_language, gettext

_DEFAULT_NAMES: set[str] = set()
_FIELD = re.compile(r"%\((\w+)\)s")


def default_names_register(names: Iterable[str]) -> None:
    """Register English default names (each marked with ``gettext_noop``) for `display_name`."""
    _DEFAULT_NAMES.update(names)


def display_name(value: object) -> str:
    """Return ``value`` in the active language if it is a registered default name, else as stored."""
    text = str(value)
    return gettext(text) if text in _DEFAULT_NAMES else text


class StoredMessage:
    """A message stored in English and shown translated: declare at module level, ``.english(**fields)`` to store."""

    registry: list["StoredMessage"] = []

    def __init__(self, template: str) -> None:
        self.template = template
        pattern, position = [], 0
        for match in _FIELD.finditer(template):
            pattern.append(re.escape(template[position : match.start()]))
            pattern.append(f"(?P<{match.group(1)}>.*?)")
            position = match.end()
        pattern.append(re.escape(template[position:]))
        self._pattern = re.compile("".join(pattern), re.DOTALL)
        # A template that starts or ends with a field is only found as the whole text: inside a
        # longer text nothing tells where such a field begins or ends.
        self._whole_only = template.startswith("%(") or (position == len(template) and bool(self._pattern.groupindex))
        StoredMessage.registry.append(self)

    def english(self, **fields: object) -> str:
        """Return the text to store: the English template with ``fields`` filled in."""
        return self.template % fields if fields else self.template

    def shown(self, **fields: object) -> str:
        """Return the text in the active language with ``fields`` filled in."""
        translated = gettext(self.template)
        return translated % fields if fields else translated

    def matches(self, text: str) -> bool:
        """Return whether ``text`` is exactly this message."""
        return self._pattern.fullmatch(text) is not None

    def translate_in(self, text: str) -> str:
        """Return ``text`` with every occurrence of this message translated (unchanged if none)."""
        whole = self._pattern.fullmatch(text)
        if whole:
            return self._shown_from(whole)
        if self._whole_only:
            return text
        return self._pattern.sub(self._shown_from, text)

    def _shown_from(self, match: "re.Match[str]") -> str:
        # A field may hold another stored message ("Could not look the post up (HTTP 500: …)"):
        # it is translated too. Each field is shorter than the text, so this ends.
        return self.shown(**{name: message_display(value) for name, value in match.groupdict().items()})


def message_display(text: object) -> str:
    """Return a stored English message (or several, joined) in the active language; unknown text unchanged."""
    stored = str(text or "")
    if not stored:
        return stored
    # A list page shows the same few stored messages on many rows ("The platform answered 503."),
    # and each was matched against every message of the registry: kept per text and language.
    return _display(stored, get_language(), len(StoredMessage.registry))


@lru_cache(maxsize=1024)
def _display(stored: str, language: str | None, registered: int) -> str:
    """`message_display` of ``stored`` in ``language`` with the ``registered`` messages known then."""
    for message in StoredMessage.registry:
        if message.matches(stored):
            return message.translate_in(stored)
    # Several messages joined (a blocked publication's reasons): translate each one found.
    for message in StoredMessage.registry:
        stored = message.translate_in(stored)
    return stored
