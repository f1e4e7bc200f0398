"""Review pages: inbox, the author's posts, a post's review page, and the review actions (POST).

Views parse input, ask ``approvals.policy.ApprovalPolicy`` and call services; refusals and
service errors come back to the user as messages, never as a half-done change.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from approvals.claims import claims_review
from approvals.comment_selectors import review_comments
from approvals.forms import InboxFilterForm, MyPostsFilterForm
from approvals.models import ReviewChain, Verdict
from approvals.panels import decision_input_keep, decision_input_kept
from approvals.policy import APPROVE, CHANGE_CHAIN, SUBMIT, ApprovalPolicy
from approvals.recertifications import recertifications_due
from approvals.rows import inbox_rows, my_posts_rows
from approvals.selectors import (
    DeadlineWalk,
    inbox_items,
    inbox_runs,
    my_post_rows,
    open_stage_run,
    posts_of_author,
    review_diff,
    review_overview,
)
from approvals.services import REFUSALS, decision_record, decision_version_check, post_chain_set, round_submit
from approvals.signatures import confirmation_of, must_sign_in_again
from audit.versions import StaleVersion, version_of, version_parse
from consent.policy import VIEW_DOCUMENT, ConsentPolicy
from core.pagination import page_of
from core.web import safe_next, service_action
from people.http import AuthedHttpRequest
from people.twofactor import ensure_recently_authenticated, sensitive_view
from posts.forms import draft_from_post
from posts.gates import post_consent_problems
from posts.models import Post
from posts.previews import target_previews
from posts.selectors import campaigns_for_user, post_for_page
from posts.stale import post_version_check


def _visible_post(request: HttpRequest, pk: int) -> Post:
    try:
        # With its featured people and claims: the findings, the consent gate, the consent block and
        # the claims block each read them; once here.
        return post_for_page(user=request.user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc


def _back(request: HttpRequest, post: Post) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, reverse("posts:post_detail", args=[post.pk])))


# The rows of one page of the review lists: enough to work through, few enough to load fast.
LIST_PAGE_SIZE = 50


@require_GET
@login_required
def inbox_view(request: AuthedHttpRequest) -> HttpResponse:
    """My reviews: the posts waiting for the user's stage, oldest deadline first, a page at a time."""
    form = InboxFilterForm(request.GET, campaigns=campaigns_for_user(user=request.user).order_by("name"))
    if form.is_valid():
        runs = inbox_runs(
            user=request.user, campaign_id=form.cleaned_data["campaign"], overdue_only=form.cleaned_data["overdue"]
        )
    else:
        runs = inbox_runs(user=request.user).none()
    # Not counted: the navigation's count (cached) says how many wait; the page reads one row more.
    page = page_of(request, DeadlineWalk(runs, user=request.user), per_page=LIST_PAGE_SIZE, count=False)
    items = inbox_items(page.items, user=request.user)
    context = {
        "page": page,
        "items": items,
        "rows": inbox_rows(items),
        "filter_form": form,
        "recertifications": recertifications_due(user=request.user),
        "nav": "reviews",
    }
    return render(request, "approvals/inbox.html", context)


@require_GET
@login_required
def my_posts_view(request: AuthedHttpRequest) -> HttpResponse:
    """My posts: the user's own posts, filtered and a page at a time, with where each stands in review."""
    form = MyPostsFilterForm(request.GET, campaigns=campaigns_for_user(user=request.user).order_by("name"))
    posts = posts_of_author(user=request.user, filters=form.filters()) if form.is_valid() else Post.objects.none()
    # Not counted: an editor's posts grow with the years, and counting them would too.
    page = page_of(request, posts, per_page=LIST_PAGE_SIZE, count=False)
    rows = my_post_rows(page.items)
    context = {"page": page, "rows": rows, "rows_html": my_posts_rows(rows), "filter_form": form, "nav": "my_posts"}
    return render(request, "approvals/my_posts.html", context)


# How many of its newest history events and earlier rounds the review page shows unless asked for all.
HISTORY_SHOWN = 40
EARLIER_ROUNDS_SHOWN = 5


