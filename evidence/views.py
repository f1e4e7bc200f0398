"""The evidence pack's download and the block on the post page that offers it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.web import forbidden
from evidence.packs import pack_build
from evidence.policy import DOWNLOAD_PACK, EvidencePolicy
from people.http import AuthedHttpRequest
from people.twofactor import sensitive_view
from posts.models import Post
from posts.panels import Panel
from posts.selectors import posts_for_user


@require_GET
@login_required
@sensitive_view
def pack_download_view(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    """Download the post's signed evidence pack (audited): 404 to who cannot see the post, 403 to who only sees it."""
    try:
        post = posts_for_user(user=request.user).select_related("campaign").get(pk=pk)
    except Post.DoesNotExist as error:
        raise Http404 from error
    if DOWNLOAD_PACK not in EvidencePolicy(request.user).actions(post):
        return forbidden(request, _("You may see this post, but not take its evidence pack."))
    pack = pack_build(post=post, actor=request.user, via="web")
    response = HttpResponse(pack.data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def evidence_panel(request: HttpRequest, post: Post) -> Panel | None:
    """Return the "Evidence pack" block for those who may take the pack, else None."""
    if DOWNLOAD_PACK not in EvidencePolicy(request.user).actions(post):
        return None
    return Panel(template_name="evidence/partials/evidence_panel.html", order=90, context={"post": post})
