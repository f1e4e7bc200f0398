"""The medical reviewer's "Source checked" on one claim of the post under review (POST only)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals.claims import claim_check_record
from core.web import service_action
from people.http import AuthedHttpRequest
from posts.models import Claim, Post
from posts.selectors import post_for_editor


@require_POST
@login_required
def claim_check_view(request: AuthedHttpRequest, pk: int, claim_pk: int) -> HttpResponse:
    """Source checked: record the check for the post's current content, back to the review page."""
    try:
        post = post_for_editor(user=request.user, pk=pk)
        claim = post.claims.get(pk=claim_pk)
    except (Post.DoesNotExist, Claim.DoesNotExist) as exc:
        raise Http404 from exc
    with service_action(request, success=_("Source checked.")):
        claim_check_record(claim=claim, reviewer=request.user)
    return HttpResponseRedirect(reverse("approvals:review", args=[post.pk]) + "#claims")
