"""The navigation's counts are cached until the next state change: counted once while nothing changes,
counted again as soon as something does (audit.selectors.state_cached)."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from approvals.services import round_submit
from audit.selectors import state_cached, state_version
from audit.services import event_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings: Any) -> None:
    settings.ROUNDS_STATE_CACHE_SECONDS = 60


def test_a_cached_value_is_computed_again_only_after_an_audit_event(editor: Any, campaign: Any) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert state_cached("probe", compute) == 1
    assert state_cached("probe", compute) == 1
    before = state_version()
    event_record(actor=editor, action="campaign.updated", obj=campaign)
    assert state_version() > before
    assert state_cached("probe", compute) == 2


def _badge(client: Client) -> str:
    page = client.get("/calendar/").content.decode()
    start = page.find("data-review-count>")
    return page[start : page.find("<", start + 18)] if start >= 0 else ""


def test_the_review_badge_is_counted_once_and_follows_a_submission_at_once(
    editor: Any, reviewers: dict[str, Any], review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    client = Client()
    client.force_login(reviewers["medical"])
    assert _badge(client) == ""
    with CaptureQueriesContext(connection) as first:
        client.get("/calendar/")
    with CaptureQueriesContext(connection) as second:
        client.get("/calendar/")
    counting = [q["sql"] for q in second.captured_queries if "approvals_stagerun" in q["sql"]]
    assert counting == [], f"nothing changed, yet the stages were counted again: {counting}"
    assert len(second) <= len(first)

    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")])
    round_submit(post=post, actor=editor)
    assert _badge(client) == "data-review-count>1", "the submission shows in the badge at once"
