"""Campaign pages: the list, one campaign with its posts, and the create and edit forms."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.selectors import state_cached
from core.filters import valid_filters
from core.pagination import page_of
from core.web import forbidden, service_action
from people.http import AuthedHttpRequest
from people.rights import request_state
from posts.forms import CampaignForm, CampaignPostsFilterForm
from posts.models import Campaign, Post, PostStatus
from posts.policy import EDIT, SET_TEAM, CampaignPolicy, PostPolicy
from posts.selectors import campaigns_for_user
from posts.services import campaign_create, campaign_update


def _visible_campaign(request: HttpRequest, pk: int) -> Campaign:
    try:
        return (
            campaigns_for_user(user=request.user)
            .select_related("owner")
            .prefetch_related("team", "reviewers")
            .get(pk=pk)
        )
    except Campaign.DoesNotExist as exc:
        raise Http404 from exc


def _may_change(request: HttpRequest, campaign: Campaign) -> bool:
    return EDIT in CampaignPolicy(request.user).actions(campaign)


# Rows per page of the campaign list and of a campaign's posts.
CAMPAIGNS_PAGE_SIZE = 50
POSTS_PAGE_SIZE = 50


@login_required
def campaign_list_view(request: AuthedHttpRequest) -> HttpResponse:
    """List the campaigns the user may see, a page at a time, with their posts counted per status in one query."""
    page = page_of(request, campaigns_for_user(user=request.user).order_by("-start_date", "name", "pk"))
    shown = [campaign.pk for campaign in page]
    # Counting reads every post of the page's campaigns: done again only after a state change.
    counts = state_cached(
        f"campaign-counts:{','.join(map(str, shown))}",
        lambda: _status_counts(shown),
        version=request_state(request.user)[0],  # read with the navigation's: no query of its own
    )
    rows = [
        {
            "campaign": campaign,
            "total": sum(counts.get(campaign.pk, {}).values()),
            "counts": [
                (status, label, counts[campaign.pk][status])
                for status, label in PostStatus.choices
                if status in counts.get(campaign.pk, {})
            ],
        }
        for campaign in page
    ]
    context = {
        "rows": rows,
        "page": page,
        "may_create": CampaignPolicy(request.user).may_create,
        "nav": "campaigns",
    }
    return render(request, "posts/campaign_list.html", context)


def _status_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Return, per campaign, how many of its posts are in each status (one query)."""
    counted = (
        Post.objects.filter(campaign__in=campaign_ids)
        .values_list("campaign_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for campaign_id, status, n in counted:
        counts.setdefault(campaign_id, {})[status] = n
    return counts


@login_required
def campaign_detail_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show a campaign, its people and a page of its posts, filtered by state and month of their planned time."""
    campaign = _visible_campaign(request, pk)
    form = CampaignPostsFilterForm(request.GET or None)
    filters = valid_filters(form)
    posts = campaign.posts.only("pk", "campaign_id", "title", "body", "status", "scheduled_at", "time_zone")
    if "state" in filters:
        posts = posts.filter(status=filters["state"])
    if "month" in filters:
        first = filters["month"].replace(day=1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
        zone = timezone.get_current_timezone()
        posts = posts.filter(
            scheduled_at__gte=dt.datetime.combine(first, dt.time(), tzinfo=zone),
            scheduled_at__lt=dt.datetime.combine(after, dt.time(), tzinfo=zone),
        )
    page = page_of(request, posts.order_by(F("scheduled_at").asc(nulls_last=True), "pk"), per_page=POSTS_PAGE_SIZE)
    labels = dict(PostStatus.choices)
    context = {
        "campaign": campaign,
        "form": form,
        "filtered": bool(filters),
        "page": page,
        # Each row's state in words, looked up once here rather than per row in the template.
        "posts": [(post, labels.get(post.status, post.status)) for post in page],
        "may_add_post": PostPolicy(request.user).may_create_in(campaign),
        "may_change": _may_change(request, campaign),
        "nav": "campaigns",
    }
    return render(request, "posts/campaign_detail.html", context)


def _form_page(request: HttpRequest, form: CampaignForm, campaign: Campaign | None) -> HttpResponse:
    return render(request, "posts/campaign_form.html", {"form": form, "campaign": campaign, "nav": "campaigns"})


@login_required
def campaign_create_view(request: AuthedHttpRequest) -> HttpResponse:
    """Create a campaign owned by the user."""
    if not CampaignPolicy(request.user).may_create:
        return forbidden(request, _("You may not create campaigns."))
    if request.method != "POST":
        return _form_page(request, CampaignForm(), None)
    form = CampaignForm(request.POST)
    if form.is_valid():
        with service_action(request, success=_("The campaign was created."), form=form, denied=forbidden) as call:
            campaign = campaign_create(actor=request.user, **form.people(), **form.campaign_data())
        if call.response is not None:
            return call.response
        if call.ok:
            return redirect("posts:campaign_detail", pk=campaign.pk)
    return _form_page(request, form, None)


@login_required
def campaign_edit_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Change a campaign's fields and people."""
    campaign = _visible_campaign(request, pk)
    may = CampaignPolicy(request.user).actions(campaign)
    if EDIT not in may:
        return forbidden(request, _("You may not change this campaign."))
    may_set_team = SET_TEAM in may
    if request.method != "POST":
        return _form_page(request, CampaignForm(campaign=campaign, may_set_team=may_set_team), campaign)
    form = CampaignForm(request.POST, campaign=campaign, may_set_team=may_set_team)
    if form.is_valid():
        with service_action(request, success=_("The campaign was saved."), form=form, denied=forbidden) as call:
            campaign_update(campaign=campaign, actor=request.user, data=form.campaign_data(), **form.people())
        if call.response is not None:
            return call.response
        if call.ok:
            return redirect("posts:campaign_detail", pk=campaign.pk)
    return _form_page(request, form, campaign)
