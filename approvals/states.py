"""The life cycles of a review round and of its stages (SPEC section 4), as data: which status may follow which.

`approvals.services.round_transition` and `stage_transition` are the only writers of these
statuses; both refuse a move that is not listed here.
"""

from approvals.models import RoundStatus as R
from approvals.models import StageStatus as S
from approvals.models import Verdict as V
from posts.models import PostStatus as P

# A round runs over one frozen revision and ends once: approved, sent back, rejected, replaced by
# a round over newer content, or cancelled with its post (withdrawn, blocked).
ROUND_MOVES: dict[str, frozenset[str]] = {
    R.IN_PROGRESS: frozenset({R.APPROVED, R.CHANGES_REQUESTED, R.REJECTED, R.SUPERSEDED, R.CANCELLED}),
    R.APPROVED: frozenset(),
    R.CHANGES_REQUESTED: frozenset(),
    R.REJECTED: frozenset(),
    R.SUPERSEDED: frozenset(),
    R.CANCELLED: frozenset(),
}

# A stage waits for the stages before it, is decided once, or is closed undecided when its round ends.
STAGE_MOVES: dict[str, frozenset[str]] = {
    S.WAITING: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED, S.CLOSED}),
    S.APPROVED: frozenset(),
    S.CHANGES_REQUESTED: frozenset(),
    S.REJECTED: frozenset(),
    S.CLOSED: frozenset(),
}

# Statuses in which a stage still counts as undecided: ending its round closes it.
STAGE_OPEN = frozenset(status for status, moves in STAGE_MOVES.items() if S.CLOSED in moves)

# Round ends that close the round's undecided stages. An approved round keeps its stages after
# publication: they open at the approval and are decided while (or after) the post goes out.
ROUND_CLOSES_STAGES = frozenset({R.CHANGES_REQUESTED, R.REJECTED, R.SUPERSEDED, R.CANCELLED})

# What a verdict makes of the stage it is given on, before or after publication. A verdict is
# never itself a stage status ("reject" is not "rejected").
VERDICT_OUTCOME: dict[str, str] = {
    V.APPROVE: S.APPROVED,
    V.REQUEST_CHANGES: S.CHANGES_REQUESTED,
    V.REJECT: S.REJECTED,
}

# What a verdict that ends a round before publication makes of the round.
VERDICT_ROUND_END: dict[str, str] = {
    V.REQUEST_CHANGES: R.CHANGES_REQUESTED,
    V.REJECT: R.REJECTED,
}

# What such a verdict makes of a post still in review (`posts.services.post_transition` moves it).
VERDICT_POST_END: dict[str, str] = {
    V.REQUEST_CHANGES: P.CHANGES_REQUESTED,
    V.REJECT: P.REJECTED,
}


def round_may_move(current: str, new: str) -> bool:
    """Return whether a round in status ``current`` may move to ``new``."""
    return new in ROUND_MOVES.get(current, frozenset())


def stage_may_move(current: str, new: str) -> bool:
    """Return whether a stage in status ``current`` may move to ``new``."""
    return new in STAGE_MOVES.get(current, frozenset())
