"""What of publishing waits on a person: publications that did not go out, and open takedowns.

Only what the user may act on (the campaigns ``PublishingPolicy`` lets them retry or take down,
in its set form so a count nests in one query); Governance, which only reads, finds them on the
Publishing page.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from audit.models import AuditEvent, object_type_of
from people.models import User
from posts.models import Campaign, Post, PostStatus
from posts.policy import PostPolicy
from posts.selectors import campaigns_for_user, campaigns_of_team
from publishing.models import Publication, TakedownItem
from publishing.models import PublicationStatus as P
from publishing.policy import PublishingPolicy

# Not on its way: failed, refused by a gate at send time, or past due without a try.
STUCK = (P.FAILED, P.BLOCKED, P.OVERDUE)
RETRY_PERM = "publishing.change_publication"
TAKEDOWN_PERM = "publishing.change_takedownitem"


def campaigns_acted_for(*, user: User | AnonymousUser, perm: str) -> QuerySet[Campaign]:
    """Return the campaigns ``user`` acts for with ``perm``, as a query to nest (no query of its own).

    The set form of ``PublishingPolicy`` (tests hold the two together): a team's editors act on
    their campaigns; a role holding ``perm`` acts on the campaigns it sees.
    """
    if not user.is_authenticated or not user.is_active:
        return Campaign.objects.none()
    acting = Q(pk__in=[])
    if PostPolicy(user).is_editor:
        acting |= Q(pk__in=campaigns_of_team(user=user).values("pk"))
    if user.has_perm(perm):
        acting |= Q(pk__in=campaigns_for_user(user=user).values("pk"))
    return Campaign.objects.filter(acting)


def publications_stuck_for(*, user: User | AnonymousUser) -> QuerySet[Publication]:
    """Return the failed, blocked and overdue publications of the campaigns the user acts for, oldest first."""
    campaigns = campaigns_acted_for(user=user, perm=RETRY_PERM).values("pk")
    return (
        Publication.objects.filter(status__in=STUCK, post__campaign__in=campaigns)
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


def takedowns_to_act_for(*, user: User | AnonymousUser) -> QuerySet[TakedownItem]:
    """Return the open takedowns of the campaigns the user may take posts down for, oldest first."""
    campaigns = campaigns_acted_for(user=user, perm=TAKEDOWN_PERM).values("pk")
    return (
        TakedownItem.objects.filter(confirmed_at__isnull=True, post__campaign__in=campaigns)
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

    ``acting``: only of the campaigns the user acts for (then no policy look-up first). The reason
    is the one recorded with the post's last move (to Blocked); one query however many posts.
    """
    if acting:
        campaigns: object = campaigns_acted_for(user=user, perm=RETRY_PERM).values("pk")
    else:
        campaigns = (policy or PublishingPolicy(user)).publication_campaign_ids
    last_move = AuditEvent.objects.filter(
        object_type=object_type_of(Post),
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
        action="post.status_changed",
    ).order_by("-seq")
    return (
        Post.objects.filter(status=PostStatus.BLOCKED, campaign__in=campaigns)
        .select_related("campaign")
        .defer("sources")
        .annotate(blocked_reason=Subquery(last_move.values(reason=KT("changes__reason"))[:1]))
        .order_by("-updated_at", "-pk")
    )
