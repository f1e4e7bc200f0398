"""The world of the home page tests: reviewers, and a campaign with something in every section."""

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from approvals.services import round_submit
from consent.services import consent_revoke
from people import roles
from posts.models import Post, PostStatus
from posts.services import FeatureSpec, post_transition, post_update
from publishing.models import Publication, PublicationStatus, TakedownItem
from tests.conftest import make_user


def move(post: Post, *statuses: str, actor: Any) -> None:
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        for status in statuses:
            post_transition(post=locked, to=status, actor=actor, reason="history for the test")


@pytest.fixture
def medical(db: None) -> Any:
    return make_user("medical", roles.MEDICAL_REVIEWER)


@pytest.fixture
def comms(db: None) -> Any:
    return make_user("comms", roles.COMMUNICATIONS_REVIEWER)


@pytest.fixture
def ward(
    editor: Any,
    medical: Any,
    comms: Any,
    campaign_factory: Any,
    account_factory: Any,
    post_factory: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
) -> dict[str, Any]:
    """One campaign with a post in review, one sent back, one live whose consent was revoked (a takedown),
    one stopped by that revocation before it went out (blocked), one failed publication, and a consent
    ending in ten days."""
    campaign = campaign_factory(editor, name="Grippe-Saison 2026", reviewers=[medical, comms])
    facebook = account_factory("facebook", name="Klinikum Nord")
    when = timezone.now() + dt.timedelta(days=6)
    in_review = post_factory(editor, campaign, targets=[facebook], when=when, title="Grippeimpfung: Mo–Fr 8–12 Uhr")
    round_submit(post=in_review, actor=editor)
    sent_back = post_factory(editor, campaign, targets=[facebook], title="Ärztin Dr. Öztürk im Porträt")
    move(sent_back, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, actor=editor)
    anna = subject_factory(display_name="Anna Berger")
    record = record_factory(anna)
    live = post_factory(editor, campaign, targets=[facebook], title="Annas Geschichte")
    post_update(post=live, actor=editor, featured=[FeatureSpec(subject=anna, consent=record, media_kinds=("story",))])
    move(live, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED, actor=editor)
    stopped = post_factory(editor, campaign, targets=[facebook], title="Annas Reha-Tagebuch")
    post_update(
        post=stopped, actor=editor, featured=[FeatureSpec(subject=anna, consent=record, media_kinds=("story",))]
    )
    consent_revoke(record=record, actor=officer, received_via="letter")
    failed = post_factory(editor, campaign, targets=[facebook], title="Blutspende am 12.04.")
    now = timezone.now()
    Publication.objects.create(
        post=failed,
        account=facebook,
        status=PublicationStatus.FAILED,
        due_at=now,
        next_attempt_at=now,
        attempts=6,
        last_error="HTTP 500 from the platform",
    )
    ending = record_factory(
        subject_factory(display_name="Jürgen Weiß"), expires_on=timezone.localdate() + dt.timedelta(days=10)
    )
    record_factory(subject_factory(display_name="Mehmet Kaya"))  # a year left: not listed
    return {
        "campaign": campaign,
        "in_review": in_review,
        "sent_back": sent_back,
        "live": live,
        "stopped": stopped,
        "failed": failed,
        "ending": ending,
        "takedown": TakedownItem.objects.get(post=live),
    }
