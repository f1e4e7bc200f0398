"""The round and stage life cycles: every move the data allows works and is audited, every other one is refused."""

import ast
import itertools
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from approvals import states
from approvals.models import ReviewRound, RoundStatus, StageRun, StageStatus, Verdict
from approvals.services import round_transition, stage_transition
from audit.models import AuditEvent
from posts.models import Post, PostStatus

pytestmark = pytest.mark.django_db

ROUND_PAIRS = list(itertools.product(RoundStatus.values, repeat=2))
STAGE_PAIRS = list(itertools.product(StageStatus.values, repeat=2))
APPROVALS = Path(__file__).resolve().parents[2] / "approvals"


def test_the_life_cycles_name_every_status_and_only_statuses() -> None:
    assert set(states.ROUND_MOVES) == set(RoundStatus.values)
    assert set(states.STAGE_MOVES) == set(StageStatus.values)
    assert all(moves <= set(RoundStatus.values) for moves in states.ROUND_MOVES.values())
    assert all(moves <= set(StageStatus.values) for moves in states.STAGE_MOVES.values())
    assert {StageStatus.WAITING, StageStatus.IN_PROGRESS} == states.STAGE_OPEN


def test_every_verdict_maps_to_a_stage_status_an_open_stage_may_take() -> None:
    assert set(states.VERDICT_OUTCOME) == set(Verdict.values)
    for verdict, outcome in states.VERDICT_OUTCOME.items():
        assert outcome in StageStatus.values, verdict
        assert states.stage_may_move(StageStatus.IN_PROGRESS, outcome)
    assert states.VERDICT_OUTCOME[Verdict.REJECT] == StageStatus.REJECTED
    for verdict, end in states.VERDICT_ROUND_END.items():
        assert states.round_may_move(RoundStatus.IN_PROGRESS, end), verdict
        assert states.VERDICT_POST_END[verdict] in PostStatus.values


def _second_stage(post: Post) -> StageRun:
    return StageRun.objects.filter(round__post=post).order_by("stage__position")[1]


@pytest.mark.parametrize(("current", "to"), STAGE_PAIRS, ids=[f"{a}->{b}" for a, b in STAGE_PAIRS])
def test_a_stage_moves_only_as_the_life_cycle_says(submitted_post: Post, editor: Any, current: str, to: str) -> None:
    run = _second_stage(submitted_post)
    StageRun.objects.filter(pk=run.pk).update(status=current)
    run.refresh_from_db()
    before = AuditEvent.objects.for_object(run).count()

    if to not in states.STAGE_MOVES[current]:
        with pytest.raises(ValidationError) as refused:
            stage_transition(stage_run=run, to=to, actor=editor)
        assert refused.value.code == "invalid_transition"
        assert StageRun.objects.get(pk=run.pk).status == current
        assert AuditEvent.objects.for_object(run).count() == before
        return

    stage_transition(stage_run=run, to=to, actor=editor)

    saved = StageRun.objects.get(pk=run.pk)
    assert saved.status == to
    if to == StageStatus.IN_PROGRESS:
        assert saved.started_at is not None and saved.deadline is not None
    else:
        assert saved.finished_at is not None
    (event,) = AuditEvent.objects.for_object(run).filter(action="review.stage_status_changed").order_by("seq")[before:]
    assert event.changes["status"] == [current, to]
    assert event.changes["round"] == run.round_id
    assert event.actor_id == editor.pk


