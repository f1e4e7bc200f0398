"""``{% editor_panels post as panels %}``: the blocks apps above posts show beside the editor (posts.panels)."""

from typing import Any

from django import template

from posts.models import Post
from posts.panels import Panel, editor_panels_for

register = template.Library()


@register.simple_tag(takes_context=True)
def editor_panels(context: dict[str, Any], post: Post | None) -> list[Panel]:
    """Return the editor panels for a saved ``post`` (none for a new one, or without a request)."""
    request = context.get("request")
    if post is None or post.pk is None or request is None:
        return []
    return editor_panels_for(request=request, post=post)
