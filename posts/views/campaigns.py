"""Campaign pages: the list, one campaign with its posts, and the create and edit forms."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.web import forbidden, service_action
from people.http import AuthedHttpRequest
from posts.forms import CampaignForm
from posts.models import Campaign, PostStatus
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


@login_required
def campaign_list_view(request: AuthedHttpRequest) -> HttpResponse:
    """List the campaigns the user may see, with their posts counted per status in one query."""
    counts = {f"count_{status}": Count("posts", filter=Q(posts__status=status)) for status in PostStatus.values}
    campaigns = campaigns_for_user(user=request.user).annotate(count_all=Count("posts"), **counts)
    rows = [
        {
            "campaign": campaign,
            "total": campaign.count_all,  # type: ignore[attr-defined]
            "counts": [
                (status, label, getattr(campaign, f"count_{status}"))
                for status, label in PostStatus.choices
                if getattr(campaign, f"count_{status}")
            ],
        }
        for campaign in campaigns.order_by("-start_date", "name")
    ]
    context = {"rows": rows, "may_create": CampaignPolicy(request.user).may_create, "nav": "campaigns"}
    return render(request, "posts/campaign_list.html", context)


@login_required
def campaign_detail_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show a campaign, its people and its posts."""
    campaign = _visible_campaign(request, pk)
    posts = campaign.posts.order_by(F("scheduled_at").asc(nulls_last=True), "pk")
    context = {
        "campaign": campaign,
        "posts": posts,
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
