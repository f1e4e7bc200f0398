"""The review block on the post detail page (registered with posts.panels in ``AppConfig.ready``)."""

from django.http import HttpRequest

from approvals.expiry import expiry_context
from approvals.selectors import review_overview
from audit.versions import version_of
from posts.models import Post
from posts.panels import Panel


def review_panel(request: HttpRequest, post: Post) -> Panel:
    """Return the review panel: chain, stages, decisions, actions the policy allows, timeline."""
    # Read before the overview, so the decision form never claims a newer version than it shows.
    version = version_of(model=Post, pk=post.pk)
    overview = review_overview(user=request.user, post=post, with_timeline=True)
    return Panel(
        template_name="approvals/review_panel.html",
        order=10,
        context={
            "overview": overview,
            "post": post,
            "version": version,
            "next": request.get_full_path(),
            **expiry_context(post),
        },
    )
