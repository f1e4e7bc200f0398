"""Crisis handling of a post: an editor asks for it, Communications or Governance declare it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.confirm import confirmed, refuse_unconfirmed
from core.web import service_action
from people.http import AuthedHttpRequest
from posts.services import post_crisis_declare, post_crisis_request
from posts.views.editor import _visible_post


@require_POST
@login_required
def crisis_request_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Request crisis handling: Communications is told, with the editor's reason."""
    post = _visible_post(request, pk)
    with service_action(request, success=_("Crisis handling requested; Communications has been told.")):
        post_crisis_request(post=post, actor=request.user, reason=request.POST.get("reason", ""))
    return redirect("posts:post_detail", pk=post.pk)


@require_POST
@login_required
def crisis_declare_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Declare crisis: the post becomes a crisis post and goes through the expedited chain."""
    post = _visible_post(request, pk)
    if not confirmed(request):
        refuse_unconfirmed(request, act=_("Declare crisis"))
        return redirect("posts:post_detail", pk=post.pk)
    success = _("The post is declared a crisis; its review follows the expedited chain.")
    with service_action(request, success=success):
        post_crisis_declare(post=post, actor=request.user)
    return redirect("posts:post_detail", pk=post.pk)
