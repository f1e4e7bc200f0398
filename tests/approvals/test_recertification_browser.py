"""Re-certification in a real browser: a post published over a year ago is due; Medical withdraws it."""

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from approvals.expiry import months_add
from approvals.models import Recertification, RecertificationOutcome, ReviewChain, ReviewRound, RoundStatus
from approvals.services import recertification_due_refresh
from posts.models import PostStatus
from publishing.models import TakedownCause, TakedownItem
from tests.approvals.test_expiry import make_published
from tests.approvals.test_review_browser import logged_in
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REASON = "Die Empfehlung ist überholt (neue RKI-Leitlinie 2026); bitte nicht mehr zeigen."


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


@pytest.fixture
def old_post(
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
    settings: Any,
    tmp_path: Path,
) -> Any:
    """An education post published on Facebook, approved 13 months ago by a chain that re-certifies yearly."""
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    post = make_published(
        editor=editor,
        campaign=review_campaign,
        accounts=[account_factory("facebook")],
        post_factory=post_factory,
        reviewers=reviewers,
    )
    ReviewChain.objects.filter(is_default=True).update(recertify_months=12)
    ReviewRound.objects.filter(post=post, status=RoundStatus.APPROVED).update(
        finished_at=months_add(timezone.now(), -13) - dt.timedelta(days=1)
    )
    recertification_due_refresh(post_ids=[post.pk])  # the approval dated back: so is its due moment
    mail.outbox.clear()
    return post


def test_medical_withdraws_a_post_due_for_recertification_and_the_takedown_is_listed(
    page: Any, browser: Any, live_server: Any, old_post: Any, reviewers: dict[str, Any]
) -> None:
    browser_login(page, "medical")
    page.get_by_role("link", name="My reviews").click()
    page.wait_for_url("**/reviews/")
    section = page.get_by_role("region", name="Due for re-certification")
    item = section.locator(f'[data-post="{old_post.pk}"]')
    item.get_by_role("link", name=old_post.title).wait_for()
    item.get_by_label("Reason (signed with your name)").fill(REASON)
    item.get_by_label("I understand that withdrawing cannot be undone", exact=False).check()
    item.get_by_role("button", name="Withdraw").click()
    page.locator(".messages").get_by_text("You withdrew the post").wait_for()
    assert page.locator(f'.recertification-item[data-post="{old_post.pk}"]').count() == 0

    recertification = Recertification.objects.get(post=old_post)
    assert recertification.outcome == RecertificationOutcome.WITHDRAW
    assert (recertification.reviewer, recertification.reason) == (reviewers["medical"], REASON)
    old_post.refresh_from_db()
    assert old_post.status == PostStatus.PUBLISHED and old_post.approved_hash == ""
    item_row = TakedownItem.objects.get(post=old_post)
    assert item_row.cause == TakedownCause.RECERTIFICATION_WITHDRAWN

    with logged_in(browser, live_server, "comms") as comms_page:
        comms_page.goto(reverse("publishing:publishing"))
        row = comms_page.locator(f'tr[data-takedown="{item_row.pk}"]')
        row.wait_for()
        assert row.locator(".takedown-cause").get_attribute("data-cause") == TakedownCause.RECERTIFICATION_WITHDRAWN
        assert "Withdrawn at re-certification" in row.inner_text()
        assert REASON in comms_page.content()
