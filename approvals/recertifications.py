"""The reviewers' list of live posts due for re-certification (the inbox's section)."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from approvals.expiry import EVERGREEN, LIVE, Certification, certifications_of, recertification_candidates
from approvals.models import ReviewRound, ReviewStage, RoundStatus
from approvals.policy import RECERTIFY
from approvals.selectors import campaign_visible
from people import rights
from people.models import User
from posts.models import Post, Revision


@dataclass(frozen=True)
class DueItem:
    """A live post due for re-certification, with what its approval rests on and what the user may do."""

    post: Post
    certification: Certification
    due_at: dt.datetime
    actions: frozenset[str]


def recertifications_answerable(*, user: User | AnonymousUser, due_by: dt.datetime) -> list[Post]:
    """Return the posts due by ``due_by`` that ``user`` may answer, in two queries (one when none is due).

    The set form of ``approvals.policy.RecertificationPolicy.refusal`` (tests hold the two
    together): the first stage before publication of the chain that approved the post's content
    is one of the user's groups, the user sees its campaign, and did not write it or a revision
    of it.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    # Most of the time nothing is due: one read of the partial index, not the query below.
    due = list(recertification_candidates(due_by=due_by).values_list("pk", flat=True))
    if not due:
        return []
    certified_by = ReviewRound.objects.filter(
        post=OuterRef("pk"),
        status=RoundStatus.APPROVED,
        content_hash=OuterRef("approved_hash"),
        finished_at__isnull=False,
    ).order_by("-finished_at", "-pk")
    first_group = ReviewStage.objects.filter(chain_id=OuterRef("certified_chain_id"), after_publication=False).order_by(
        "position"
    )
    return list(
        Post.objects.filter(pk__in=due)
        .annotate(certified_chain_id=Subquery(certified_by.values("chain_id")[:1]))
        .annotate(first_group_id=Subquery(first_group.values("group_id")[:1]))
        .filter(first_group_id__in=sorted(rights.group_ids(user)))
        .filter(campaign_visible(user, campaign="campaign"))
        .exclude(author=user)
        .exclude(Exists(Revision.objects.filter(post=OuterRef("pk"), created_by=user)))
        .select_related("campaign", "current_revision")
        .order_by("pk")
    )


def recertifications_due(*, user: User | AnonymousUser, now: dt.datetime | None = None) -> list[DueItem]:
    """Return the live posts due for re-certification that ``user`` may answer, longest due first.

    At most three queries however many posts are live (one when none is due): the due posts, those
    the user may answer, and their certifications.
    """
    now = now or timezone.now()
    posts = recertifications_answerable(user=user, due_by=now)
    certifications = certifications_of([post.pk for post in posts])
    items = []
    for post in posts:
        certification = certifications.get(post.pk)
        due_at = certification.recertify_at if certification else None
        # As `RecertificationPolicy.refusal` asks: only a live evergreen post is re-certified.
        if post.status not in LIVE or post.content_type not in EVERGREEN:
            continue
        if certification is None or due_at is None or due_at > now:
            continue
        items.append(DueItem(post=post, certification=certification, due_at=due_at, actions=RECERTIFY))
    return sorted(items, key=lambda item: (item.due_at, item.post.pk))
