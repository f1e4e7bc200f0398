"""The review journeys of issue 3 in a real browser: submit, three stages approve from their inboxes, schedule."""

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import Decision, ReviewChain, ReviewRound, RoundStatus, Verdict
from approvals.policy import current_stage_run
from posts.models import PostStatus
from tests.conftest import browser_context, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them.

    serialized_rollback restores them when this module runs alone, but not in every mixed session.
    """
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


@contextmanager
def logged_in(browser: Any, live_server: Any, username: str) -> Iterator[Any]:
    """A fresh browser context (own cookies) logged in as ``username``."""
    with browser_context(browser, live_server) as context:
        page = context.new_page()
        browser_login(page, username)
        yield page


@pytest.fixture
def journey_post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    # Four hashtags strain LinkedIn's advice of three: a finding Legal must acknowledge.
    return post_factory(
        editor,
        review_campaign,
        title="Flu jab clinic",
        targets=[account_factory("facebook"), account_factory("linkedin")],
        when=timezone.now() + dt.timedelta(days=6),
        hashtags=["flu", "vaccine", "winter", "health"],
    )


def submit_from_detail(page: Any, post: Any) -> None:
    page.goto(f"/posts/{post.pk}/")
    page.get_by_role("button", name="Submit for review").click()
    page.locator(".messages").get_by_text("Submitted for review.").wait_for()
    assert page.locator("[data-status]").first.get_attribute("data-status") == PostStatus.IN_REVIEW


def open_from_inbox(page: Any, post: Any) -> None:
    page.get_by_role("link", name="My reviews").click()
    page.wait_for_url("**/reviews/")
    page.get_by_role("link", name=post.title).click()
    page.wait_for_url(f"**/reviews/posts/{post.pk}/")


def test_journey_submit_three_stages_approve_from_their_inbox_then_schedule(
    page: Any, browser: Any, live_server: Any, journey_post: Any, reviewers: dict[str, Any]
) -> None:
    browser_login(page, "editor")
    submit_from_detail(page, journey_post)

    for username, stage in [
        ("medical", "Medical review"),
        ("legal", "Legal review"),
        ("comms", "Communications review"),
    ]:
        with logged_in(browser, live_server, username) as reviewer_page:
            assert reviewer_page.locator("[data-review-count]").inner_text().startswith("1")
            open_from_inbox(reviewer_page, journey_post)
            boxes = reviewer_page.locator('input[name="acknowledged"]')
            if username == "legal":
                assert boxes.count() >= 1
                reviewer_page.get_by_role("button", name="Approve").click()
                # The browser refuses the form until every finding is ticked.
                assert reviewer_page.url.endswith(f"/reviews/posts/{journey_post.pk}/")
                assert not Decision.objects.filter(reviewer=reviewers["legal"]).exists()
                for index in range(boxes.count()):
                    boxes.nth(index).check()
            else:
                assert boxes.count() == 0
            reviewer_page.get_by_role("button", name="Approve").click()
            reviewer_page.get_by_text(f"You approved “{stage}”.").wait_for()

    journey_post.refresh_from_db()
    assert journey_post.status == PostStatus.APPROVED
    assert Decision.objects.filter(verdict=Verdict.APPROVE).count() == 3
    page.goto(f"/posts/{journey_post.pk}/")
    page.get_by_role("button", name="Schedule").click()
    page.locator(".messages").get_by_text("The post is scheduled.").wait_for()
    badge = page.locator("[data-status]").first
    assert badge.get_attribute("data-status") == PostStatus.SCHEDULED
    assert badge.inner_text() == "Scheduled"
    journey_post.refresh_from_db()
    assert journey_post.status == PostStatus.SCHEDULED


def test_journey_legal_requests_changes_editor_edits_round_restarts_at_medical(
    page: Any, browser: Any, live_server: Any, journey_post: Any, reviewers: dict[str, Any]
) -> None:
    browser_login(page, "editor")
    submit_from_detail(page, journey_post)
    with logged_in(browser, live_server, "medical") as medical:
        open_from_inbox(medical, journey_post)
        medical.get_by_role("button", name="Approve").click()
        medical.get_by_text("You approved “Medical review”.").wait_for()
    with logged_in(browser, live_server, "legal") as legal:
        open_from_inbox(legal, journey_post)
        legal.get_by_role("button", name="Request changes").click()  # no comment: refused
        legal.get_by_text("a comment is required").wait_for()
        legal.get_by_label("Comment").fill("Name the clinic's opening hours.")
        legal.get_by_role("button", name="Request changes").click()
        legal.get_by_text("You requested changes").wait_for()
    journey_post.refresh_from_db()
    assert journey_post.status == PostStatus.CHANGES_REQUESTED

    page.goto(f"/posts/{journey_post.pk}/")
    page.get_by_text("Name the clinic's opening hours.").first.wait_for()
    page.goto(f"/posts/{journey_post.pk}/edit/")
    page.get_by_label("Text", exact=True).fill("Flu jabs: Monday to Friday, 8 to 12, in the main hall.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(f"**/posts/{journey_post.pk}/")
    page.get_by_role("button", name="Submit for review").click()
    page.locator(".messages").get_by_text("Submitted for review.").wait_for()

    journey_post.refresh_from_db()
    assert journey_post.status == PostStatus.IN_REVIEW
    assert current_stage_run(post=journey_post).stage.name == "Medical review"  # type: ignore[union-attr]
    statuses = list(
        ReviewRound.objects.filter(post=journey_post).order_by("submitted_at").values_list("status", flat=True)
    )
    assert statuses == [RoundStatus.CHANGES_REQUESTED, RoundStatus.IN_PROGRESS]
    with logged_in(browser, live_server, "medical") as medical:
        open_from_inbox(medical, journey_post)
        diff = medical.locator(".review-diff")
        assert "Monday to Friday" in diff.inner_text()
        assert medical.get_by_role("button", name="Approve").is_visible()


def test_journey_legal_rejects_a_published_crisis_post_from_their_inbox(
    page: Any,
    browser: Any,
    live_server: Any,
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Any,
) -> None:
    from approvals.models import StageRun, StageStatus
    from tests.approvals.test_after_publication import publish_crisis

    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    post = publish_crisis(
        editor=editor,
        campaign=review_campaign,
        account=account_factory("facebook"),
        post_factory=post_factory,
        reviewers=reviewers,
    )
    with logged_in(browser, live_server, "legal") as legal:
        legal.get_by_role("link", name="My reviews").click()
        legal.wait_for_url("**/reviews/")
        row = legal.locator("tr", has_text=post.title)
        assert "After publishing" in row.inner_text()
        open_from_inbox(legal, post)
        legal.get_by_label("Comment").fill("The notice must name the on-call GP service, not 112.")
        legal.get_by_role("button", name="Reject").click()
        legal.get_by_text("You rejected the post; the author has been told.").wait_for()
        legal.get_by_role("link", name="My reviews").click()
        legal.wait_for_url("**/reviews/")
        assert legal.locator("tr", has_text=post.title).count() == 0

    run = StageRun.objects.get(round__post=post, stage__after_publication=True)
    assert run.status == StageStatus.REJECTED
    assert Decision.objects.get(stage_run=run).reviewer == reviewers["legal"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    browser_login(page, "editor")  # the author sees Legal's verdict on the review page
    page.goto(f"/reviews/posts/{post.pk}/")
    stage = page.locator('[data-stage-status="rejected"]')
    assert stage.get_attribute("data-stage") == run.stage.name
    assert "Rejected" in stage.inner_text()
    assert page.get_by_text("The notice must name the on-call GP service, not 112.").count() >= 1
    assert page.locator(".review-decision-form").count() == 0
