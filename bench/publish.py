"""Lag from due time to arrival for N publications due in the same second; print one JSON line.

Run: ``.venv/bin/python bench/publish.py``. Environment:

- ``BENCH_N`` (default 1000): publications due in the same second, for each approach
- ``BENCH_DB``: ``postgres`` (a scratch database on 127.0.0.1:5432, dropped afterwards; the
  default when PostgreSQL answers) or ``sqlite`` (a scratch file)
- ``BENCH_BROKER``: ``orm`` (default, the database queue) or ``redis`` (127.0.0.1:6379, a free
  database number, flushed before and after)
- ``BENCH_WORKERS`` (default 2, as `make run`): django-q2 worker processes in the ``qcluster``
- ``BENCH_ACCOUNTS`` (default 5): webhook accounts the publications are spread over
- ``BENCH_DISPATCHERS`` (default 1): ``publish_dispatcher`` processes racing for the same rows

Real processes: ``manage.py qcluster`` and ``manage.py publish_dispatcher`` run as subprocesses
against the scratch database (`tests.posts.procs`, shared with the multi-process tests); the
receiver is the local fake platform of the tests (a threaded HTTP server in this process) that
records each arrival with its Idempotency-Key.

1. Dispatcher: N publications of N scheduled posts fall due at T; lag = arrival - T.
2. Naive: N more, each with its own django-q2 ``Schedule`` (ONCE, next_run = T2) that runs the
   same send task; the dispatcher is stopped. django-q2 looks at schedules about every 30 s.

Posts are bulk-created (drafts through ``posts_create_many``, then marked approved and scheduled
with their revision's hash) because running the review chain 2,000 times would measure review,
not publishing. Everything from the due time on is the production path, gates included.
Goals (issue 5): lag p50 <= 1 s, p99 <= 5 s, 0 duplicates, 0 lost.
"""

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.posts.procs import PG, Proc, RedisDb, Scratch, publications_for, reachable, scheduled_posts, world  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "5"))
DISPATCHERS = int(os.environ.get("BENCH_DISPATCHERS", "1"))
BROKER = os.environ.get("BENCH_BROKER", "orm")
LEAD_SECONDS = 6.0  # processes are up and idle before the due second
WAIT_SECONDS = float(os.environ.get("BENCH_WAIT", "120"))


def measure(fake: Any, publications: list[Any], due: dt.datetime, since: int) -> dict[str, Any]:
    """Wait for every publication to arrive (or the time limit); return lag percentiles, duplicates, lost."""
    from publishing.services import publication_key

    keys = {publication_key(p) for p in publications}
    deadline = time.time() + WAIT_SECONDS + max(0.0, due.timestamp() - time.time())
    while time.time() < deadline:
        arrived = {item.key for item in fake.received[since:] if item.key in keys}
        if arrived >= keys:
            break
        time.sleep(0.25)
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    for item in fake.received[since:]:
        if item.key in keys:
            counts[item.key] = counts.get(item.key, 0) + 1
            first.setdefault(item.key, item.at)
    lags = sorted(at - due.timestamp() for at in first.values())
    quantiles = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else lags * 99
    return {
        "p50": round(statistics.median(lags), 3) if lags else None,
        "p99": round(quantiles[98], 3) if lags else None,
        "max": round(lags[-1], 3) if lags else None,
        "min": round(lags[0], 3) if lags else None,
        "duplicates": sum(count - 1 for count in counts.values()),
        "lost": len(keys - set(first)),
    }


def _diagnose(publications: list[Any], due: dt.datetime) -> None:
    """Print when the sends started and finished, relative to the due time (stderr)."""
    from audit.models import AuditEvent

    events = AuditEvent.objects.filter(
        object_type="posts.publication", object_id__in=[str(p.pk) for p in publications]
    ).values_list("changes", "created_at")
    by_move: dict[str, list[float]] = {}
    for changes, created in events:
        move = "->".join(changes.get("status", []))
        by_move.setdefault(move, []).append((created - due).total_seconds())
    for move, offsets in sorted(by_move.items()):
        offsets.sort()
        print(
            f"{move}: n={len(offsets)} first={offsets[0]:.3f} median={statistics.median(offsets):.3f} "
            f"last={offsets[-1]:.3f}",
            file=sys.stderr,
        )


