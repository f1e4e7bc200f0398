"""The Publishing page, "Retry publishing", takedowns, and the publications panel on a post's page."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.selectors import state_cached
from core.confirm import confirmed, refuse_unconfirmed
from core.filters import valid_filters
from core.pagination import Page, page_of
from core.web import forbidden, safe_next, service_action
from people.http import AuthedHttpRequest
from people.models import User
from people.rights import request_state
from posts.models import Platform, Post, PostStatus
from posts.panels import Panel
from publishing.attention import posts_blocked_for, takedowns_open_of_post
from publishing.forms import PublishingFilterForm
from publishing.models import DeletionStatus, Publication, PublicationStatus, TakedownItem
from publishing.policy import RETRY, PublishingPolicy
from publishing.rows import publication_rows
from publishing.services import (
    publication_retry,
    publications_for_user,
    publications_live_edited,
    publications_needing_attention,
    publications_of_post,
)
from publishing.takedowns import takedown_confirm, takedown_delete

# Rows per page: the failed and waiting publications, and each smaller list below them.
PAGE_SIZE = 25
SECTION_PAGE_SIZE = 10
STATUS_LABELS = dict(PublicationStatus.choices)
PLATFORM_LABELS = dict(Platform.choices)
# How long a closed takedown stays on the page, with its proof.
TAKEN_DOWN_DAYS = 30


@login_required
def publishing_view(request: AuthedHttpRequest) -> HttpResponse:
    """List the failed, blocked, overdue and waiting publications the user may see and act on, a page at a time.

    Each list pages on its own (``?page=``, ``?blocked_page=``, ...) and keeps the filters: a state
    (the first list only), a campaign (every list) and an account (the lists of publications and takedowns).
    """
    policy = PublishingPolicy(request.user)
    if not policy.may_open_page:
        return forbidden(request, _("Only the campaign's editors, Communications and Governance see publishing."))
    form = PublishingFilterForm(
        request.GET or None, campaign_ids=policy.publication_campaign_ids | policy.takedown_campaign_ids
    )
    filters = valid_filters(form)
    by_campaign = {"post__campaign": filters["campaign"]} if "campaign" in filters else {}
    by_account = {"account": filters["account"]} if "account" in filters else {}
    by_state = {"status": filters["state"]} if "state" in filters else {}
    publications = publications_needing_attention(user=request.user, policy=policy).filter(
        **by_campaign, **by_account, **by_state
    )
    page = page_of(request, publications, per_page=PAGE_SIZE, count=False)
    blocked = posts_blocked_for(user=request.user, policy=policy)
    if "campaign" in filters:
        blocked = blocked.filter(campaign=filters["campaign"])
    live_edited = publications_live_edited(user=request.user, policy=policy).filter(**by_campaign, **by_account)
    # Finding them compares a month of confirmed publications with their posts' content (7 ms at
    # hospital scale) and almost always finds none; what they are changes only with a state change
    # (a publication confirmed, a post's status or revision, the user's rights: each audited).
    filter_key = ":".join(str(getattr(filters.get(key), "pk", filters.get(key, ""))) for key in ("campaign", "account"))
    live_edited_ids = state_cached(
        f"publishing-live-edited:{request.user.pk}:{filter_key}",
        lambda: list(live_edited.values_list("pk", flat=True)),
        version=request_state(request.user)[0],
    )
    live_edited = live_edited.filter(pk__in=live_edited_ids)
    takedowns = takedowns_open(user=request.user, policy=policy).filter(**by_campaign, **by_account)
    taken_down = takedowns_closed_recently(user=request.user, policy=policy).filter(**by_campaign, **by_account)

    def section(rows: "QuerySet[Any]", param: str) -> Page:
        return page_of(request, rows, per_page=SECTION_PAGE_SIZE, count=False, param=param)

    takedowns_page = section(takedowns, "takedowns_page")
    # Each row with its words looked up once here: get_FOO_display per row cost more than the row.
    rows = [
        (
            publication,
            RETRY in policy.actions(publication),
            STATUS_LABELS.get(publication.status, publication.status),
            PLATFORM_LABELS.get(publication.account.platform, publication.account.platform),
        )
        for publication in page
    ]
    context = {
        "form": form,
        "filtered": bool(filters),
        "page": page,
        "rows": rows,
        # "Retry publishing" comes back to this page of the list, its filters kept.
        "rows_html": publication_rows(rows, here=request.get_full_path(), csrf_token=get_token(request)),
        "blocked_page": section(blocked, "blocked_page"),
        "live_edited_page": section(live_edited, "edited_page"),
        "takedowns_page": takedowns_page,
        "takedowns": [(item, policy.actions(item)) for item in takedowns_page],
        "taken_down_page": section(taken_down, "taken_down_page"),
        "taken_down_days": TAKEN_DOWN_DAYS,
        "nav": "publishing",
    }
    return render(request, "publishing/publishing.html", context)


@require_POST
@login_required
def publication_retry_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """ "Retry publishing": put a failed or overdue publication back in line, due now."""
    try:
        publication = publications_for_user(user=request.user).get(pk=pk)
    except Publication.DoesNotExist as error:
        raise Http404 from error
    with service_action(request, success=_("Publishing will be tried again now.")):
        publication_retry(publication=publication, actor=request.user)
    return redirect(safe_next(request, reverse("publishing:publishing")))


def publications_panel(request: HttpRequest, post: Post) -> Panel | None:
    """Return the panel of each target's publication state, or None before the post was scheduled."""
    publications = list(publications_of_post(post=post))
    if not publications:
        return None
    policy = PublishingPolicy(request.user)
    for publication in publications:
        publication.post = post  # the policy reads the campaign; the detail page loaded it already
    rows = [(publication, RETRY in policy.actions(publication)) for publication in publications]
    # Live with other content than the post's own: it was edited while it went out.
    edited_live = post.status in {PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED} and any(
        publication.status == PublicationStatus.CONFIRMED and publication.content_hash != post.content_hash
        for publication in publications
    )
    return Panel(
        template_name="publishing/partials/publications.html",
        order=20,
        context={"rows": rows, "post": post, "next": request.get_full_path(), "edited_live": edited_live},
    )


