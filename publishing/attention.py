"""What of publishing waits on a person: publications that did not go out, and open takedowns.

Only what the user may act on (the campaigns ``PublishingPolicy`` lets them retry or take down);
Governance, which only reads, finds them on the Publishing page.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from audit.models import AuditEvent, object_type_of
from people.models import User
from posts.models import Post, PostStatus
from publishing.models import Publication, TakedownItem
from publishing.models import PublicationStatus as P
from publishing.policy import PublishingPolicy

# Not on its way: failed, refused by a gate at send time, or past due without a try.
STUCK = (P.FAILED, P.BLOCKED, P.OVERDUE)


def publications_stuck_for(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None
) -> QuerySet[Publication]:
    """Return the failed, blocked and overdue publications of the campaigns the user acts for, oldest first."""
    policy = policy or PublishingPolicy(user)
    return (
        Publication.objects.filter(status__in=STUCK, post__campaign_id__in=policy.retry_campaign_ids)
        .select_related("post", "account")
        .defer("account__credentials", "post__sources")
        .order_by("due_at", "pk")
    )


def publications_blocked_for(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None
) -> QuerySet[Publication]:
    """Return the visible publications a gate refused at send time, with why, oldest first."""
    policy = policy or PublishingPolicy(user)
    return (
        Publication.objects.filter(status=P.BLOCKED, post__campaign_id__in=policy.publication_campaign_ids)
        .select_related("post", "post__campaign", "account")
        .defer("account__credentials", "post__sources")
        .order_by("due_at", "pk")
    )


def takedowns_to_act_for(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None
) -> QuerySet[TakedownItem]:
    """Return the open takedowns of the campaigns the user may take posts down for, oldest first."""
    policy = policy or PublishingPolicy(user)
    return (
        TakedownItem.objects.filter(confirmed_at__isnull=True, post__campaign_id__in=policy.takedown_act_campaign_ids)
        .select_related("post", "account")
        .defer("account__credentials", "post__sources")
        .order_by("created_at", "pk")
    )


def takedowns_open_of_post(*, post_id: int) -> QuerySet[TakedownItem]:
    """Return the post's takedowns nobody has confirmed yet, with their accounts."""
    return (
        TakedownItem.objects.filter(post_id=post_id, confirmed_at__isnull=True)
        .select_related("account")
        .defer("account__credentials")
        .order_by("created_at", "pk")
    )


def posts_blocked_for(
    *, user: User | AnonymousUser, policy: PublishingPolicy | None = None, acting: bool = False
) -> QuerySet[Post]:
    """Return the visible posts stopped before going out (a consent ended, ...), each with ``blocked_reason``.

    ``acting``: only of the campaigns the user acts for. The reason is the one recorded with the
    post's last move (to Blocked); one query however many posts.
    """
    policy = policy or PublishingPolicy(user)
    campaign_ids = policy.retry_campaign_ids if acting else policy.publication_campaign_ids
    last_move = AuditEvent.objects.filter(
        object_type=object_type_of(Post),
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
        action="post.status_changed",
    ).order_by("-seq")
    return (
        Post.objects.filter(status=PostStatus.BLOCKED, campaign_id__in=campaign_ids)
        .select_related("campaign")
        .defer("sources")
        .annotate(blocked_reason=Subquery(last_move.values(reason=KT("changes__reason"))[:1]))
        .order_by("-updated_at", "-pk")
    )
