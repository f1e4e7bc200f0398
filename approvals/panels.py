"""The review block on the post detail page and the open comments beside the editor (posts.panels)."""

from typing import Any

from django.http import HttpRequest

from approvals.comment_selectors import review_comments
from approvals.expiry import expiry_context
from approvals.selectors import review_overview
from audit.versions import version_of
from posts.models import Post
from posts.panels import Panel

# A refused decision's input, kept in the session for the page the reviewer goes back to.
_KEPT_INPUT = "approvals:decision-input:{pk}"


def decision_input_keep(request: HttpRequest, post: Post, data: dict[str, Any]) -> None:
    """Keep a refused decision form's input (ticks, reasons, comment) for the next page that shows the form."""
    request.session[_KEPT_INPUT.format(pk=post.pk)] = data


def decision_input_kept(request: HttpRequest, post: Post) -> dict[str, Any] | None:
    """Return the input `decision_input_keep` kept for ``post``, once; None without one."""
    session = getattr(request, "session", None)  # a request built without the middleware has none
    kept: dict[str, Any] | None = session.pop(_KEPT_INPUT.format(pk=post.pk), None) if session is not None else None
    return kept


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
            "decision_input": decision_input_kept(request, post),
            **expiry_context(post, rounds=[view.round for view in overview.rounds]),
        },
    )


def editor_comments_panel(request: HttpRequest, post: Post) -> Panel | None:
    """Return the open review comments beside the editor, with their quotes (None when there are none)."""
    comments = review_comments(user=request.user, post=post, open_only=True)
    if not comments.visible or not comments.threads:
        return None
    return Panel(
        template_name="approvals/_editor_comments.html",
        order=10,
        context={"comments": comments, "post": post, "next": request.get_full_path()},
    )