@pytest.mark.parametrize(("current", "to"), ROUND_PAIRS, ids=[f"{a}->{b}" for a, b in ROUND_PAIRS])
def test_a_round_moves_only_as_the_life_cycle_says(submitted_post: Post, editor: Any, current: str, to: str) -> None:
    review_round = ReviewRound.objects.get(post=submitted_post)
    ReviewRound.objects.filter(pk=review_round.pk).update(status=current)
    review_round.refresh_from_db()
    events = AuditEvent.objects.for_object(submitted_post).filter(action=f"review.round_{to}")
    before = events.count()

    if to not in states.ROUND_MOVES[current]:
        with pytest.raises(ValidationError) as refused:
            round_transition(review_round=review_round, to=to, actor=editor)
        assert refused.value.code == "invalid_transition"
        assert ReviewRound.objects.get(pk=review_round.pk).status == current
        assert events.count() == before
        return

    round_transition(review_round=review_round, to=to, actor=editor)

    saved = ReviewRound.objects.get(pk=review_round.pk)
    assert (saved.status, saved.finished_at is not None) == (to, True)
    assert events.count() == before + 1
    changes = events.order_by("seq").last().changes  # type: ignore[union-attr]
    # The post's name is sealed in ``_repr`` under its erasure key (docs/erasure.md).
    assert {key: value for key, value in changes.items() if key != "_repr"} == {"round": review_round.pk}
    runs = list(saved.stage_runs.order_by("stage__position"))
    if to == RoundStatus.APPROVED:
        # Approval closes nothing: the review service opens the stages after publication next.
        assert [run.status for run in runs][:2] == [StageStatus.IN_PROGRESS, StageStatus.WAITING]
        return
    # Any other end leaves no stage open: the undecided ones are closed, each through its move.
    assert {run.status for run in runs} == {StageStatus.CLOSED}
    for run in runs:
        assert AuditEvent.objects.for_object(run).filter(action="review.stage_status_changed").exists()


@pytest.mark.parametrize(
    ("model", "field"),
    [(ReviewRound, "post"), (StageRun, "round__post"), (Post, "pk")],
    ids=["round", "stage", "post"],
)
@pytest.mark.parametrize("value", ["reject", "", "IN_PROGRESS"])
def test_the_database_refuses_a_status_that_is_none(
    submitted_post: Post, model: type[Any], field: str, value: str
) -> None:
    rows = model.objects.filter(**{field: submitted_post.pk})
    assert rows.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(status=value)
    assert set(rows.values_list("status", flat=True)) <= {*RoundStatus.values, *StageStatus.values, *PostStatus.values}


def _status_writes(path: Path) -> list[tuple[str, int]]:
    """Return (enclosing function, line) for each ``x.status = …`` or ``.update(status=…)`` in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            targets: list[ast.expr] = []
            if isinstance(child, ast.Assign):
                targets = [
                    element
                    for target in child.targets
                    for element in (target.elts if isinstance(target, ast.Tuple) else [target])
                ]
            elif isinstance(child, ast.AugAssign | ast.AnnAssign):
                targets = [child.target]
            line = getattr(child, "lineno", 0)
            if any(isinstance(target, ast.Attribute) and target.attr == "status" for target in targets):
                found.append((function, line))
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in {"update", "bulk_update"}
                and any(keyword.arg == "status" for keyword in child.keywords)
            ):
                found.append((function, line))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_only_the_transitions_write_a_status_in_approvals() -> None:
    writes = {
        f"{path.relative_to(APPROVALS.parent)}:{line} in {function}"
        for path in APPROVALS.rglob("*.py")
        if "migrations" not in path.parts
        for function, line in _status_writes(path)
    }
    allowed = {write for write in writes if write.startswith("approvals/services.py:")}
    assert {write.rsplit(" in ", 1)[1] for write in allowed} <= {"round_transition", "stage_transition"}
    assert writes == allowed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_maps_a_verdict_written_as_a_stage_status_onto_its_stage_status(submitted_post: Post) -> None:
    run = _second_stage(submitted_post)
    graph = MigrationExecutor(connection).loader.graph
    mine = next(key for key in graph.nodes if key[0] == "approvals" and key[1].endswith("_status_check_constraints"))
    before = [parent.key for parent in graph.node_map[mine].parents if parent.key[0] == "approvals"]
    MigrationExecutor(connection).migrate(before)
    try:
        # What the code before the life cycle was data wrote for a Legal "reject" after publication.
        StageRun.objects.filter(pk=run.pk).update(status="reject")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        # Every app, not approvals alone: going back took along the apps that depend on it.
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert StageRun.objects.get(pk=run.pk).status == StageStatus.REJECTED
