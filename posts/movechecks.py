"""Checks that apps above posts add to a move: each says why a new time needs the editor's confirmation.

`posts.services` asks `move_confirmations` before a post takes a new time; approvals registers
whether the move compresses the post's open review (`approvals.move_check`). Posts never imports
the apps that register here.
"""

import datetime as dt
from collections.abc import Callable

from posts.models import Post

# A check is given the post as it still is (its old time) and the new time; it answers the text
# the editor must confirm, or None when the move needs no confirmation.
MoveCheck = Callable[[Post, dt.datetime | None], str | None]

_CHECKS: dict[str, MoveCheck] = {}


def move_check_register(key: str, check: MoveCheck) -> None:
    """Add ``check`` under ``key`` (registering the same key again replaces it)."""
    _CHECKS[key] = check


def move_confirmations(*, post: Post, scheduled_at: dt.datetime | None) -> list[str]:
    """Return what the editor must confirm before ``post`` moves to ``scheduled_at`` (empty: nothing)."""
    return [text for check in _CHECKS.values() if (text := check(post, scheduled_at)) is not None]


# The code of the ValidationError a move that needs confirming raises: views turn it into a question
# (the calendar's 409 answer, the editor's checkbox under the time).
MOVE_CONFIRM = "move_confirm"
