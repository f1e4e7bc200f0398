# ruff: noqa: F811  (the fixtures of test_publishing.py are imported by name)
"""What goes out is the approved revision: its title too, and only for the purpose it was reviewed for.

The title reaches YouTube, TikTok and LinkedIn and every webhook and outbox payload; the
campaign's purpose decides whether a consent covers the post. Both are in the revision and its
hash (posts.content), so the send gate refuses a post whose title or purpose changed since the
review chain approved it, and the payload is read from the revision.
"""

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from posts.content import content_hash, content_snapshot
from posts.models import Campaign, Post, PostStatus, Revision
from posts.services import campaign_update, post_update
from publishing.models import Publication
from publishing.models import PublicationStatus as P
from publishing.services import publication_retry, publication_send, publications_claim_due
from tests.posts.fakeplatform import FakePlatform
from tests.publishing.test_publishing import (  # noqa: F401  (fixtures)
    _publishing_settings,
    approve_all,
    at,
    fake,
    flu,
    hook,
    outbox_files,
    pub,
    reviewers,
    run_pass,
    scheduled,
    story,
)

pytestmark = pytest.mark.django_db

TITLE = "Herz & Kreislauf: Tag der offenen Tür 💙"
LEAK = "Frau Müller, Zimmer 12, Station 4B – geb. 03.04.1961"


def test_the_webhook_and_the_outbox_send_the_approved_revisions_title(
    scheduled: Any, hook: Any, fake: FakePlatform, account_factory: Any, time_machine: Any, run_pass: Any, settings: Any
) -> None:
    post = scheduled([hook, account_factory("linkedin")], title=TITLE)
    assert post.current_revision.content["title"] == TITLE
    time_machine.move_to(at(post), tick=False)
    run_pass()

    (received,) = fake.received
    (document,) = [json.loads(path.read_text()) for path in outbox_files(settings)]
    assert received.json["title"] == document["title"] == TITLE
    assert {publication.status for publication in Publication.objects.filter(post=post)} == {P.CONFIRMED}


def test_a_title_edited_behind_the_services_back_never_goes_out(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook], title=TITLE)
    Post.objects.filter(pk=post.pk).update(title=LEAK)
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.BLOCKED and "approved" in publication.last_error
    assert fake.received == []
    post.refresh_from_db()
    assert post.status == PostStatus.BLOCKED


def test_a_title_edit_after_scheduling_takes_the_post_back_to_review(
    scheduled: Any, editor: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook], title=TITLE)
    time_machine.move_to(post.scheduled_at - dt.timedelta(seconds=1), tick=False)
    post_update(post=post, actor=editor, data={"title": LEAK})

    assert pub(post).status == P.CANCELLED
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and not post.is_approved_as_is
    time_machine.move_to(at(post), tick=False)
    assert run_pass()["claimed"] == 0
    assert fake.received == []


def test_a_title_edited_while_a_worker_holds_the_claim_never_goes_out(
    scheduled: Any, editor: Any, hook: Any, fake: FakePlatform, time_machine: Any
) -> None:
    post = scheduled([hook], title=TITLE)
    time_machine.move_to(at(post), tick=False)
    (claim,) = publications_claim_due()
    post_update(post=post, actor=editor, data={"title": LEAK})

    assert publication_send(claim.publication_id, claim.token) == "stale"
    assert fake.received == []


def test_a_campaign_purpose_change_after_scheduling_takes_the_post_back_to_review(
    story: Any,
    editor: Any,
    flu: Campaign,
    hook: Any,
    fake: FakePlatform,
    subject_factory: Any,
    record_factory: Any,
    time_machine: Any,
    run_pass: Any,
) -> None:
    anna = subject_factory(display_name="Anna")
    # The consent covers the new purpose too: review decides that, not the consent gate alone.
    record = record_factory(anna, purposes=["education", "fundraising"])
    post = story(anna, record, hook)
    campaign_update(campaign=flu, actor=editor, data={"purpose": "fundraising"})

    assert pub(post).status == P.CANCELLED
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and not post.is_approved_as_is
    assert post.current_revision is not None and post.current_revision.content["purpose"] == "fundraising"
    time_machine.move_to(at(post), tick=False)
    assert run_pass()["claimed"] == 0
    assert fake.received == []


def test_a_purpose_changed_behind_the_services_back_never_goes_out(
    scheduled: Any, flu: Campaign, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook], title=TITLE)
    Campaign.objects.filter(pk=flu.pk).update(purpose="fundraising")
    time_machine.move_to(at(post), tick=False)
    run_pass()

    assert pub(post).status == P.BLOCKED
    assert fake.received == []


def test_a_failed_target_is_not_retried_for_a_purpose_nobody_approved(
    scheduled: Any,
    editor: Any,
    flu: Campaign,
    hook: Any,
    fake: FakePlatform,
    reviewers: dict[str, Any],
    time_machine: Any,
    run_pass: Any,
) -> None:
    post = scheduled([hook], title=TITLE)
    fake.fail_next("422")
    time_machine.move_to(at(post), tick=False)
    run_pass()
    assert pub(post).status == P.FAILED
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED

    campaign_update(campaign=flu, actor=editor, data={"purpose": "fundraising"})

    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and post.revisions.count() == 1  # went out in part: its revision stays
    with pytest.raises(ValidationError, match="approved"):
        publication_retry(publication=pub(post), actor=reviewers["comms"])
    assert len(fake.received) == 1


def test_a_post_approved_before_the_title_was_content_still_goes_out(
    scheduled: Any, hook: Any, fake: FakePlatform, time_machine: Any, run_pass: Any
) -> None:
    post = scheduled([hook], title=TITLE)
    # As a revision stored before snapshot format 2: approved, and its publications opened, for that hash.
    snapshot = content_snapshot(post, version=1)
    revision = Revision.objects.create(
        post=post, number=2, content=snapshot, content_hash=content_hash(snapshot), created_by=post.author
    )
    Post.objects.filter(pk=post.pk).update(current_revision=revision, approved_hash=revision.content_hash)
    Publication.objects.filter(post=post).update(content_hash=revision.content_hash)
    time_machine.move_to(at(post), tick=False)
    run_pass()

    publication = pub(post)
    assert publication.status == P.CONFIRMED and publication.content_hash == revision.content_hash
    (received,) = fake.received
    assert received.json["title"] == TITLE  # the old format holds no title: the post's, unchanged since
