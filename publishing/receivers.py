"""What publishing does when a post moves: connected in ``PublishingConfig.ready``, run in the post's transaction."""

from typing import Any

from consent.models import ConsentRecord, Subject
from people.models import User
from posts.models import FeaturedPerson, Post
from publishing.models import Publication, TakedownCause, TakedownItem
from publishing.services import publications_follow_post, publications_retime
from publishing.takedowns import takedowns_for_review, takedowns_list


def follow_post_status(*, post: Post, old_status: str, actor: User | None, **kwargs: Any) -> None:
    publications_follow_post(post=post, old_status=old_status, actor=actor)


def follow_post_time(*, post: Post, actor: User | None, **kwargs: Any) -> None:
    publications_retime(post=post, actor=actor)


def list_takedowns(*, post: Post, record: ConsentRecord, actor: User | None, reason: str, **kwargs: Any) -> list[int]:
    return takedowns_list(post=post, record=record, actor=actor, reason=reason)


def list_review_takedowns(
    *,
    post: Post,
    stage: str,
    comment: str,
    actor: User | None,
    reason: str,
    cause: str = TakedownCause.REVIEW_REJECTED,
    **kwargs: Any,
) -> list[int]:
    return takedowns_for_review(post=post, stage=stage, comment=comment, actor=actor, reason=reason, cause=cause)


def publications_export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """The publishing part of a person's Art. 15 export: where the posts featuring them went out, and came down."""
    post_ids = FeaturedPerson.objects.filter(subject=subject).values("post_id")
    publications = Publication.objects.filter(post_id__in=post_ids).select_related("account").order_by("pk")
    takedowns = TakedownItem.objects.filter(post_id__in=post_ids).select_related("account").order_by("pk")
    return {
        "publications": [
            {
                "post": item.post_id,
                "account": str(item.account),
                "status": item.status,
                "url": item.url,
                "external_id": item.external_id,
            }
            for item in publications
        ],
        "takedowns": [
            {
                "post": item.post_id,
                "account": str(item.account),
                "cause": item.cause,
                "url": item.url,
                "listed_at": item.created_at,
                "taken_down_at": item.confirmed_at,
            }
            for item in takedowns
        ],
    }
