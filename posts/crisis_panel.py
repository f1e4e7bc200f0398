"""The crisis block on the post detail page: the request, the declaration, and the buttons the user may press."""

from django.http import HttpRequest

from posts.models import ContentType, Post
from posts.panels import Panel
from posts.policy import PostPolicy, crisis_actions


def crisis_panel(request: HttpRequest, post: Post) -> Panel | None:
    """Return the crisis panel, or None when there is nothing to show or do."""
    actions = crisis_actions(request.user, post, post_actions=PostPolicy(request.user).actions(post))
    if not actions and post.crisis_requested_at is None and post.content_type != ContentType.CRISIS:
        return None
    return Panel(
        template_name="posts/partials/crisis_panel.html",
        order=5,
        context={"post": post, "actions": actions, "is_crisis": post.content_type == ContentType.CRISIS},
    )
