"""What a revision holds: everything that reaches a platform or decides consent (posts.content).

The internal title goes out as the YouTube, TikTok and LinkedIn title and in every webhook and
outbox payload; the consent gate checks consent for the campaign's purpose. Both are reviewed
content now: changing either makes a new revision and review starts again. Revisions made before
(snapshot format 1) keep their hash and their approval.
"""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from approvals.models import ReviewRound, ReviewStage, RoundStatus, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from audit.versions import StaleVersion, version_of
from people import roles
from posts.content import SNAPSHOT_VERSION, content_hash, content_snapshot
from posts.models import Campaign, Post, PostStatus, Revision
from posts.services import (
    FeatureSpec,
    TargetSpec,
    campaign_update,
    post_create,
    post_move,
    post_schedule,
    post_update,
    post_withdraw,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TITLE = "Herzwoche Tag 1: Blutdruck messen"
NEW_TITLE = "Herzwoche Tag 1 – Dr. Özdemir live, Fragen an 030 1234567 💙"


@pytest.fixture
def stage_reviewers(db: None) -> dict[str, Any]:
    return {
        roles.MEDICAL_REVIEWER: make_user("medical", roles.MEDICAL_REVIEWER),
        roles.LEGAL_REVIEWER: make_user("legal", roles.LEGAL_REVIEWER),
        roles.COMMUNICATIONS_REVIEWER: make_user("comms", roles.COMMUNICATIONS_REVIEWER),
    }


@pytest.fixture
def heart_week(editor: Any, campaign_factory: Any, stage_reviewers: dict[str, Any]) -> Campaign:
    return campaign_factory(editor, name="Herzwoche", purpose="education", reviewers=list(stage_reviewers.values()))


@pytest.fixture
def linkedin(account_factory: Any) -> Any:
    """An account whose platform publishes the title (a link post's article title)."""
    return account_factory("linkedin")


def in_days(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def approve_all(post: Post, editor: Any, stage_reviewers: dict[str, Any]) -> Post:
    """Run the post through the real default chain until it is approved."""
    round_submit(post=post, actor=editor)
    while (run := current_stage_run(post=post)) is not None:
        decision_record(
            stage_run=run,
            reviewer=stage_reviewers[run.stage.group.name],
            verdict=Verdict.APPROVE,
            acknowledged=finding_keys(post=post),
        )
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    return post


def open_round(post: Post) -> ReviewRound:
    return ReviewRound.objects.get(post=post, status=RoundStatus.IN_PROGRESS)


def assert_review_restarted(post: Post, *, approved_hash: str) -> None:
    """The post has new content nobody approved, and its review runs again from the first stage."""
    post.refresh_from_db()
    assert post.content_hash not in {approved_hash, ""}
    assert post.approved_hash == "" and not post.is_approved_as_is
    assert post.status == PostStatus.IN_REVIEW
    review_round = open_round(post)
    assert review_round.content_hash == post.content_hash
    first = ReviewStage.objects.filter(chain=review_round.chain).order_by("position").first()
    run = current_stage_run(post=post)
    assert run is not None and run.round == review_round and run.stage == first


def legacy(post: Post) -> Post:
    """Give ``post`` a current revision in snapshot format 1, as revisions stored before format 2 are.

    Its approval (if any) is for that revision, as it was when it was approved.
    """
    snapshot = content_snapshot(post, version=1)
    assert post.current_revision is not None
    revision = Revision.objects.create(
        post=post,
        number=post.current_revision.number + 1,
        content=snapshot,
        content_hash=content_hash(snapshot),
        created_by=post.author,
    )
    approved = revision.content_hash if post.approved_hash else ""
    Post.objects.filter(pk=post.pk).update(current_revision=revision, approved_hash=approved)
    post.refresh_from_db()
    return post


# The title ----------------------------------------------------------------------------------


def test_a_revision_holds_the_title_and_the_campaigns_purpose(
    editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any
) -> None:
    post = post_factory(editor, heart_week, targets=[linkedin], title=TITLE)
    assert post.current_revision is not None
    content = post.current_revision.content
    assert (content["v"], content["title"], content["purpose"]) == (SNAPSHOT_VERSION, TITLE, "education")
    assert post.content_hash == content_hash(content_snapshot(post))


@pytest.mark.parametrize("scheduled", [False, True], ids=["approved", "scheduled"])
def test_a_title_change_after_approval_makes_a_new_revision_and_restarts_review(
    scheduled: bool,
    editor: Any,
    heart_week: Campaign,
    linkedin: Any,
    post_factory: Any,
    stage_reviewers: dict[str, Any],
) -> None:
    post = approve_all(
        post_factory(editor, heart_week, targets=[linkedin], when=in_days(3), title=TITLE), editor, stage_reviewers
    )
    if scheduled:
        post = post_schedule(post=post, actor=editor)
    approved_hash = post.approved_hash

    post_update(post=post, actor=editor, data={"title": NEW_TITLE})

    assert_review_restarted(post, approved_hash=approved_hash)
    assert post.current_revision is not None and post.current_revision.number == 2
    assert post.current_revision.content["title"] == NEW_TITLE
    assert Revision.objects.get(post=post, number=1).content["title"] == TITLE  # what was approved stays
    assert not AuditEvent.objects.for_object(post).filter(action="post.title_changed").exists()
    with pytest.raises(PermissionDenied):
        post_schedule(post=post, actor=editor)


def test_a_title_change_in_review_supersedes_the_round(
    editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = post_factory(editor, heart_week, targets=[linkedin], when=in_days(3), title=TITLE)
    round_submit(post=post, actor=editor)
    first = open_round(post)
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=stage_reviewers[roles.MEDICAL_REVIEWER], verdict=Verdict.APPROVE)

    post_update(post=post, actor=editor, data={"title": NEW_TITLE})

    first.refresh_from_db()
    assert first.status == RoundStatus.SUPERSEDED
    assert_review_restarted(post, approved_hash=first.content_hash)


# The campaign's purpose ---------------------------------------------------------------------


def test_a_campaign_purpose_change_makes_new_revisions_of_its_open_posts_and_restarts_review(
    editor: Any,
    heart_week: Campaign,
    campaign_factory: Any,
    linkedin: Any,
    post_factory: Any,
    stage_reviewers: dict[str, Any],
) -> None:
    def make(**data: Any) -> Post:
        return post_factory(editor, heart_week, targets=[linkedin], when=in_days(3), **data)

    approved = approve_all(make(title="Tag 1"), editor, stage_reviewers)
    scheduled = post_schedule(post=approve_all(make(title="Tag 2"), editor, stage_reviewers), actor=editor)
    in_review = make(title="Tag 3")
    round_submit(post=in_review, actor=editor)
    draft = make(title="Tag 4")
    withdrawn = post_withdraw(post=make(title="Tag 5"), actor=editor, reason="Termin entfällt")
    elsewhere = post_factory(editor, campaign_factory(editor, name="Grippe"), targets=[linkedin], title="Grippe")
    posts = [approved, scheduled, in_review, draft, withdrawn, elsewhere]
    before = {}
    for post in posts:
        post.refresh_from_db()
        before[post.pk] = (post.content_hash, post.approved_hash)

    campaign_update(campaign=heart_week, actor=editor, data={"purpose": "fundraising"})

    for post in (approved, scheduled, in_review):
        assert_review_restarted(post, approved_hash=before[post.pk][1])
    for post in (approved, scheduled, in_review, draft):
        post.refresh_from_db()
        assert post.current_revision is not None and post.current_revision.content["purpose"] == "fundraising"
        assert post.content_hash == content_hash(content_snapshot(post))
    assert draft.status == PostStatus.DRAFT and draft.content_hash != before[draft.pk][0]
    superseded = ReviewRound.objects.filter(post=in_review, status=RoundStatus.SUPERSEDED)
    assert [review_round.content_hash for review_round in superseded] == [before[in_review.pk][0]]
    for post in (withdrawn, elsewhere):  # nothing to review again: ended, or another campaign
        post.refresh_from_db()
        assert (post.content_hash, post.revisions.count()) == (before[post.pk][0], 1)


def test_no_stage_approves_a_story_again_once_the_new_purpose_is_outside_the_consent(
    editor: Any,
    heart_week: Campaign,
    linkedin: Any,
    stage_reviewers: dict[str, Any],
    subject_factory: Any,
    record_factory: Any,
) -> None:
    anna = subject_factory(display_name="Anna Łukasiewicz")
    record = record_factory(anna, purposes=["education"])
    post = post_create(
        actor=editor,
        campaign=heart_week,
        data={"body": "Anna lief nach ihrer Herz-OP ihre ersten 5 km.", "content_type": "patient_story"},
        targets=[TargetSpec(account=linkedin)],
        featured=[FeatureSpec(subject=anna, consent=record, media_kinds=("story",))],
        scheduled_at=in_days(3),
    )
    post = post_schedule(post=approve_all(post, editor, stage_reviewers), actor=editor)

    campaign_update(campaign=heart_week, actor=editor, data={"purpose": "fundraising"})

    assert_review_restarted(post, approved_hash=post.approved_hash)
    run = current_stage_run(post=post)
    assert run is not None
    with pytest.raises(ValidationError, match="purpose"):
        decision_record(stage_run=run, reviewer=stage_reviewers[roles.MEDICAL_REVIEWER], verdict=Verdict.APPROVE)


def test_the_same_purpose_saved_again_changes_no_revision(
    editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = approve_all(post_factory(editor, heart_week, targets=[linkedin], when=in_days(3)), editor, stage_reviewers)
    campaign_update(campaign=heart_week, actor=editor, data={"purpose": "education", "goal": "Mehr Vorsorge"})
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.is_approved_as_is and post.revisions.count() == 1


# Revisions from before the title was content ------------------------------------------------


def test_a_revision_in_the_old_format_keeps_its_hash_and_its_approval(
    editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = approve_all(
        post_factory(editor, heart_week, targets=[linkedin], when=in_days(3), title=TITLE), editor, stage_reviewers
    )
    post = legacy(post)
    assert post.current_revision is not None and "v" not in post.current_revision.content
    old_hash, revisions = post.content_hash, post.revisions.count()
    assert post.is_approved_as_is

    post_update(post=post, actor=editor, data={"body": post.body, "title": TITLE})
    post_move(post=post, actor=editor, scheduled_at=in_days(4))
    post = post_schedule(post=post, actor=editor)

    assert post.status == PostStatus.SCHEDULED and post.is_approved_as_is
    assert (post.content_hash, post.revisions.count()) == (old_hash, revisions)


@pytest.mark.parametrize(
    "change", [{"data": {"title": NEW_TITLE}}, {"data": {"body": "Neuer Text."}}], ids=["title", "body"]
)
def test_a_change_to_a_post_approved_in_the_old_format_makes_a_new_format_revision(
    change: dict[str, Any],
    editor: Any,
    heart_week: Campaign,
    linkedin: Any,
    post_factory: Any,
    stage_reviewers: dict[str, Any],
) -> None:
    post = approve_all(
        post_factory(editor, heart_week, targets=[linkedin], when=in_days(3), title=TITLE), editor, stage_reviewers
    )
    post = legacy(post)
    approved_hash = post.approved_hash

    post_update(post=post, actor=editor, **change)

    assert_review_restarted(post, approved_hash=approved_hash)
    assert post.current_revision is not None and post.current_revision.content["v"] == SNAPSHOT_VERSION


def test_a_purpose_change_gives_posts_in_the_old_format_a_new_revision(
    editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any, stage_reviewers: dict[str, Any]
) -> None:
    post = legacy(approve_all(post_factory(editor, heart_week, targets=[linkedin]), editor, stage_reviewers))
    approved_hash = post.approved_hash
    campaign_update(campaign=heart_week, actor=editor, data={"purpose": "marketing"})
    assert_review_restarted(post, approved_hash=approved_hash)
    assert post.current_revision is not None and post.current_revision.content["purpose"] == "marketing"


# Stale saves --------------------------------------------------------------------------------


def test_a_stale_save_names_a_title_change_from_the_revisions(
    editor: Any, other_editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any
) -> None:
    post = post_factory(editor, heart_week, targets=[linkedin], title=TITLE)
    seen = version_of(model=Post, pk=post.pk)
    post_update(post=post, actor=editor, data={"title": NEW_TITLE})

    with pytest.raises(StaleVersion) as caught:
        post_update(post=post, actor=editor, data={"body": "Meine Fassung."}, expected_version=seen)

    assert [(c.label, c.old, c.new) for c in caught.value.changes] == [("Internal title", TITLE, NEW_TITLE)]
    assert post.revisions.count() == 2  # the notice reads the two revisions, no event of its own


def test_a_stale_save_names_a_title_change_of_a_post_in_the_old_format_once(
    editor: Any, heart_week: Campaign, linkedin: Any, post_factory: Any
) -> None:
    post = legacy(post_factory(editor, heart_week, targets=[linkedin], title=TITLE))
    seen = version_of(model=Post, pk=post.pk)
    post_update(post=post, actor=editor, data={"title": NEW_TITLE})

    with pytest.raises(StaleVersion) as caught:
        post_update(post=post, actor=editor, data={"body": "Meine Fassung."}, expected_version=seen)

    # The old snapshot never held the title; its change shows once, and nothing else seems changed.
    assert [(c.label, c.old, c.new) for c in caught.value.changes] == [("Internal title", TITLE, NEW_TITLE)]
