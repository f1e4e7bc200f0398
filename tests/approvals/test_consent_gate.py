"""Invariant 2 across apps: featured people need consent at submission, approval, scheduling; revocation blocks."""

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals.models import ReviewRound, RoundStatus, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from consent.policy import VIEW_DOCUMENT, ConsentPolicy
from consent.services import consent_revoke
from posts.models import Post, PostStatus
from posts.services import FeatureSpec, post_schedule, post_transition, post_update
from publishing.models import TakedownItem

pytestmark = pytest.mark.django_db


def approve_all(post: Any, reviewers: dict[str, Any]) -> None:
    order = ["medical", "legal", "comms"]
    for name in order:
        run = current_stage_run(post=post)
        assert run is not None
        decision_record(
            stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
        )
        post.refresh_from_db()


@pytest.fixture
def story(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    return post_factory(
        editor,
        review_campaign,
        targets=[account_factory("facebook"), account_factory("linkedin")],
        when=timezone.now() + dt.timedelta(days=5),
        content_type="patient_story",
        body="Anna ran her first 5k after heart surgery.",
    )


def feature(post: Any, editor: Any, subject: Any, record: Any, kinds: tuple[str, ...] = ("photo", "story")) -> Any:
    return post_update(
        post=post, actor=editor, featured=[FeatureSpec(subject=subject, consent=record, media_kinds=kinds)]
    )


def test_patient_story_without_featured_person_cannot_be_submitted(editor: Any, story: Any) -> None:
    with pytest.raises(ValidationError, match="patient story"):
        round_submit(post=story, actor=editor)
    story.refresh_from_db()
    assert story.status == PostStatus.DRAFT


def test_consent_outside_scope_stops_submission(
    editor: Any, story: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory(display_name="Anna")
    record = record_factory(anna, all_platforms=False, platforms=["facebook"])
    feature(story, editor, anna, record)

    with pytest.raises(ValidationError, match="linkedin"):
        round_submit(post=story, actor=editor)


def test_unverified_consent_stops_submission(
    editor: Any, story: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory()
    feature(story, editor, anna, record_factory(anna, verify=False))

    with pytest.raises(ValidationError, match="verified"):
        round_submit(post=story, actor=editor)


def test_revocation_during_review_stops_the_next_approval(
    editor: Any, story: Any, reviewers: dict[str, Any], officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory()
    record = record_factory(anna)
    feature(story, editor, anna, record)
    round_submit(post=story, actor=editor)
    run = current_stage_run(post=story)
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)

    consent_revoke(record=record, actor=officer, received_via="email", reason="Withdrawn by phone, confirmed")

    story.refresh_from_db()
    assert story.status == PostStatus.BLOCKED
    assert not ReviewRound.objects.filter(post=story, status=RoundStatus.IN_PROGRESS).exists()
    assert ReviewRound.objects.filter(post=story, status=RoundStatus.CANCELLED).count() == 1


def test_revoking_blocks_scheduled_post_in_the_same_transaction_and_tells_people(
    editor: Any,
    story: Any,
    reviewers: dict[str, Any],
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    anna = subject_factory()
    record = record_factory(anna)
    feature(story, editor, anna, record)
    round_submit(post=story, actor=editor)
    story.refresh_from_db()
    approve_all(story, reviewers)
    post_schedule(post=story, actor=editor)
    story.refresh_from_db()
    assert story.status == PostStatus.SCHEDULED
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(record=record, actor=officer, received_via="letter", reason="No longer wishes to appear")

    story.refresh_from_db()
    assert story.status == PostStatus.BLOCKED
    event = AuditEvent.objects.filter(action="post.status_changed", object_id=str(story.pk)).order_by("-seq").first()
    assert event is not None
    assert event.changes["status"] == ["scheduled", "blocked"]
    assert event.actor == officer
    assert sorted(m.to[0] for m in mail.outbox) == sorted([editor.email, reviewers["comms"].email])


def test_no_subject_line_quotes_an_untitled_patient_story(
    editor: Any,
    story: Any,
    reviewers: dict[str, Any],
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The story has no internal title: its text ("Anna ran her first 5k ...") names the patient.
    assert story.title == "" and str(story).startswith("Anna")
    anna = subject_factory(display_name="Anna")
    record = record_factory(anna)
    feature(story, editor, anna, record)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        round_submit(post=story, actor=editor)
    story.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        approve_all(story, reviewers)
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(record=record, actor=officer, received_via="letter", reason="No longer wishes to appear")

    subjects = {message.subject for message in mail.outbox}
    assert {
        f"Review needed: post #{story.pk}",
        f"Post #{story.pk}: Approved",
        f"Blocked: post #{story.pk} will not be published",
    } <= subjects
    assert not [subject for subject in subjects if "Anna" in subject]
    assert any("Anna ran her first 5k" in message.body for message in mail.outbox)  # the body may say what it is


def test_scheduling_checks_consent_at_the_scheduled_date(
    editor: Any, story: Any, reviewers: dict[str, Any], subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory()
    record = record_factory(anna, expires_on=timezone.localdate() + dt.timedelta(days=10))
    feature(story, editor, anna, record)
    round_submit(post=story, actor=editor)
    story.refresh_from_db()
    approve_all(story, reviewers)
    # Moving the date keeps the approval, but the consent ends before the new date.
    story = post_update(post=story, actor=editor, scheduled_at=timezone.now() + dt.timedelta(days=30))
    assert story.is_approved_as_is

    with pytest.raises(ValidationError, match="expires"):
        post_schedule(post=story, actor=editor)
    story.refresh_from_db()
    assert story.status == PostStatus.APPROVED


def test_revoking_a_published_posts_consent_lists_takedowns(
    editor: Any, story: Any, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    from django.db import transaction

    anna = subject_factory()
    record = record_factory(anna)
    feature(story, editor, anna, record)
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=story.pk)
        for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED):
            post_transition(post=locked, to=status, actor=editor, reason="test history")

    consent_revoke(record=record, actor=officer, received_via="letter")

    story.refresh_from_db()
    assert story.status == PostStatus.PUBLISHED
    items = TakedownItem.objects.filter(post=story, consent=record)
    assert sorted(item.account.platform for item in items) == ["facebook", "linkedin"]
    assert all(item.confirmed_at is None for item in items)
    assert AuditEvent.objects.filter(action="takedown.created").count() == 2


def test_changing_featured_people_restarts_review(
    editor: Any, story: Any, reviewers: dict[str, Any], subject_factory: Any, record_factory: Any
) -> None:
    anna, ben = subject_factory(), subject_factory()
    feature(story, editor, anna, record_factory(anna))
    round_submit(post=story, actor=editor)
    story.refresh_from_db()
    first_hash = story.content_hash

    story = feature(story, editor, ben, record_factory(ben))

    assert story.content_hash != first_hash
    assert story.status == PostStatus.DRAFT or story.status == PostStatus.IN_REVIEW
    assert ReviewRound.objects.filter(post=story, status=RoundStatus.SUPERSEDED).count() == 1


def test_only_the_stage_deciding_the_post_reads_the_consent_form_while_it_decides(
    client: Any,
    editor: Any,
    story: Any,
    reviewers: dict[str, Any],
    viewer: Any,
    subject_factory: Any,
    record_factory: Any,
    governance: Any,
) -> None:
    """Issue 13: any reviewer assigned to the campaign read the form, in any state of the post."""
    from django.urls import reverse

    anna = subject_factory()
    record = record_factory(anna)
    feature(story, editor, anna, record)

    def readers() -> set[str]:
        chain = {name: reviewers[name] for name in ("medical", "legal", "comms")}
        people = {**chain, "editor": editor, "viewer": viewer, "governance": governance}
        return {name for name, user in people.items() if VIEW_DOCUMENT in ConsentPolicy(user).actions(record)}

    assert readers() == set()  # a draft: no stage decides yet
    round_submit(post=story, actor=editor)
    story.refresh_from_db()
    assert readers() == {"medical"}
    document = reverse("consent:document", args=[record.pk])
    client.force_login(reviewers["medical"])
    assert client.get(document).status_code == 200
    assert document in client.get(reverse("approvals:review", args=[story.pk])).content.decode()
    client.force_login(reviewers["legal"])
    assert client.get(document).status_code == 404
    assert document not in client.get(reverse("approvals:review", args=[story.pk])).content.decode()
    approve_all(story, reviewers)  # medical, legal, comms in turn
    assert readers() == set()  # approved: no stage decides any more
    client.force_login(reviewers["medical"])
    assert client.get(reverse("consent:document", args=[record.pk])).status_code == 404


def test_each_stage_reads_the_form_in_its_turn(
    editor: Any, story: Any, reviewers: dict[str, Any], subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory()
    record = record_factory(anna)
    feature(story, editor, anna, record)
    round_submit(post=story, actor=editor)
    story.refresh_from_db()
    chain = {name: reviewers[name] for name in ("medical", "legal", "comms")}
    for name in chain:
        assert {n for n, user in chain.items() if VIEW_DOCUMENT in ConsentPolicy(user).actions(record)} == {name}
        run = current_stage_run(post=story)
        assert run is not None
        decision_record(
            stage_run=run, reviewer=reviewers[name], verdict=Verdict.APPROVE, acknowledged=finding_keys(post=story)
        )
        story.refresh_from_db()


def test_an_editor_who_names_themself_reviewer_cannot_read_any_consent_form(
    client: Any, editor: Any, subject_factory: Any, record_factory: Any, officer: Any, post_factory: Any
) -> None:
    """Issue 13, finding 1, as reproduced on main: an editor's own campaign, themself as reviewer, any
    consent (a revoked one too) featured in a draft, and the signed form answered 200."""
    from django.urls import reverse

    from posts.services import campaign_create

    anna, ben = subject_factory(display_name="Anna"), subject_factory(display_name="Ben")
    live, revoked = record_factory(anna), record_factory(ben)
    consent_revoke(record=revoked, actor=officer, received_via="letter")
    with pytest.raises(ValidationError, match="reviewer group"):
        campaign_create(
            actor=editor,
            name="Meine Kampagne",
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + dt.timedelta(days=30),
            reviewers=[editor],
        )
    mine = campaign_create(
        actor=editor,
        name="Meine Kampagne",
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + dt.timedelta(days=30),
    )
    draft = post_factory(editor, mine, body="Entwurf: Annas Geschichte")
    for subject, record in ((anna, live), (ben, revoked)):
        post_update(
            post=draft, actor=editor, featured=[FeatureSpec(subject=subject, consent=record, media_kinds=("photo",))]
        )
        client.force_login(editor)
        assert client.get(reverse("consent:document", args=[record.pk])).status_code == 404
        assert client.get(reverse("consent:fhir", args=[record.pk])).status_code == 404


def test_subject_page_lists_the_posts_featuring_the_person(
    client: Any, editor: Any, story: Any, officer: Any, subject_factory: Any, record_factory: Any, admin_user: Any
) -> None:
    from django.urls import reverse

    anna = subject_factory(display_name="Anna")
    feature(story, editor, anna, record_factory(anna))
    link = reverse("posts:post_detail", args=[story.pk])

    # A Consent officer on no campaign's team sees which posts, without a link that would answer 404.
    client.force_login(officer)
    page = client.get(reverse("consent:subject_detail", args=[anna.pk])).content.decode()
    assert "Posts featuring this person" in page
    assert str(story) in page and link not in page
    assert client.get(link).status_code == 404

    # Someone who may open the post gets the link.
    client.force_login(admin_user)
    page = client.get(reverse("consent:subject_detail", args=[anna.pk])).content.decode()
    assert link in page
