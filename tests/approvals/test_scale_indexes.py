"""The indexes that keep the review inbox's stage and re-certification queries and the calendar's
month as fast with a million posts as with two thousand (docs/operations.md, "Capacity"; measured by bench/scale.py).

The first test runs on every database of the suite; the plan tests need PostgreSQL's planner. A
test database is small, so a sequential scan is the cheapest plan there whatever the indexes:
the plan tests turn sequential scans off and check that what remains reads the big tables
through an index rather than whole.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from approvals.expiry import recertification_candidates
from approvals.selectors import stage_runs_awaiting
from posts.models import Post
from posts.selectors import posts_for_calendar_cards
from tests.races import need_postgresql

# table: the leading columns of the indexes the two pages read it by
INDEXES = {
    "approvals_stagerun": [["status"], ["round_id", "stage_id"]],  # the open stages; a round's stages
    "approvals_reviewround": [["post_id"]],  # the round in progress of a post (partial, unique)
    "approvals_decision": [["stage_run_id", "reviewer_id"]],  # has this reviewer decided
    "posts_revision": [["post_id", "number"]],  # did this reviewer write a revision
    "posts_post": [["scheduled_at"], ["campaign_id", "scheduled_at"], ["recertify_due_at"]],  # month; due posts
    "posts_posttarget": [["post_id", "account_id"]],  # the cards' targets
}


@pytest.mark.django_db
def test_the_indexes_of_the_inbox_and_the_calendar_exist() -> None:
    with connection.cursor() as cursor:
        for table, wanted in INDEXES.items():
            found = [
                details["columns"]
                for details in connection.introspection.get_constraints(cursor, table).values()
                if details["index"] or details["unique"]
            ]
            for columns in wanted:
                assert columns in found, (table, columns, found)


def _plan(queryset: QuerySet[Any]) -> str:
    """Return PostgreSQL's plan of ``queryset`` with sequential scans turned off (for this transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db
def test_the_inbox_reads_open_stages_through_an_index(reviewers: dict[str, Any], submitted_post: Post) -> None:
    need_postgresql()

    plan = _plan(stage_runs_awaiting(user=reviewers["medical"]))

    for table in ("approvals_stagerun", "approvals_reviewround", "posts_post", "approvals_decision"):
        assert f"Seq Scan on {table}" not in plan, plan


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db
def test_the_calendar_month_reads_posts_by_their_time(editor: Any, submitted_post: Post) -> None:
    need_postgresql()
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    plan = _plan(posts_for_calendar_cards(user=editor, start=start, end=start + dt.timedelta(days=42)))

    assert "Seq Scan on posts_post" not in plan, plan
    assert any("Index Cond" in line and "scheduled_at" in line for line in plan.splitlines()), plan


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db
def test_the_posts_due_for_recertification_are_read_by_their_due_moments_index() -> None:
    need_postgresql()

    plan = _plan(recertification_candidates(due_by=timezone.now()))

    assert "post_recertify_due_idx" in plan, plan
    assert "Seq Scan" not in plan and "approvals_" not in plan, plan
