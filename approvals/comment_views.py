"""Review comments (POST only): start a thread on a passage, reply, resolve, reopen, mark blocking.

The forms live on the review page and beside the editor and work without JavaScript (the passage
is typed or pasted); each view parses the form, calls one service of `approvals.comments` and
goes back where the form came from, to the thread.
"""

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals.comments import (
    anchor_parse,
    comment_add,
    comment_blocking_set,
    comment_reopen,
    comment_reply,
    comment_resolve,
)
from approvals.models import ReviewComment
from core.web import safe_next, service_action
from people.http import AuthedHttpRequest
from posts.models import Post
from posts.selectors import post_for_editor


def _visible_post(request: HttpRequest, pk: int) -> Post:
    try:
        return post_for_editor(user=request.user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc


def _visible_comment(request: HttpRequest, pk: int) -> ReviewComment:
    try:
        comment = ReviewComment.objects.get(pk=pk)
    except ReviewComment.DoesNotExist as exc:
        raise Http404 from exc
    _visible_post(request, comment.post_id)
    return comment


def _back(request: HttpRequest, post_id: int, anchor: str = "comments") -> HttpResponseRedirect:
    page = safe_next(request, reverse("approvals:review", args=[post_id]))
    return HttpResponseRedirect(f"{page.split('#', 1)[0]}#{anchor}")


def _offset(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 9 else None


@require_POST
@login_required
def comment_add_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Comment on this passage: a new thread on the selected (or typed) passage, an image or an account's text."""
    post = _visible_post(request, pk)
    added: list[ReviewComment] = []
    with service_action(request, success=_("Your comment was added.")):
        anchor = replace(
            anchor_parse(request.POST.get("anchor", "body")),
            quote=request.POST.get("quote", ""),
            start=_offset(request.POST.get("start")),
        )
        added.append(
            comment_add(
                post=post,
                actor=request.user,
                anchor=anchor,
                text=request.POST.get("text", ""),
                blocking=request.POST.get("blocking") == "on",
            )
        )
    return _back(request, post.pk, f"comment-{added[0].pk}" if added else "comment-new")


@require_POST
@login_required
def comment_reply_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Reply to a thread."""
    comment = _visible_comment(request, pk)
    with service_action(request, success=_("Your reply was added.")):
        comment_reply(comment=comment, actor=request.user, text=request.POST.get("text", ""))
    return _back(request, comment.post_id, f"comment-{comment.pk}")


@require_POST
@login_required
def comment_resolve_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Resolve a thread."""
    comment = _visible_comment(request, pk)
    with service_action(request, success=_("The comment is resolved.")):
        comment_resolve(comment=comment, actor=request.user)
    return _back(request, comment.post_id, f"comment-{comment.pk}")


@require_POST
@login_required
def comment_reopen_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Reopen a resolved thread."""
    comment = _visible_comment(request, pk)
    with service_action(request, success=_("The comment is open again.")):
        comment_reopen(comment=comment, actor=request.user)
    return _back(request, comment.post_id, f"comment-{comment.pk}")


@require_POST
@login_required
def comment_blocking_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark a thread blocking, or not blocking."""
    comment = _visible_comment(request, pk)
    blocking = request.POST.get("blocking") == "on"
    done = _("The comment now blocks approval.") if blocking else _("The comment no longer blocks approval.")
    with service_action(request, success=done):
        comment_blocking_set(comment=comment, actor=request.user, blocking=blocking)
    return _back(request, comment.post_id, f"comment-{comment.pk}")
