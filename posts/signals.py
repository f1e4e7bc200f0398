from django.dispatch import Signal

# Sent inside the transaction that made a new revision of a post's content, with
# ``post``, ``revision``, ``actor`` and ``previous_status``. The review chain (approvals app)
# listens to restart review; posts itself never imports approvals.
post_content_changed = Signal()

# Sent inside the transaction that blocked a post (a gate failed), with ``post``, ``actor``
# and ``reason``. The review chain cancels the post's open round.
post_blocked = Signal()

# Sent inside the transaction that withdrew a post, with ``post``, ``actor`` and ``reason``.
# The review chain cancels the post's open round.
post_withdrawn = Signal()

# Sent inside the transaction that moved a post to a new status (``post_transition``), with
# ``post`` (locked), ``old_status`` and ``actor``. Publishing opens or cancels the post's
# publications so a scheduled post always has them.
post_status_changed = Signal()

# Sent inside the transaction that moved a scheduled post to a new time, with ``post`` (locked)
# and ``actor``. Publishing moves the waiting publications along.
post_retimed = Signal()

# Sent inside the transaction that ended a consent (``consent_cascade``), once per post already
# out that relies on it, with ``post`` (locked), ``record``, ``actor`` and ``reason``. Receivers
# return the ids of the takedown items they listed.
post_out_consent_ended = Signal()

# Sent inside the transaction of a review decision that rejected a post after publication
# (``post_retract``), once, with ``post`` (locked), ``stage`` (the stage's name), ``comment`` (the
# reviewer's), ``actor``, ``reason`` and ``cause`` (``review_rejected``, or ``recertification_withdrawn``
# when a reviewer withdrew it at re-certification). What had not gone out is already withdrawn;
# receivers list what is live for takedown and return the new items' ids.
post_retracted = Signal()
