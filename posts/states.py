"""The post life cycle of SPEC section 3, as data: which status may follow which."""

from posts.models import PostStatus as S

# A call already in flight when a post left the schedule (edited, unscheduled, withdrawn, blocked)
# may still come back confirmed: the post is then live, and says so (`publishing.services.post_settle`).
_WENT_OUT = frozenset({S.PUBLISHED, S.PARTIALLY_PUBLISHED})

# Review (approvals app) and publishing use the same table; nothing sets a status directly.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.IN_REVIEW, S.WITHDRAWN, S.BLOCKED}) | _WENT_OUT,
    S.IN_REVIEW: frozenset({S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED, S.DRAFT, S.WITHDRAWN, S.BLOCKED}) | _WENT_OUT,
    S.CHANGES_REQUESTED: frozenset({S.DRAFT, S.IN_REVIEW, S.WITHDRAWN, S.BLOCKED}) | _WENT_OUT,
    S.APPROVED: frozenset({S.SCHEDULED, S.DRAFT, S.IN_REVIEW, S.WITHDRAWN, S.BLOCKED}) | _WENT_OUT,
    S.SCHEDULED: frozenset(
        {S.APPROVED, S.DRAFT, S.IN_REVIEW, S.PUBLISHED, S.PARTIALLY_PUBLISHED, S.FAILED, S.BLOCKED, S.WITHDRAWN}
    ),
    S.BLOCKED: frozenset({S.DRAFT, S.IN_REVIEW, S.APPROVED, S.WITHDRAWN}) | _WENT_OUT,
    S.FAILED: frozenset({S.SCHEDULED, S.PUBLISHED, S.PARTIALLY_PUBLISHED, S.WITHDRAWN}),
    S.PARTIALLY_PUBLISHED: frozenset({S.PUBLISHED, S.FAILED}),
    S.WITHDRAWN: frozenset({S.DRAFT}) | _WENT_OUT,
    S.REJECTED: _WENT_OUT,
    S.PUBLISHED: frozenset(),
}

# States in which the content may still be edited (an edit after submission restarts review).
EDITABLE = frozenset({S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.BLOCKED})
# States in which a post may be moved to another time.
MOVABLE = EDITABLE | {S.WITHDRAWN, S.FAILED}
# Content edits in these states send the post back to draft: its approval no longer matches.
EDIT_RESETS = frozenset({S.APPROVED, S.SCHEDULED, S.BLOCKED})


def may_move(current: str, new: str) -> bool:
    return new in ALLOWED_MOVES.get(current, frozenset())
