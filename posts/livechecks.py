"""The post-wide findings of the editor's unsaved input: patient data, claims without sources, consent.

The same checks the post page, the review and the schedule gate run on a saved post
(`posts.services.post_content_findings`, `posts.gates.post_consent_problems`), run here on what
the editor holds now. Reads only: nothing is written, nothing audited, so any input is harmless.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.gate import Feature, consent_problems
from consent.models import ConsentRecord, Subject
from consent.models import MediaKind as ConsentMediaKind
from posts import patient_data
from posts.claim_rules import claim_findings
from posts.forms import NEW_MEDIA_SLOTS, Draft, PostForm, aware_from_local
from posts.gates import NO_FEATURED_PERSON, post_consent_problems
from posts.models import Campaign, ContentType, Post
from posts.pending import pending_find
from posts.platforms import Finding, Severity
from posts.scans import media_check
from posts.services import post_content_findings

# The editor's person rows are numbered from 0; more than this many are not read.
FEATURED_ROWS_MAX = 20


def oversized_fields(data: Mapping[str, Any], *, override_names: list[str]) -> list[str]:
    """Return the names of fields longer than the editor's form allows (their max_length)."""
    limits: dict[str, int] = {}
    for name, field in PostForm.base_fields.items():
        if isinstance(field, forms.CharField) and field.max_length is not None:
            limits[name] = field.max_length
    body_limit = limits["body"]
    limits.update(dict.fromkeys(override_names, body_limit))
    return [name for name, limit in limits.items() if len(str(data.get(name, ""))) > limit]


def _featured(data: Mapping[str, Any], *, post: Post | None) -> list[Feature]:
    references: dict[int, str] = {}
    for row in range(FEATURED_ROWS_MAX):
        reference = str(data.get(f"featured_subject_{row}", "")).strip()
        if reference:
            references[row] = reference
    if not references:
        return []
    subjects = dict(Subject.objects.filter(reference__in=set(references.values())).values_list("reference", "pk"))
    kept = list(post.featured_people.values_list("consent_id", flat=True)) if post is not None else []
    chosen = [str(data.get(f"featured_consent_{row}", "")) for row in references]
    consent_ids = {int(value) for value in chosen if value.isdigit() and len(value) < 12}
    # Only consents in force (or ones the post already links) are checked, as on save; what the gate
    # finds against them for this post (scope, time of publishing) is among the findings.
    in_force = ConsentRecord.objects.active_at(timezone.now()).filter(pk__in=consent_ids)
    pickable = set(in_force.values_list("pk", flat=True)) | (consent_ids & {pk for pk in kept if pk})
    features: list[Feature] = []
    seen: set[int] = set()
    for row, reference in references.items():
        subject_id = subjects.get(reference)
        if subject_id is None or subject_id in seen:
            continue  # the form refuses these on save, with its own message
        seen.add(subject_id)
        raw_consent = str(data.get(f"featured_consent_{row}", ""))
        consent_id = int(raw_consent) if raw_consent.isdigit() and len(raw_consent) < 12 else None
        consent_id = consent_id if consent_id in pickable else None
        kinds = data.getlist(f"featured_kinds_{row}") if hasattr(data, "getlist") else []
        features.append(Feature(subject_id, consent_id, frozenset(str(kind) for kind in kinds)))
    return features


def _moment(data: Mapping[str, Any], *, post: Post | None) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(str(data.get("scheduled_date", "")))
        time = dt.time.fromisoformat(str(data.get("scheduled_time", "")))
        return aware_from_local(day, time, str(data.get("time_zone", "")) or "UTC")
    except (ValueError, ValidationError, KeyError, OverflowError, OSError):
        pass  # not a moment (yet): the form says why on save
    if post is not None and post.scheduled_at is not None:
        return post.scheduled_at
    return timezone.now()