def _review_page(
    request: HttpRequest,
    post: Post,
    *,
    version: int,
    next_url: str,
    stale: StaleVersion | None = None,
    decision_input: dict[str, Any] | None = None,
) -> HttpResponse:
    # A post revised fifty times has hundreds of events: the page shows the latest, the rest on request.
    full_history = request.GET.get("history") == "all"
    overview = review_overview(
        user=request.user,
        post=post,
        with_timeline=True,
        timeline_latest=None if full_history else HISTORY_SHOWN,
        earlier_shown=None if full_history else EARLIER_ROUNDS_SHOWN,
    )
    featured = list(post.featured_people.all())  # loaded with their subjects and consents (_visible_post)
    # The deciding stage's reviewers read the signed forms the post relies on (docs/security.md).
    consents = ConsentPolicy(request.user)
    readable = {
        person.consent_id
        for person in featured
        if person.consent is not None and VIEW_DOCUMENT in consents.actions(person.consent)
    }
    context: dict[str, object] = {
        "post": post,
        "overview": overview,
        "diff": review_diff(user=request.user, post=post, overview=overview),
        "previews": target_previews(draft_from_post(post)),
        "featured": featured,
        "readable_consent_ids": readable,
        "consent_problems": post_consent_problems(post=post),
        "comments": review_comments(user=request.user, post=post, stage_run=overview.current_run),
        "claims": claims_review(
            user=request.user,
            post=post,
            open_runs=overview.open_runs,
            decided=(overview.current_run, overview.actions),
        ),
        "version": version,
        "stale": stale,
        "decision_input": decision_input or {},
        "next": next_url,
        "full_history_url": f"{request.path}?history=all#review-timeline-title",
        "nav": "reviews",
    }
    return render(request, "approvals/review.html", context, status=409 if stale else 200)


@require_GET
@login_required
def review_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """What a reviewer decides on: the post per platform, findings, diff, decisions, timeline."""
    # The version is read before the post, so the decision form never claims a newer one than it shows.
    version = version_of(model=Post, pk=pk)
    post = _visible_post(request, pk)
    kept = decision_input_kept(request, post)
    return _review_page(request, post, version=version, next_url=request.get_full_path(), decision_input=kept)


def _reasons(request: HttpRequest) -> dict[str, str]:
    """The reasons typed for acknowledged findings: the field ``reason:<key>`` per finding key."""
    reasons = {}
    for name in request.POST:
        value = request.POST.get(name, "")
        if name.startswith("reason:") and value.strip():
            reasons[name.removeprefix("reason:")] = value
    return reasons


def _decision_input(request: HttpRequest) -> dict[str, Any]:
    """The decision form as the reviewer sent it, to show it again filled in."""
    return {
        "verdict": request.POST.get("verdict", ""),
        "comment": request.POST.get("comment", ""),
        "acknowledged": request.POST.getlist("acknowledged"),
        "reasons": _reasons(request),
    }


def _stale_decision(request: HttpRequest, pk: int, stale: StaleVersion) -> HttpResponse:
    """Answer 409 with the review page as it is now, the change named and the reviewer's input kept."""
    post = _visible_post(request, pk)
    next_url = _back(request, post).url
    return _review_page(
        request, post, version=stale.version, next_url=next_url, stale=stale, decision_input=_decision_input(request)
    )


