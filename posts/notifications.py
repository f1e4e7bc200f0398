"""E-mails of posts: a post was blocked by a gate (the author and Communications can act)."""

from django.db.models import Q, QuerySet
from django.urls import reverse

from core.mail import mail_once
from core.site import site_url
from people.models import User
from people.roles import COMMUNICATIONS_REVIEWER
from posts.models import Post


def author_and_communications(post: Post) -> QuerySet[User]:
    """Return the active people who can act on a post that went wrong: its author and Communications."""
    return (
        User.objects.filter(Q(pk=post.author_id) | Q(groups__name=COMMUNICATIONS_REVIEWER), is_active=True)
        .distinct()
        .order_by("pk")
    )


def post_blocked(*, post_id: int, reason: str, event: int = 0) -> int:
    """Tell the author and the Communications reviewers that a post was blocked, once per block; returns mails sent.

    ``event`` is the post's audit event of the block (`posts.services.post_blocked_mail_queue`).
    """
    # A task queued before blocks carried their event has 0 here: one mail per post for those.
    post = Post.objects.select_related("campaign", "author").get(pk=post_id)
    return mail_once(
        key=f"post_blocked:{post.pk}:{event}",
        recipients=author_and_communications(post),
        template="posts/email/post_blocked",
        context={"post": post, "reason": reason},
        url=reverse("posts:post_detail", args=[post.pk]),
    )


def crisis_requested(*, post_id: int) -> int:
    """Tell Communications that an editor asked for crisis handling of a post, once per request; returns mails sent."""
    post = Post.objects.select_related("campaign", "crisis_requested_by").get(pk=post_id)
    stamp = post.crisis_requested_at.isoformat() if post.crisis_requested_at else ""
    return mail_once(
        key=f"crisis_requested:{post.pk}:{stamp}",
        recipients=User.objects.filter(groups__name=COMMUNICATIONS_REVIEWER, is_active=True).distinct().order_by("pk"),
        template="posts/email/crisis_requested",
        context={"post": post, "path": site_url(reverse("posts:post_detail", args=[post.pk]))},
        url=reverse("posts:post_detail", args=[post.pk]),
    )
