"""The editor's live findings: every check and every platform's preview of the unsaved input, while typing."""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from people.http import AuthedHttpRequest
from posts.forms import draft_from_data, editor_accounts
from posts.linkcards import linkcard_request
from posts.livechecks import draft_post_findings, kept_images_located, oversized_fields
from posts.models import Campaign, Post
from posts.policy import EDIT, PostPolicy
from posts.previews import card_links, target_previews
from posts.selectors import post_for_editor

# The editor asks at most every 0.4 s while someone types; far more than that is no person typing.
RATE_LIMIT = 120
RATE_WINDOW = 60  # seconds


def _over_rate(user_id: int) -> bool:
    """Count this request against the user's window; True once the window's allowance is spent."""
    key = f"posts.findings.rate.{user_id}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        return cache.incr(key) > RATE_LIMIT
    except ValueError:  # the window ended between add and incr
        return False


@require_POST
@login_required
def findings_view(request: AuthedHttpRequest) -> HttpResponse:
    """Return the findings and previews fragment for the editor's unsaved input; writes no post.

    A link's card is queued for fetching in the background (never fetched here).

    Only someone who may edit the post (or add posts to the chosen campaign) is answered: the
    fragment shows the consent state of the people named.
    """
    policy = PostPolicy(request.user)
    if not policy.is_editor:
        raise PermissionDenied
    data = request.POST
    post: Post | None = None
    campaign: Campaign | None = None
    post_id = data.get("post", "")
    if post_id:
        try:
            post = post_for_editor(user=request.user, pk=int(post_id))
        except (ValueError, Post.DoesNotExist) as exc:
            raise Http404 from exc
        if EDIT not in policy.actions(post):
            raise PermissionDenied
        campaign = post.campaign
    else:
        campaign_id = data.get("campaign", "")
        if campaign_id:
            if not campaign_id.isdigit() or int(campaign_id) not in policy.editable_campaign_ids:
                raise PermissionDenied
            campaign = Campaign.objects.get(pk=int(campaign_id))
        elif not policy.editable_campaign_ids:
            raise PermissionDenied
    if _over_rate(request.user.pk):
        return HttpResponse(status=429, headers={"Retry-After": str(RATE_WINDOW)})
    accounts = list(editor_accounts(post))
    if oversized_fields(data, override_names=[f"override_{account.pk}" for account in accounts]):
        # The form says which field is too long on save; here the last findings simply stay.
        return HttpResponse(status=413)
    draft = draft_from_data(data, accounts=accounts, existing_media=list(post.media.all()) if post is not None else [])
    # A new link's card is only queued (rate-limited per user); a later refresh shows it.
    for url in card_links(draft):
        linkcard_request(url=url, user_id=request.user.pk)
    context = {
        "previews": target_previews(draft),
        "post_findings": draft_post_findings(
            data=data,
            draft=draft,
            post=post,
            campaign=campaign,
            new_images_located=kept_images_located(data, user_id=request.user.pk),
        ),
        "live": True,
    }
    return render(request, "posts/partials/editor_findings.html", context)
