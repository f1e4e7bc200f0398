"""The editor's claims: mark a passage as a claim, link or change its source, unmark it (POST only)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.web import service_action
from people.http import AuthedHttpRequest
from posts.claims import claim_add, claim_remove, claim_source_set
from posts.models import Claim, Post
from posts.selectors import post_for_editor


def _post(request: AuthedHttpRequest, pk: int) -> Post:
    try:
        return post_for_editor(user=request.user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc


def _claim(post: Post, claim_pk: int) -> Claim:
    try:
        return post.claims.get(pk=claim_pk)
    except Claim.DoesNotExist as exc:
        raise Http404 from exc


def _back(post: Post) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("posts:post_edit", args=[post.pk]) + "#claims")


def _field(request: AuthedHttpRequest, name: str) -> str:
    return request.POST.get(name, "")


@require_POST
@login_required
def claim_add_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark as claim: the passage (selected or typed), with its source if given."""
    post = _post(request, pk)
    with service_action(request, success=_("The claim was marked.")):
        claim_add(
            post=post,
            actor=request.user,
            passage=_field(request, "passage"),
            source_kind=_field(request, "source_kind"),
            source=_field(request, "source"),
            quote=_field(request, "quote"),
        )
    return _back(post)


@require_POST
@login_required
def claim_source_view(request: AuthedHttpRequest, pk: int, claim_pk: int) -> HttpResponse:
    """Link source: set or change the source of one claim and its quoted sentence."""
    post = _post(request, pk)
    claim = _claim(post, claim_pk)
    with service_action(request, success=_("The source was linked.")):
        claim_source_set(
            claim=claim,
            actor=request.user,
            source_kind=_field(request, "source_kind"),
            source=_field(request, "source"),
            quote=_field(request, "quote"),
        )
    return _back(post)


@require_POST
@login_required
def claim_remove_view(request: AuthedHttpRequest, pk: int, claim_pk: int) -> HttpResponse:
    """Remove claim: unmark the passage (the text stays as it is)."""
    post = _post(request, pk)
    claim = _claim(post, claim_pk)
    with service_action(request, success=_("The claim was removed.")):
        claim_remove(claim=claim, actor=request.user)
    return _back(post)
