"""The re-certification answer (POST): "Keep", "Revise" or "Withdraw" for a live post due again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from approvals.expiry import certification_of
from approvals.expiry_services import RECERTIFICATION_REFUSALS, recertification_record
from approvals.models import RecertificationOutcome
from approvals.policy import RecertificationPolicy
from core.confirm import confirmed, refuse_unconfirmed
from core.web import safe_next, service_action
from people.http import AuthedHttpRequest
from posts.models import Post
from posts.selectors import post_for_editor

DONE = {
    RecertificationOutcome.KEEP: _("You kept the post; its approval counts from now."),
    RecertificationOutcome.REVISE: _("You asked for a revised version; the author and Communications have been told."),
    RecertificationOutcome.WITHDRAW: _("You withdrew the post; what is live is listed for takedown."),
}


@require_POST
@login_required
def recertify_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record a re-certification answer with its reason, then go back to the inbox."""
    try:
        post = post_for_editor(user=request.user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc
    back = HttpResponseRedirect(safe_next(request, reverse("approvals:inbox")))
    policy = RecertificationPolicy(request.user)
    refusal = policy.refusal(post, certification=certification_of(post), now=timezone.now())
    if refusal:
        messages.error(request, str(RECERTIFICATION_REFUSALS[refusal]))
        return back
    outcome = request.POST.get("outcome", "")
    if outcome == RecertificationOutcome.WITHDRAW and not confirmed(request):
        refuse_unconfirmed(request, act=str(_("Withdraw")))
        return back
    success = str(DONE[RecertificationOutcome(outcome)]) if outcome in RecertificationOutcome.values else None
    with service_action(request, success=success):
        recertification_record(
            post_id=post.pk, reviewer=request.user, outcome=outcome, reason=request.POST.get("reason", "")
        )
    return back
