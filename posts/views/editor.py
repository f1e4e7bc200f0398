"""The post editor, its live findings, the post detail page and the post's state buttons."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from audit.versions import StaleVersion, version_of, version_parse
from core.confirm import confirmed, refuse_unconfirmed
from core.inputs import date_param, text_problem, unstorable_error
from core.web import DENIED, forbidden, service_action
from people.http import AuthedHttpRequest
from posts import platforms
from posts.claims import claims_for_editor
from posts.forms import (
    CONSENT_SEARCH_MAX,
    ConsentChoiceField,
    PostForm,
    StaleMerge,
    draft_from_post,
    editor_accounts,
    picker_scope,
    stale_merge,
)
from posts.gates import post_consent_problems
from posts.livechecks import editor_post_findings
from posts.models import Campaign, Post, PostStatus
from posts.movechecks import MOVE_CONFIRM
from posts.panels import panels_for
from posts.policy import EDIT, PostPolicy
from posts.previews import target_previews
from posts.scans import scan_states
from posts.selectors import CONSENT_OPTIONS_MAX, consents_offered, post_for_editor, post_for_page
from posts.services import (
    RESTART_CONFIRM,
    post_content_findings,
    post_create,
    post_schedule,
    post_unschedule,
    post_update,
    post_withdraw,
)


def _visible_post(request: HttpRequest, pk: int, *, whole: bool = False) -> Post:
    """Return the post if the user sees it (``whole``: with everything the editor and detail page read), else 404."""
    try:
        if whole:
            return post_for_page(user=request.user, pk=pk)
        return post_for_editor(user=request.user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc


def _editor_page(
    request: HttpRequest,
    form: PostForm,
    post: Post | None,
    *,
    version: int = 0,
    stale: StaleVersion | None = None,
    revision: int | None = None,
    merged: StaleMerge | None = None,
) -> HttpResponse:
    if form.is_bound:
        # Refused: the images the pipeline accepted are kept, so nobody chooses them again.
        form.uploads_keep()
    draft = form.draft(files=request.FILES.keys()) if form.is_bound else form.draft()
    context = {
        "form": form,
        "post": post,
        "version": version,
        "stale": stale,
        "stale_merge": merged,
        # The revision the form's content starts from: after a refused stale save, what it merged.
        "revision": revision if revision is not None else _opened_revision(request, post),
        "previews": target_previews(draft),
        "post_findings": editor_post_findings(form=form, draft=draft, post=post),
        "rules": platforms.rules_as_json(),
        "claims": claims_for_editor(post=post) if post is not None else None,
        "nav": "calendar",
    }
    return render(request, "posts/post_form.html", context, status=409 if stale else 200)


def _opened_revision(request: HttpRequest, post: Post | None) -> int | None:
    """Return the id of the revision the submitted form was opened on, or the post's current one on a GET."""
    if post is None:
        return None
    if request.method != "POST":
        return post.current_revision_id
    text = request.POST.get("revision", "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def _create_initial(request: HttpRequest, policy: PostPolicy) -> dict[str, Any]:
    user = request.user
    initial: dict[str, Any] = {
        "time_zone": getattr(user, "time_zone", "") or "UTC",
        "language": Post._meta.get_field("language").get_default(),
        "content_type": Post._meta.get_field("content_type").get_default(),
    }
    campaign_id = request.GET.get("campaign", "")
    if campaign_id.isdigit() and int(campaign_id) in policy.editable_campaign_ids:
        initial["campaign"] = int(campaign_id)
    day = date_param(request.GET.get("date"))
    if day is not None:
        initial["scheduled_date"] = day
        initial["scheduled_time"] = dt.time(9, 0)
    return initial


@login_required
def post_create_view(request: AuthedHttpRequest) -> HttpResponse:
    """Show the empty editor; on "Save draft" create the post and go to its page."""
    policy = PostPolicy(request.user)
    if not policy.editable_campaign_ids:
        return forbidden(request, _("You may not add posts to any campaign."))
    if request.method != "POST":
        return _editor_page(request, PostForm(user=request.user, initial=_create_initial(request, policy)), None)
    form = PostForm(request.POST, request.FILES, user=request.user)
    if form.searched_slot() is not None:
        form.search_only()
        return _editor_page(request, form, None)
    if form.is_valid():
        campaign: Campaign = form.cleaned_data["campaign"]
        # A refusal names the campaign the user may not add posts to.
        refusal_on = {DENIED: "campaign"}
        with service_action(request, success=_("The draft was saved."), form=form, code_fields=refusal_on) as call:
            post = post_create(
                actor=request.user,
                campaign=campaign,
                data=form.content_data(),
                targets=form.cleaned_data["target_specs"],
                media=form.cleaned_data["new_media"],
                featured=form.cleaned_data["featured_specs"],
                scheduled_at=form.cleaned_data["scheduled_at"],
                time_zone=form.cleaned_data["time_zone"],
            )
        if call.ok:
            form.uploads_saved()
            return redirect("posts:post_detail", pk=post.pk)
    return _editor_page(request, form, None)


@login_required
def post_edit_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show the editor for a saved post; on "Save draft" apply the changes in one step.

    The form carries the version it was opened on; a save over someone else's change is
    refused (409) with their change shown and the user's input kept.
    """
    # The version is read before the post, so the form never shows older content than it claims.
    version = version_of(model=Post, pk=pk)
    post = _visible_post(request, pk, whole=True)
    policy = PostPolicy(request.user)
    refusal = policy.refusal(post, EDIT, in_state=_("You may not edit this post in its current state."))
    if refusal:
        return forbidden(request, refusal)
    if request.method != "POST":
        return _editor_page(request, PostForm(user=request.user, post=post, policy=policy), post, version=version)
    form = PostForm(request.POST, request.FILES, user=request.user, post=post, policy=policy)
    if form.searched_slot() is not None:
        form.search_only()
        return _editor_page(request, form, post, version=version_parse(request.POST.get("version")))

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        # What this user left as it was takes the colleague's change: saving again keeps both.
        current, merged = stale_merge(form, post_pk=post.pk, opened=_opened_revision(request, post))
        return _editor_page(request, form, post, version=stale.version, stale=stale, revision=current, merged=merged)

    if form.is_valid():
        data = form.cleaned_data
        before = (post.status, post.current_revision_id)
        scheduled_at = data["scheduled_at"]
        if post.scheduled_at is not None and scheduled_at == post.scheduled_at.replace(second=0, microsecond=0):
            # The form shows minutes: a time left as it was is no move (nor a squeeze of the review).
            scheduled_at = post.scheduled_at
        with service_action(
            request,
            form=form,
            conflict=(StaleVersion, answer_stale),
            code_fields={MOVE_CONFIRM: "scheduled_time", RESTART_CONFIRM: "restart_ok"},
        ) as call:
            post_update(
                post=post,
                actor=request.user,
                data=form.content_data(),
                targets=data["target_specs"],
                media_add=data["new_media"],
                media_remove=data["media_remove"],
                media_alt_texts=data["media_alt_texts"],
                media_order=data["media_order"],
                featured=data["featured_specs"],
                scheduled_at=scheduled_at,
                time_zone=data["time_zone"],
                expected_version=version_parse(request.POST.get("version")),
                compressed_ok=data["compressed_ok"],
                restart_ok=data["restart_ok"] if form.restart_asked() else None,
            )
        if call.response is not None:
            return call.response
        if call.ok:
            form.uploads_saved()
            _saved_tell(request, post=post, before=before)
            return redirect("posts:post_detail", pk=post.pk)
    return _editor_page(request, form, post, version=version_parse(request.POST.get("version")))


# What an editor's change of content did to a review in progress or an approval already given,
# by the status before the save and after it (the approvals app, where installed, restarts review).
_RESTART_MESSAGES = {
    (PostStatus.IN_REVIEW, PostStatus.IN_REVIEW): gettext_lazy(
        "The content changed: review starts again from the first stage."
    ),
    (PostStatus.APPROVED, PostStatus.IN_REVIEW): gettext_lazy(
        "The content changed: the approval no longer holds and the post goes back to review."
    ),
    (PostStatus.APPROVED, PostStatus.DRAFT): gettext_lazy(
        "The content changed: the approval no longer holds. Submit it for review again."
    ),
    (PostStatus.SCHEDULED, PostStatus.IN_REVIEW): gettext_lazy(
        "The post left the schedule and goes back to review: the approval no longer holds."
    ),
    (PostStatus.SCHEDULED, PostStatus.DRAFT): gettext_lazy(
        "The post left the schedule and its approval no longer holds: submit it for review again."
    ),
}


def _saved_tell(request: HttpRequest, *, post: Post, before: tuple[str, int | None]) -> None:
    """Say what the save did: to the review of a post in review, approved or scheduled, else "saved"."""
    status, revision_id = before
    post.refresh_from_db(fields=["status", "current_revision"])
    restarted = _RESTART_MESSAGES.get((PostStatus(status), PostStatus(post.status)))
    if post.current_revision_id != revision_id and restarted is not None:
        messages.success(request, str(restarted))
    elif status == PostStatus.DRAFT or post.current_revision_id != revision_id:
        messages.success(request, _("The draft was saved."))
    else:
        messages.success(request, _("The changes were saved."))


@require_GET
@login_required
def consent_options_view(request: AuthedHttpRequest) -> JsonResponse:
    """Return the consents the picker offers for the editor's current targets, time and campaign.

    ``q``: words each found in the person's name or reference; ``reference``: that person's consents
    only. At most ``CONSENT_OPTIONS_MAX`` are answered, with ``more`` saying whether others match.
    """
    policy = PostPolicy(request.user)
    if not policy.is_editor:
        raise PermissionDenied
    post: Post | None = None
    post_id = request.GET.get("post", "")
    if post_id.isdigit():
        post = _visible_post(request, int(post_id))
    if post is not None:
        campaigns = Campaign.objects.filter(pk=post.campaign_id)
    else:
        campaigns = Campaign.objects.filter(pk__in=policy.editable_campaign_ids)
    scope = picker_scope(request.GET, accounts=editor_accounts(post), campaigns=campaigns, post=post)
    words = request.GET.get("q", "")[:CONSENT_SEARCH_MAX].split()
    reference = request.GET.get("reference", "").strip()[:CONSENT_SEARCH_MAX]
    # The consent a row has chosen stays in it on the page (editor_slots.js); the list is only the valid ones.
    offered = consents_offered(
        at=scope.at,
        platforms=scope.platforms,
        purpose=scope.purpose,
        references=[reference] if reference else [],
        words=words,
        limit=CONSENT_OPTIONS_MAX + 1,
    )
    label = ConsentChoiceField(queryset=None).label_from_instance
    options = [
        {
            "id": record.pk,
            "label": label(record),
            "search": f"{record.subject.display_name} {record.subject.reference}",
            "reference": record.subject.reference,
            "kinds": list(record.media_kinds),
        }
        for record in offered[:CONSENT_OPTIONS_MAX]
    ]
    return JsonResponse({"options": options, "more": len(offered) > CONSENT_OPTIONS_MAX})


@login_required
def post_detail_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show everything about a post, its findings, the actions the user may take and the apps' panels."""
    post = _visible_post(request, pk, whole=True)
    media = list(post.media.all())
    context = {
        "post": post,
        "actions": PostPolicy(request.user).actions(post),
        "previews": target_previews(draft_from_post(post)),
        "featured": post.featured_people.all(),
        "consent_problems": post_consent_problems(post=post),
        "content_findings": post_content_findings(post=post),
        "media_with_checks": list(zip(media, scan_states(media), strict=True)),
        "panels": panels_for(request=request, post=post),
        "nav": "calendar",
    }
    return render(request, "posts/post_detail.html", context)


def _act(request: HttpRequest, pk: int, action: Callable[[Post], object], done: str) -> HttpResponse:
    post = _visible_post(request, pk)
    with service_action(request, success=done):
        action(post)
    return redirect("posts:post_detail", pk=post.pk)


@require_POST
@login_required
def post_schedule_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda post: post_schedule(post=post, actor=request.user), _("The post is scheduled."))


@require_POST
@login_required
def post_unschedule_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda post: post_unschedule(post=post, actor=request.user),
        _("The post was taken off the schedule."),
    )


@require_POST
@login_required
def post_withdraw_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "").strip()[:1000]
    if not confirmed(request):
        post = _visible_post(request, pk)
        refuse_unconfirmed(request, act=_("Withdraw"))
        return redirect("posts:post_detail", pk=post.pk)
    if text_problem(reason):
        for message in unstorable_error().messages:
            messages.error(request, message)
        return redirect("posts:post_detail", pk=_visible_post(request, pk).pk)
    return _act(
        request,
        pk,
        lambda post: post_withdraw(post=post, actor=request.user, reason=reason),
        _("The post was withdrawn."),
    )