def takedown_pending_panel(request: HttpRequest, post: Post) -> Panel | None:
    """Return a warning that the post must still come down from some accounts, or None (one query).

    "Published" is not the last word for a post whose consent ended or that review rejected after it went out.
    """
    takedowns = list(takedowns_open_of_post(post_id=post.pk))
    if not takedowns:
        return None
    return Panel(template_name="publishing/partials/_takedown_pending.html", order=1, context={"takedowns": takedowns})


def _takedowns_for(user: User | AnonymousUser, policy: PublishingPolicy | None) -> "QuerySet[TakedownItem]":
    policy = policy or PublishingPolicy(user)
    items = TakedownItem.objects.select_related("post", "account", "consent__subject").defer("account__credentials")
    return items.filter(post__campaign_id__in=policy.takedown_campaign_ids)


def takedowns_open(*, user: User | AnonymousUser, policy: PublishingPolicy | None = None) -> "QuerySet[TakedownItem]":
    """Return the takedowns nobody has confirmed yet, of the campaigns the user acts for."""
    return _takedowns_for(user, policy).filter(confirmed_at__isnull=True).order_by("created_at", "pk")


def takedowns_closed_recently(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None
) -> "QuerySet[TakedownItem]":
    """Return the takedowns closed in the last TAKEN_DOWN_DAYS days, newest first, with who closed them."""
    since = timezone.now() - dt.timedelta(days=TAKEN_DOWN_DAYS)
    return (
        _takedowns_for(user, policy)
        .filter(confirmed_at__gte=since)
        .select_related("confirmed_by", "deletion_by")
        .order_by("-confirmed_at", "-pk")
    )


def _takedown_act(
    request: HttpRequest, pk: int, act: Callable[[TakedownItem], tuple[int, str]], *, irreversible: str = ""
) -> HttpResponse:
    """Run ``act`` on a listed open takedown and say what came of it; back to the takedown list.

    An ``irreversible`` act (its button's words) runs only when the POST confirms it.
    """
    item = takedowns_open(user=request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    if irreversible and not confirmed(request):
        refuse_unconfirmed(request, act=irreversible)
        return redirect(reverse("publishing:publishing") + "#takedowns")
    with service_action(request, joined=True) as call:
        level, message = act(item)
    if call.ok:
        messages.add_message(request, level, message)
    return redirect(reverse("publishing:publishing") + "#takedowns")


@require_POST
@login_required
def takedown_confirm_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record that a publication listed for takedown is gone from its platform."""

    def confirm(item: TakedownItem) -> tuple[int, str]:
        takedown_confirm(item=item, actor=request.user)
        return messages.SUCCESS, _("Confirmed as taken down.")

    return _takedown_act(request, pk, confirm)


@require_POST
@login_required
def takedown_delete_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """ "Delete on platform": delete a listed takedown's post through its account's API, keeping the proof."""

    def delete(item: TakedownItem) -> tuple[int, str]:
        item = takedown_delete(item=item, actor=request.user)
        if item.deletion_status == DeletionStatus.DELETED:
            return messages.SUCCESS, _("Deleted on the platform; its answer is kept as proof.")
        return messages.WARNING, item.deletion_note

    return _takedown_act(request, pk, delete, irreversible=_("Delete on platform"))
