"""Lock posts with what every post service reads of them: the current revision and the campaign."""

from collections.abc import Iterable

from core.locks import Related, row_lock, rows_lock
from posts.models import Post

# Read after the lock, never joined to it (core.locks says why).
POST_RELATED: Related = ("current_revision", "campaign")


def post_lock(pk: int, *, related: Related = POST_RELATED, no_key: bool = False) -> Post:
    """Lock one post; return it with its current revision and campaign as committed now."""
    return row_lock(Post, pk, related=related, no_key=no_key)


def posts_lock(pks: Iterable[int], *, related: Related = POST_RELATED, no_key: bool = False) -> list[Post]:
    """Lock the posts with these ids in id order (so two callers never deadlock); return them."""
    return rows_lock(Post.objects.filter(pk__in=list(pks)).order_by("pk"), related=related, no_key=no_key)