@require_POST
@login_required
def submit_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Submit for review: freeze the current revision and open a round."""
    post = _visible_post(request, pk)
    if SUBMIT not in ApprovalPolicy(request.user).actions(post):
        messages.error(request, _("You may not submit this post for review."))
        return _back(request, post)
    with service_action(request, success=_("Submitted for review.")):
        round_submit(post=post, actor=request.user, compressed_ok=request.POST.get("compressed_ok") == "1")
    return _back(request, post)


@require_POST
@login_required
def decide_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record Approve, Request changes or Reject on the post's open stage, signed by the reviewer.

    A decision on a post changed since the form was opened (a new revision, another
    reviewer's decision) is refused with 409 and the review page as it is now.
    """
    post = _visible_post(request, pk)
    expected = version_parse(request.POST.get("version"))
    try:
        run_pk = int(request.POST.get("stage_run", ""))
    except ValueError:
        run_pk = 0
    stage_run = open_stage_run(post=post, pk=run_pk)

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        return _stale_decision(request, pk, stale)

    with service_action(request, catch=(), conflict=(StaleVersion, answer_stale)) as looked:
        # Unlocked look first: a stage someone else closed meanwhile is a change to show, not a refusal.
        if stage_run is None:
            post_version_check(post=post, expected=expected)
        else:
            decision_version_check(post=post, stage_run=stage_run, expected=expected)
    if looked.response is not None:
        return looked.response
    if stage_run is None:
        messages.error(request, str(REFUSALS["not_current"]))
        return _back(request, post)
    policy = ApprovalPolicy(request.user)
    if APPROVE not in policy.actions(post, stage_run=stage_run):
        refusal = policy.decide_refusal(stage_run) or "not_current"
        messages.error(request, str(REFUSALS[refusal]))
        return _back(request, post)
    seen_hash = request.POST.get("content_hash", "")
    if seen_hash and seen_hash != post.content_hash:
        messages.error(request, str(REFUSALS["stale"]))
        return _back(request, post)
    # A decision is an electronic signature: it asks for the password (or a second factor) again
    # unless the reviewer signed in or confirmed a moment ago. allauth's middleware shows the
    # confirm-it's-you page and then sends this same POST again.
    if must_sign_in_again(request):
        minutes = max(1, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT // 60)
        messages.error(
            request,
            ngettext(
                "To sign a decision, sign out and sign in again, then decide within %(minutes)s minute.",
                "To sign a decision, sign out and sign in again, then decide within %(minutes)s minutes.",
                minutes,
            )
            % {"minutes": minutes},
        )
        return _review_page(
            request,
            post,
            version=version_of(model=Post, pk=pk) if expected is None else expected,
            next_url=_back(request, post).url,
            decision_input=_decision_input(request),
        )
    ensure_recently_authenticated(request)
    verdict = request.POST.get("verdict", "")
    with service_action(request, conflict=(StaleVersion, answer_stale)) as call:
        decision_record(
            stage_run=stage_run,
            reviewer=request.user,
            verdict=verdict,
            comment=request.POST.get("comment", ""),
            acknowledged=request.POST.getlist("acknowledged"),
            reasons=_reasons(request),
            expected_version=expected,
            confirmation=confirmation_of(request),
        )
    if call.response is not None:
        return call.response
    if isinstance(call.error, ValidationError):
        # Refused input (a reason missing, a finding not ticked): nothing was recorded, and the
        # review page the reviewer goes back to shows the form as they filled it in, once.
        decision_input_keep(request, post, _decision_input(request))
    if call.ok:
        done = {
            Verdict.APPROVE: _("You approved “%(stage)s”."),
            Verdict.REQUEST_CHANGES: _("You requested changes; the author has been told."),
            Verdict.REJECT: _("You rejected the post; the author has been told."),
        }[Verdict(verdict)]
        messages.success(request, done % {"stage": stage_run.stage.display_name})
    return _back(request, post)


@require_POST
@login_required
@sensitive_view
def chain_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Change chain: Governance gives one post a chain of its own before it is submitted."""
    post = _visible_post(request, pk)
    if CHANGE_CHAIN not in ApprovalPolicy(request.user).actions(post):
        messages.error(request, _("Only Governance may change a post's chain, before it is submitted."))
        return _back(request, post)
    try:
        chain = ReviewChain.objects.get(pk=int(request.POST.get("chain", "")), active=True)
    except (ValueError, ReviewChain.DoesNotExist):
        messages.error(request, _("Choose one of the active review chains."))
        return _back(request, post)
    success = _("This post now goes through “%(chain)s”.") % {"chain": chain.display_name}
    with service_action(request, success=success):
        post_chain_set(post=post, chain=chain, actor=request.user)
    return _back(request, post)
