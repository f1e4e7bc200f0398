"""Two people at once, for real: two threads, each with its own PostgreSQL connection.

``race(first, second)`` runs ``first`` in a transaction and keeps it open; starts ``second``
in another thread; waits until PostgreSQL reports ``second`` blocked on a lock ``first`` holds
(``pg_stat_activity.wait_event_type = 'Lock'`` and ``pg_blocking_pids``, no sleeping); then
commits ``first`` and lets ``second`` finish on what ``first`` committed.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from tests.conftest import need_service

# Long enough for a loaded CI machine, short enough that a missed wait fails instead of hanging.
PATIENCE = 30.0


@dataclass
class Outcome:
    """What one side of a race returned or raised."""

    value: Any = None
    error: BaseException | None = None

    def result(self) -> Any:
        """Return the value, or raise what the side raised."""
        if self.error is not None:
            raise self.error
        return self.value


def need_postgresql() -> None:
    """Fail unless the suite runs on PostgreSQL: ``pg_suite`` tests are deselected on SQLite (conftest)."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    assert connection.vendor == "postgresql", "mark this test pg_suite: row locks race only on PostgreSQL"


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _waits_on(pid: int, holder: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type, pg_blocking_pids(pid) FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock" and holder in row[1]


def race(first: Callable[[], Any], second: Callable[[], Any]) -> Outcome:
    """Run ``second`` while ``first`` holds its locks uncommitted; commit ``first`` once ``second`` waits.

    Returns the outcome of ``second``. Fails the test if ``first`` raised or ``second`` never waited on it.
    """
    outcomes = (Outcome(), Outcome())
    pids: dict[str, int] = {}
    holding, release, started = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        try:
            pids["first"] = _backend_pid()
            with transaction.atomic():
                outcomes[0].value = first()
                holding.set()
                if not release.wait(PATIENCE):
                    raise TimeoutError("the test never released the first transaction")
        except BaseException as error:
            outcomes[0].error = error
        finally:
            holding.set()
            connection.close()

    def wait_then_act() -> None:
        try:
            pids["second"] = _backend_pid()
            started.set()
            outcomes[1].value = second()
        except BaseException as error:
            outcomes[1].error = error
        finally:
            started.set()
            connection.close()

    holder = threading.Thread(target=hold, name="race-first")
    waiter = threading.Thread(target=wait_then_act, name="race-second")
    holder.start()
    try:
        assert holding.wait(PATIENCE), "the first transaction never got its locks"
        if outcomes[0].error is not None:
            raise AssertionError("the first transaction failed") from outcomes[0].error
        waiter.start()
        assert started.wait(PATIENCE) and "second" in pids, "the second connection never started"
        deadline = time.monotonic() + PATIENCE
        while not _waits_on(pids["second"], pids["first"]):
            assert waiter.is_alive(), f"the second finished without waiting on the first: {outcomes[1]}"
            assert time.monotonic() < deadline, "the second never waited on the first's lock"
            time.sleep(0.01)  # polling the server for the wait, not guessing how long it takes
    finally:
        release.set()
        holder.join(PATIENCE)
        if waiter.is_alive() or waiter.ident is not None:
            waiter.join(PATIENCE)
    assert not holder.is_alive() and not waiter.is_alive(), "a side of the race hangs"
    if outcomes[0].error is not None:
        raise AssertionError("the first transaction failed") from outcomes[0].error
    return outcomes[1]
