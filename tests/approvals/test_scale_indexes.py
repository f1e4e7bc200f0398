"""The indexes that keep the review inbox and the calendar as fast with a million posts as with
two thousand (docs/operations.md, "Capacity"; measured by bench/scale.py).

The first test runs on every database of the suite; the plan tests need PostgreSQL's planner. A
test database is small, so a sequential scan is the cheapest plan there whatever the indexes:
the plan tests turn sequential scans off and check that what remains starts from the index
rather than from a scan of the whole table.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from approvals.models import StageRun
from approvals.selectors import stage_runs_awaiting
from posts.models import Post
from posts.selectors import posts_for_calendar_cards
from tests.races import need_postgresql

# table: the indexes on it the two pages rely on
INDEXES = {
    "approvals_stagerun": {"stagerun_open_idx"},
    "posts_post": {"post_campaign_time_idx"},
    "posts_posttarget": {"posttarget_unique_account"},
    "approvals_decision": {"decision_one_per_reviewer"},
}


@pytest.mark.django_db
def test_the_indexes_of_the_inbox_and_the_calendar_exist() -> None:
    with connection.cursor() as cursor:
        for table, names in INDEXES.items():
            assert names <= set(connection.introspection.get_constraints(cursor, table)), table


def _plan(queryset: QuerySet[Any]) -> str:
    """Return PostgreSQL's plan of ``queryset`` with sequential scans turned off (for this transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db
def test_the_inbox_starts_from_the_open_stages_index(reviewers: dict[str, Any], submitted_post: Post) -> None:
    need_postgresql()
    assert StageRun.objects.filter(round__post=submitted_post, status="in_progress").exists()

    plan = _plan(stage_runs_awaiting(user=reviewers["medical"]))

    assert "stagerun_open_idx" in plan, plan
    assert "Seq Scan on approvals_stagerun" not in plan, plan


@pytest.mark.postgres
@pytest.mark.pg_suite
@pytest.mark.django_db
def test_the_calendar_month_reads_posts_by_their_time(editor: Any, submitted_post: Post) -> None:
    need_postgresql()
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    plan = _plan(posts_for_calendar_cards(user=editor, start=start, end=start + dt.timedelta(days=42)))

    assert "Seq Scan on posts_post" not in plan, plan