def _scratch() -> tuple[Scratch, RedisDb | None]:
    """The scratch database and its settings; this process's Django is configured for it too."""
    kind = os.environ.get("BENCH_DB") or ("postgres" if reachable(PG) else "sqlite")
    settings = {"ROUNDS_Q_WORKERS": str(WORKERS), "ROUNDS_PUBLISH_CUTOFF_MINUTES": "60"}
    redis = RedisDb() if BROKER == "redis" else None
    if redis is not None:
        settings["ROUNDS_REDIS_URL"] = redis.url
    # ROUNDS_* of the caller's environment pass through (ROUNDS_PUBLISH_BATCH=50 make bench).
    scratch = Scratch(kind=kind, base_env=os.environ, settings=settings, prefix="rounds_bench")
    os.environ.update(scratch.env)
    return scratch, redis


def main() -> None:
    from tests.posts.fakeplatform import FakePlatform

    scratch, redis = _scratch()
    dispatchers: list[Proc] = []
    fake = FakePlatform().start()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone
        from django_q.models import Schedule

        call_command("migrate", verbosity=0)
        # The safety net would also pick up work; the bench measures the dispatcher and the naive way.
        Schedule.objects.filter(name="rounds:publish-safety-net").delete()
        editor, campaign, accounts = world(credentials=fake.credentials(), accounts=ACCOUNTS, name="Bench publishing")

        # 1. The dispatcher
        far = timezone.now() + dt.timedelta(days=1)
        posts = scheduled_posts(editor, campaign, accounts, n=N, tag="Bench dispatcher", due=far)
        scratch.start("qcluster", "qcluster")
        dispatchers = [scratch.start(f"dispatcher-{i}", "publish_dispatcher") for i in range(DISPATCHERS)]
        time.sleep(LEAD_SECONDS)
        due = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=3)
        publications = publications_for(posts, due=due)
        dispatcher = measure(fake, publications, due, since=0)
        if os.environ.get("BENCH_DEBUG"):
            _diagnose(publications, due)
        for process in dispatchers:
            process.stop(timeout=20)

        # 2. The naive way: one django-q2 Schedule per publication, run by the same cluster
        since = len(fake.received)
        due2 = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=8)
        naive_posts = scheduled_posts(editor, campaign, accounts, n=N, tag="Bench naive", due=due2)
        naive = publications_for(naive_posts, due=due2, claimed=True)
        Schedule.objects.bulk_create(
            [
                Schedule(
                    name=f"naive-{p.pk}",
                    func="publishing.services.publication_send",
                    args=f"{p.pk}, {p.lease_token!r}",
                    schedule_type=Schedule.ONCE,
                    repeats=1,
                    next_run=due2,
                )
                for p in naive
            ],
            batch_size=500,
        )
        naive_result = measure(fake, naive, due2, since=since)
    finally:
        from django.db import connections

        connections.close_all()
        scratch.close()
        if redis is not None:
            redis.close()
        fake.stop()
    print(
        json.dumps(
            {
                "lag_p50_s": dispatcher["p50"],
                "lag_p99_s": dispatcher["p99"],
                "lag_max_s": dispatcher["max"],
                "lag_min_s": dispatcher["min"],
                "duplicates": dispatcher["duplicates"] + naive_result["duplicates"],
                "lost": dispatcher["lost"],
                "naive_lag_p50_s": naive_result["p50"],
                "naive_lag_p99_s": naive_result["p99"],
                "naive_lost": naive_result["lost"],
                "n": N,
                "database": scratch.kind,
                "broker": BROKER,
                "workers": WORKERS,
                "dispatchers": DISPATCHERS,
            }
        )
    )


if __name__ == "__main__":
    main()
