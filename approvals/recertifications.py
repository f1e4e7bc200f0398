"""The reviewers' list of live posts due for re-certification (the inbox's section)."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from approvals.expiry import Certification, certifications_of, recertification_candidates
from approvals.policy import RecertificationPolicy
from people.models import User
from posts.models import Post


@dataclass(frozen=True)
class DueItem:
    """A live post due for re-certification, with what its approval rests on and what the user may do."""

    post: Post
    certification: Certification
    due_at: dt.datetime
    actions: frozenset[str]


def recertifications_due(*, user: User | AnonymousUser, now: dt.datetime | None = None) -> list[DueItem]:
    """Return the live posts due for re-certification that ``user`` may answer, longest due first.

    A constant number of queries: the chains' periods, the posts that may be due, their
    certifications, the chains' first stages, and the policy's cached reads of the user.
    """
    now = now or timezone.now()
    candidates = recertification_candidates(due_by=now)
    posts = list(candidates.select_related("campaign", "current_revision").order_by("pk"))
    certifications = certifications_of([post.pk for post in posts])
    policy = RecertificationPolicy(user)
    policy.prefetch(chains=[certification.chain for certification in certifications.values()], posts=posts)
    items = []
    for post in posts:
        certification = certifications.get(post.pk)
        due_at = certification.recertify_at if certification else None
        if certification is None or due_at is None or due_at > now:
            continue
        actions = policy.actions(post, certification=certification, now=now)
        if actions:
            items.append(DueItem(post=post, certification=certification, due_at=due_at, actions=actions))
    return sorted(items, key=lambda item: (item.due_at, item.post.pk))
