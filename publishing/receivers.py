"""What publishing does when a post moves: connected in ``PublishingConfig.ready``, run in the post's transaction."""

from typing import Any

from consent.models import ConsentRecord
from people.models import User
from posts.models import Post
from publishing.models import TakedownCause
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
