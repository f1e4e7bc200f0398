"""Deadlines in a browser: a compressed submit is confirmed; an overdue stage escalates to the deputy, who decides."""

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import Decision, ReviewChain, Verdict
from approvals.notifications import reminders_send
from approvals.policy import current_stage_run
from people.models import DeputyPeriod
from posts.models import PostStatus
from tests.conftest import browser_context, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


@contextmanager
def logged_in(browser: Any, live_server: Any, username: str) -> Iterator[Any]:
    with browser_context(browser, live_server) as context:
        page = context.new_page()
        browser_login(page, username)
        yield page


def test_journey_compressed_submit_then_the_overdue_stage_escalates_to_the_deputy_who_decides(
    browser: Any,
    live_server: Any,
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Grippeimpfung morgen früh",
        body="Morgen ab 8 Uhr impfen wir ohne Termin in Haus B 💉",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(hours=15),
    )

    # Dr. Medical goes on leave and names a colleague of the same group on the Deputies page.
    today = timezone.localdate()
    with logged_in(browser, live_server, "medical") as medical:
        medical.goto("/me/preferences/")
        medical.get_by_role("link", name="Deputies while you are away").click()
        medical.get_by_label("Deputy").select_option(label="medical2")
        medical.get_by_label("First day away").fill(today.isoformat())
        medical.get_by_label("Last day away").fill((today + dt.timedelta(days=7)).isoformat())
        medical.get_by_role("button", name="Save deputy").click()
        medical.locator(".messages").get_by_text("Your deputy is set.").wait_for()
    assert DeputyPeriod.objects.get().deputy == reviewers["medical2"]

    # The editor must confirm that the review gets less time than its turnarounds.
    with logged_in(browser, live_server, "editor") as page:
        page.goto(f"/posts/{post.pk}/")
        page.get_by_role("button", name="Submit for review").click()
        page.locator(".messages").get_by_text("The review needs 120.0 hours").wait_for()
        post.refresh_from_db()
        assert post.status == PostStatus.DRAFT
        page.get_by_label("I know the review has less time than its turnarounds").check()
        page.get_by_role("button", name="Submit for review").click()
        page.locator(".messages").get_by_text("Submitted for review.").wait_for()
    run = current_stage_run(post=post)
    assert run is not None and run.deadline is not None and run.deadline > timezone.now()  # due, not overdue

    # The reminder task runs after the deadline: it reminds, and escalates to the absent reviewer's deputy.
    reminders_send(now=run.deadline + dt.timedelta(minutes=5))

    with logged_in(browser, live_server, "medical2") as deputy:
        deputy.get_by_role("link", name="My reviews").click()
        deputy.wait_for_url("**/reviews/")
        row = deputy.locator(f'.review-inbox-row[data-post="{post.pk}"]')
        row.get_by_text("Escalated to you as deputy of medical").wait_for()
        row.get_by_role("link", name=post.title).click()
        deputy.wait_for_url(f"**/reviews/posts/{post.pk}/")
        deputy.get_by_role("button", name="Approve").click()
        deputy.get_by_text("You approved").wait_for()
    decision = Decision.objects.get(stage_run=run)
    assert (decision.reviewer, decision.verdict) == (reviewers["medical2"], Verdict.APPROVE)
