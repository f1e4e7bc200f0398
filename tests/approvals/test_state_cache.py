"""The navigation's counts are cached until the next state change: counted once while nothing changes,
counted again as soon as something does (audit.selectors.state_cached)."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, round_submit
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


def _state_checks(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]


@pytest.mark.parametrize("who", ["editor", "medical"])
def test_every_page_checks_the_state_once_for_all_its_menu_counts(
    who: str, editor: Any, reviewers: dict[str, Any], review_campaign: Any, settings: Any
) -> None:
    # review_campaign: both see a campaign, so the counts have rows to count (none: no query at all).
    client = Client()
    client.force_login(editor if who == "editor" else reviewers["medical"])
    client.get(reverse("people:preferences"))
    with CaptureQueriesContext(connection) as cached:
        client.get(reverse("people:preferences"))
    checks = _state_checks(cached)
    assert len(checks) == 1, "the review, attention and publishing counts share one state check"
    assert "people_notice" in checks[0], "the unread notices are counted in the same query"
    assert len([q for q in cached.captured_queries if "people_notice" in q["sql"]]) == 1
    assert not [q for q in cached.captured_queries if "approvals_stagerun" in q["sql"]]

    settings.ROUNDS_STATE_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as counted:
        client.get(reverse("people:preferences"))
    counting = [q["sql"] for q in counted.captured_queries if "approvals_stagerun" in q["sql"]]
    assert len(counting) == 1, f"every menu count is one query's column: {counting}"


def test_an_approval_drops_the_reviewers_badge_at_the_next_page(
    editor: Any, reviewers: dict[str, Any], review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(editor, review_campaign, targets=[account_factory("facebook")], title="Grippeimpfung 2026")
    round_submit(post=post, actor=editor)
    client = Client()
    client.force_login(reviewers["medical"])
    assert _badge(client) == "data-review-count>1"
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)
    assert _badge(client) == "", "the approved stage left the reviewer's count at the next page"


@pytest.mark.django_db(transaction=True)  # nothing is kept from inside a transaction (people.rights)
def test_the_groups_that_review_are_kept_until_a_chain_changes(reviewers: dict[str, Any], governance: Any) -> None:
    from approvals.models import ReviewChain
    from approvals.policy import CommentPolicy
    from approvals.services import chain_save
    from people.models import User

    medical = reviewers["medical"]
    medical_group = medical.groups.get().pk

    def next_request_sees() -> frozenset[int]:
        return CommentPolicy(User.objects.get(pk=medical.pk)).reviewer_group_ids  # a fresh user, as a request has

    assert next_request_sees() == {medical_group}
    with CaptureQueriesContext(connection) as again:
        assert next_request_sees() == {medical_group}
    assert not [q["sql"] for q in again.captured_queries if "approvals_reviewstage" in q["sql"]]
    for chain in ReviewChain.objects.filter(active=True, stages__group_id=medical_group).distinct():
        chain.active = False
        chain_save(chain=chain, actor=governance)  # audited: a new state version
    assert next_request_sees() == frozenset(), "a chain switched off is seen by the next request"
