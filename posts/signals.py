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
