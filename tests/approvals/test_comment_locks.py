"""A blocking comment and an approval at the same moment, on PostgreSQL with two real connections."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from approvals.comments import AnchorSpec, comment_add
from approvals.models import AnchorKind, ReviewStage, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record
from posts.models import Post
from tests.races import need_postgresql, race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.pg_suite,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_approval_that_waited_on_a_new_blocking_comment_is_refused(
    submitted_post: Post, reviewers: dict[str, Any]
) -> None:
    need_postgresql()
    run = current_stage_run(post=submitted_post)
    assert run is not None
    ReviewStage.objects.filter(pk=run.stage_id).update(blocking_comments_resolved=True)

    second = race(
        lambda: comment_add(
            post=submitted_post,
            actor=reviewers["medical"],
            anchor=AnchorSpec(kind=AnchorKind.BODY, quote="saves lives"),
            text="Quelle?",
            blocking=True,
        ),
        lambda: decision_record(stage_run=run, reviewer=reviewers["medical2"], verdict=Verdict.APPROVE),
    )

    assert isinstance(second.error, ValidationError) and second.error.code == "blocking_comments"
    assert not run.decisions.exists()