def kept_images_located(data: Mapping[str, Any], *, user_id: int) -> list[bool]:
    """Return, per new image of the input (a kept one or a file described), whether its original had a location.

    Only kept images are known: a file the editor's script describes has not been read yet (the
    save reads it, and the editor page then shows the finding).
    """
    located: list[bool] = []
    for slot in range(NEW_MEDIA_SLOTS):
        token = str(data.get(f"kept_{slot}", ""))
        described = bool(data.get(f"new_media_{slot}_format"))
        kept = None
        if token and not described and not data.get(f"kept_remove_{slot}"):
            kept = pending_find(token=token, user_id=user_id)
        if kept is not None or described:
            located.append(kept is not None and kept.had_location)
    return located


def draft_post_findings(
    *,
    data: Mapping[str, Any],
    draft: Draft,
    post: Post | None,
    campaign: Campaign | None,
    new_images_located: Sequence[bool] = (),
) -> list[Finding]:
    """Return the post-wide findings of the unsaved input: patient data, claims, then consent (errors).

    ``new_images_located`` says, per image the input adds (after the saved ones it keeps), whether
    its original carried a location.
    """
    texts = [draft.title, draft.body, *(override for _account, override in draft.targets if override)]
    features = _featured(data, post=post)
    saved_media = list(post.media.all()) if post is not None else []
    removed = {media.pk for media in saved_media if data.get(f"media_remove_{media.pk}")}
    images = [media for media in saved_media if media.file and media.pk not in removed]
    located = [media.original_had_location for media in images] + list(new_images_located)
    findings = patient_data.content_findings(
        texts=texts,
        language=str(data.get("language") or "") or (post.language if post is not None else None),
        featured_subject_ids={feature.subject_id for feature in features},
        featured_kinds={kind for feature in features for kind in feature.media_kinds},
        image_paths=[media.file.path for media in images],
        located_images=[index for index, flag in enumerate(located) if flag],
        # Images added by this input are checked once saved.
        image_checks=[media_check(media) for media in images]
        + [patient_data.ImageCheck() for _new in new_images_located],
        photo_people=sum(ConsentMediaKind.PHOTO in feature.media_kinds for feature in features),
    )
    content_type = str(data.get("content_type", "")) or (post.content_type if post is not None else "")
    # An unsaved stand-in: claim_findings reads the text and the content type of the post.
    unsaved = Post(body=draft.body, content_type=content_type)
    claims = list(post.claims.all()) if post is not None else []
    findings.extend(claim_findings(post=unsaved, texts=texts, claims=claims))
    if content_type == ContentType.PATIENT_STORY and not features:
        findings.append(
            Finding(
                NO_FEATURED_PERSON,
                Severity.ERROR,
                _("A patient story must name the person it features, with their consent."),
                "",
            )
        )
    if features and campaign is not None:
        problems = consent_problems(
            features=features,
            platforms={account.platform for account, _override in draft.targets},
            purpose=campaign.purpose,
            at=_moment(data, post=post),
        )
        findings.extend(Finding(problem.code, Severity.ERROR, problem.message, "") for problem in problems)
    return findings


def editor_post_findings(*, form: PostForm, draft: Draft, post: Post | None) -> list[Finding]:
    """Return the post-wide findings the editor page shows when it opens: of the input, else of the saved post."""
    if form.is_bound:
        campaign = post.campaign if post is not None else None
        campaign_id = str(form.data.get("campaign", ""))
        if campaign is None and campaign_id.isdigit() and int(campaign_id) in form.policy.editable_campaign_ids:
            campaign = Campaign.objects.filter(pk=int(campaign_id)).first()
        new_located = [kept.had_location for _slot, kept in sorted(form.kept.items())]
        return draft_post_findings(
            data=form.data, draft=draft, post=post, campaign=campaign, new_images_located=new_located
        )
    if post is None:
        return []
    problems = post_consent_problems(post=post)
    return [
        *post_content_findings(post=post),
        *(Finding(problem.code, Severity.ERROR, problem.message, "") for problem in problems),
    ]
