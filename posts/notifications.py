"""E-mails of posts: a post was blocked by a gate (the author and Communications can act)."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from people.models import User
from people.roles import COMMUNICATIONS_REVIEWER
from posts.models import Post


def post_blocked(*, post_id: int, reason: str) -> int:
    """Tell the author and the Communications reviewers that a post was blocked; returns mails sent."""
    post = Post.objects.select_related("campaign", "author").get(pk=post_id)
    people = (
        User.objects.filter(Q(pk=post.author_id) | Q(groups__name=COMMUNICATIONS_REVIEWER), is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    messages = []
    for user in people:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            context = {"post": post, "reason": reason, "user": user}
            subject = render_to_string("posts/email/post_blocked_subject.txt", context).strip()
            body = render_to_string("posts/email/post_blocked.txt", context)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return (get_connection().send_messages(messages) or 0) if messages else 0
