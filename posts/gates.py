"""The consent gate as posts ask it: what the post shows, where, for which purpose, when."""

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from consent.gate import Feature, Problem, consent_problems
from consent.models import ConsentRecord
from posts.models import ContentType, FeaturedPerson, Post, PostTarget

NO_FEATURED_PERSON = "no_featured_person"


def post_consent_problems(
    *,
    post: Post,
    at: dt.datetime | None = None,
    records: dict[int, ConsentRecord] | None = None,
    featured: Sequence[FeaturedPerson] | None = None,
    targets: Sequence[PostTarget] | None = None,
) -> list[Problem]:
    """Return why the post may not go out at ``at`` (default: its scheduled time, else now) for consent reasons.

    Submission, every approval, scheduling and publishing ask exactly this. The publisher, which
    checks a batch of posts at once, passes what it loaded in its transaction: ``records`` (by
    `consent.gate.consent_records_load`), the post's ``featured`` people and its ``targets``
    with their accounts.
    """
    when = at or post.scheduled_at or timezone.now()
    featured = list(post.featured_people.all()) if featured is None else featured
    problems: list[Problem] = []
    if post.content_type == ContentType.PATIENT_STORY and not featured:
        problems.append(
            Problem(
                code=NO_FEATURED_PERSON,
                subject_id=0,
                consent_id=None,
                message=_("A patient story must name the person it features, with their consent."),
            )
        )
    if featured:
        features = [Feature(person.subject_id, person.consent_id, frozenset(person.media_kinds)) for person in featured]
        if targets is None:
            targets = list(post.targets.select_related("account"))
        platforms = {target.account.platform for target in targets}
        problems.extend(
            consent_problems(
                features=features, platforms=platforms, purpose=post.campaign.purpose, at=when, records=records
            )
        )
    return problems
