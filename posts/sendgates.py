"""Gates that apps above posts add to the send gate: each says why a post may not go out at a moment.

Publishing asks `send_gate_problems` right before every connector call (and before a retry), next
to its own gates; approvals registers the approval's validity (`approvals.expiry`). Posts never
imports the apps that register here.
"""

import datetime as dt
from collections.abc import Callable, Sequence

from posts.models import Post

# A gate answers for a batch of posts at once (publishing checks a batch in a constant number of
# queries): the problems per post id, posts without problems left out.
SendGate = Callable[[Sequence[Post], dt.datetime], dict[int, list[str]]]

_GATES: dict[str, SendGate] = {}


def send_gate_register(key: str, gate: SendGate) -> None:
    """Add ``gate`` under ``key`` (registering the same key again replaces it)."""
    _GATES[key] = gate


def send_gate_problems(*, posts: Sequence[Post], at: dt.datetime) -> dict[int, list[str]]:
    """Return why each of ``posts`` may not go out at ``at`` by the registered gates, per post id (all ids present)."""
    problems: dict[int, list[str]] = {post.pk: [] for post in posts}
    for gate in _GATES.values():
        for post_id, found in gate(posts, at).items():
            problems[post_id].extend(found)
    return problems
