"""Prepared statements on PostgreSQL (core/database.py): repeated queries are prepared, long ones still run."""

from typing import Any

import pytest
from django.db import connection

from posts.models import Campaign, Post
from tests.races import need_postgresql

pytestmark = [pytest.mark.postgres, pytest.mark.pg_suite]


def _prepared_statements() -> list[str]:
    """Return the statements this connection has prepared (PostgreSQL's own view of the session)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_query_a_connection_repeats_is_prepared_once_and_answers_the_same(
    post_factory: Any, editor: Any, campaign: Campaign
) -> None:
    need_postgresql()
    post = post_factory(editor, campaign, title="Grippeschutz für Ältere: 0221 478-0")
    prepared_before = [text for text in _prepared_statements() if '"posts_post"."title" =' in text]

    # A filter no other code writes, so the statement is this test's alone.
    answers = [
        list(Post.objects.filter(title=post.title, campaign_id=campaign.pk).values_list("pk", flat=True))
        for _ in range(7)
    ]

    assert prepared_before == []
    assert answers == [[post.pk]] * 7
    prepared = [text for text in _prepared_statements() if '"posts_post"."title" =' in text]
    assert len(prepared) == 1
    # The parameters went apart from the SQL: the prepared text holds placeholders, not the title.
    assert "$1" in prepared[0] and "Grippeschutz" not in prepared[0]


@pytest.mark.django_db
def test_a_statement_with_more_parameters_than_postgresql_binds_still_runs(
    post_factory: Any, editor: Any, campaign: Campaign
) -> None:
    # A pk__in list of 40,000 is over the protocol's 32,767 bound parameters: written into the SQL
    # as Django's default cursor does, values with quotes and percent signs included.
    need_postgresql()
    post = post_factory(editor, campaign, title="It's 100 %s sicher – 50 % weniger")
    others = post_factory(editor, campaign, title="Andere")
    wanted = [post.pk, *range(10_000_000, 10_040_000)]

    found = list(Post.objects.filter(pk__in=wanted, title="It's 100 %s sicher – 50 % weniger").values_list("pk"))
    updated = Post.objects.filter(pk__in=[others.pk, *range(20_000_000, 20_040_000)]).update(title="Geändert")

    assert found == [(post.pk,)]
    assert updated == 1
    assert dict(Post.objects.values_list("pk", "title")) == {
        post.pk: "It's 100 %s sicher – 50 % weniger",
        others.pk: "Geändert",
    }
    assert not any("10000000" in text for text in _prepared_statements())
