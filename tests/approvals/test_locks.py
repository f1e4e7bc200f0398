"""Reviewers and editors act on one post at the same moment, on PostgreSQL with two real connections.

The first connection holds the post's row lock and commits; the second was already waiting on
that lock (tests/races.py) and must act on what the first committed.
"""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from approvals.models import Decision, ReviewRound, RoundStatus, StageRun, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys
from posts.models import Post, PostStatus, Revision
from posts.services import post_schedule, post_update
from publishing.models import Publication
from publishing.models import PublicationStatus as P
from tests.races import need_postgresql, race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.pg_suite,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EDITED = "Grippeimpfung für Mitarbeitende: Mo–Fr 8–12 Uhr im Betriebsärztlichen Dienst, Raum 1.04."


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    need_postgresql()


def open_run(post: Post) -> StageRun:
    run = current_stage_run(post=post)
    assert run is not None, "no stage is open"
    return run


def approve(post: Post, reviewer: Any) -> Decision:
    return decision_record(
        stage_run=open_run(post), reviewer=reviewer, verdict=Verdict.APPROVE, acknowledged=finding_keys(post=post)
    )


@pytest.mark.parametrize(
    ("verdict", "comment"),
    [(Verdict.APPROVE, ""), (Verdict.REQUEST_CHANGES, "Bitte Quelle ergänzen."), (Verdict.REJECT, "Nicht jetzt.")],
)
def test_a_decision_that_waited_on_an_edit_is_refused_as_superseded(
    submitted_post: Post, editor: Any, reviewers: dict[str, Any], verdict: str, comment: str
) -> None:
    run = open_run(submitted_post)

    second = race(
        lambda: post_update(post=submitted_post, actor=editor, data={"body": EDITED}),
        lambda: decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=verdict, comment=comment),
    )

    with pytest.raises(PermissionDenied):
        second.result()
    assert not Decision.objects.filter(stage_run__round__post=submitted_post).exists()
    rounds = [(r.status, r.revision.number) for r in ReviewRound.objects.filter(post=submitted_post).order_by("pk")]
    assert rounds == [(RoundStatus.SUPERSEDED, 1), (RoundStatus.IN_PROGRESS, 2)]
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.IN_REVIEW


def test_two_reviewers_deciding_one_stage_at_once_decide_it_once(
    submitted_post: Post, reviewers: dict[str, Any]
) -> None:
    run = open_run(submitted_post)

    second = race(
        lambda: decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE),
        lambda: decision_record(stage_run=run, reviewer=reviewers["medical2"], verdict=Verdict.APPROVE),
    )

    with pytest.raises(PermissionDenied):
        second.result()
    assert list(Decision.objects.filter(stage_run=run).values_list("reviewer__username", flat=True)) == ["medical"]
    assert open_run(submitted_post).stage.name == "Legal review"


def test_an_edit_that_waited_on_the_final_approval_makes_revision_2_and_restarts_review(
    submitted_post: Post, editor: Any, reviewers: dict[str, Any]
) -> None:
    approve(submitted_post, reviewers["medical"])
    approve(submitted_post, reviewers["legal"])

    second = race(
        lambda: approve(submitted_post, reviewers["comms"]),
        lambda: post_update(post=submitted_post, actor=editor, data={"body": EDITED}),
    )

    second.result()  # no IntegrityError on revision_unique_number
    numbers = Revision.objects.filter(post=submitted_post).order_by("number").values_list("number", flat=True)
    assert list(numbers) == [1, 2]
    submitted_post.refresh_from_db()
    # The edit came after the approval: the approval no longer holds and review starts again.
    assert (submitted_post.status, submitted_post.approved_hash) == (PostStatus.IN_REVIEW, "")
    latest = ReviewRound.objects.filter(post=submitted_post).order_by("pk").last()
    assert latest is not None and latest.revision.number == 2 and latest.status == RoundStatus.IN_PROGRESS


def test_scheduling_that_waited_on_the_final_approval_schedules_the_approved_content(
    submitted_post: Post, editor: Any, reviewers: dict[str, Any]
) -> None:
    approve(submitted_post, reviewers["medical"])
    approve(submitted_post, reviewers["legal"])

    second = race(
        lambda: approve(submitted_post, reviewers["comms"]),
        lambda: post_schedule(post=submitted_post, actor=editor),
    )

    second.result()
    submitted_post.refresh_from_db()
    assert submitted_post.status == PostStatus.SCHEDULED
    assert submitted_post.approved_hash == submitted_post.content_hash
    publications = Publication.objects.filter(post=submitted_post)
    assert {(p.status, p.content_hash) for p in publications} == {(P.PENDING, submitted_post.content_hash)}
    assert publications.count() == 2
