"""Erasure for posts (docs/erasure.md): whose key seals post events, and redacting a person's name.

A post's texts may name the people it features (and may have named them before they were
featured), so every post has an erasure key of its own: its events carry its title sealed under
that key, and so do the events of everything belonging to a post (targets, media, revisions,
claims, review rounds, publications, takedowns). Erasing a person erases the keys of the posts
that featured them and replaces their name in the posts' stored texts with "[erased]".
"""

import re
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.dispatch import receiver

from audit.erasure import KeyOwner
from audit.models import object_type_of
from audit.services import event_record
from consent.erasure import subject_owner
from consent.models import Subject
from consent.signals import subject_erasing
from people.models import User
from posts.models import Claim, FeaturedPerson, Media, MediaScan, Post, PostTarget, Revision

POST_TYPE = object_type_of(Post)
REDACTED = "[erased]"


def post_owner(post_id: object) -> KeyOwner:
    return (POST_TYPE, str(post_id))


def _post_id_of(obj: models.Model) -> object:
    # Everything belonging to a post names it directly (targets, media, publications …) or
    # through its review round (stage runs); apps above posts need not register anything.
    if isinstance(obj, Post):
        return obj.pk
    post_id = getattr(obj, "post_id", None)
    if post_id is None and hasattr(obj, "round_id"):
        round_ = getattr(obj, "round", None)
        post_id = getattr(round_, "post_id", None)
    return post_id


def post_key_owners(obj: models.Model) -> list[KeyOwner]:
    """Return the post whose key seals ``obj``'s events, and for a featured person their own key too."""
    owners = []
    post_id = _post_id_of(obj)
    if post_id is not None:
        owners.append(post_owner(post_id))
    if isinstance(obj, FeaturedPerson):
        owners.append(subject_owner(obj.subject_id))
    return owners


def _pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({name.strip() for name in names if len(name.strip()) >= 2}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern) for key, item in value.items()}
    return value


def _redact_rows(
    model: type[models.Model], rows: models.QuerySet[Any], fields: list[str], pattern: re.Pattern[str]
) -> int:
    changed = 0
    for row in rows:
        updates = {name: _redact(getattr(row, name), pattern) for name in fields}
        updates = {name: value for name, value in updates.items() if value != getattr(row, name)}
        if updates:
            # QuerySet.update on the base class: revisions refuse updates to their content, and
            # erasure is the one deliberate exception (their content hashes stay as recorded).
            models.QuerySet(model=model).filter(pk=row.pk).update(**updates)
            changed += 1
    return changed


def posts_redact(*, subject: Subject, names: list[str], actor: User) -> list[KeyOwner]:
    """Replace ``names`` in the texts of every post featuring ``subject``; return the post keys to erase."""
    pattern = _pattern(names)
    post_ids = list(FeaturedPerson.objects.filter(subject=subject).values_list("post_id", flat=True).distinct())
    if pattern is not None and post_ids:
        _redact_rows(
            Post, Post.objects.filter(pk__in=post_ids), ["title", "body", "sources", "crisis_request_reason"], pattern
        )
        _redact_rows(PostTarget, PostTarget.objects.filter(post_id__in=post_ids), ["body_override"], pattern)
        _redact_rows(Media, Media.objects.filter(post_id__in=post_ids), ["alt_text"], pattern)
        # What the image check read in the pictures (posts.scans) names them as the text would.
        _redact_rows(MediaScan, MediaScan.objects.filter(media__post_id__in=post_ids), ["text", "spans"], pattern)
        _redact_rows(Claim, Claim.objects.filter(post_id__in=post_ids), ["passage", "quote"], pattern)
        _redact_rows(Revision, Revision.objects.filter(post_id__in=post_ids), ["content"], pattern)
    for post in Post.objects.filter(pk__in=post_ids).order_by("pk"):
        # No name in it: the person is named by their erased record's id only.
        event_record(actor=actor, action="post.person_redacted", obj=post, changes={"subject": subject.pk})
    return [post_owner(pk) for pk in post_ids]


@receiver(subject_erasing, dispatch_uid="posts.redact_erased_person")
def _redact_on_erasure(*, subject: Subject, names: list[str], actor: User, **kwargs: Any) -> list[KeyOwner]:
    return posts_redact(subject=subject, names=names, actor=actor)


def posts_featuring_export(subject: Subject) -> list[dict[str, Any]]:
    """The posts part of a person's Art. 15 export: each post that featured them, with its state."""
    featured = FeaturedPerson.objects.filter(subject=subject).select_related("post", "consent").order_by("post_id")
    return [
        {
            "post": item.post_id,
            "title": item.post.title,
            "text": item.post.body,
            "status": item.post.status,
            "scheduled_at": item.post.scheduled_at,
            "shows": item.media_kinds,
            "consent": item.consent_id,
        }
        for item in featured
    ]
