"""Lag from due time to arrival for N publications due in the same second; print one JSON line.

Run: ``.venv/bin/python bench/publish.py``. Environment:

- ``BENCH_N`` (default 1000): publications due in the same second, for each approach
- ``BENCH_DB``: ``postgres`` (a scratch database on 127.0.0.1:5432, dropped afterwards; the
  default when PostgreSQL answers) or ``sqlite`` (a scratch file)
- ``BENCH_BROKER``: ``orm`` (default, the database queue) or ``redis`` (127.0.0.1:6379)
- ``BENCH_WORKERS`` (default 2, as `make run`): django-q2 worker processes in the ``qcluster``
- ``BENCH_ACCOUNTS`` (default 5): webhook accounts the publications are spread over
- ``BENCH_DISPATCHERS`` (default 1): ``publish_dispatcher`` processes racing for the same rows

Real processes: ``manage.py qcluster`` and ``manage.py publish_dispatcher`` run as subprocesses
against the scratch database; the receiver is the local fake platform of the tests (a threaded
HTTP server in this process) that records each arrival with its Idempotency-Key.

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
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


N = int(os.environ.get("BENCH_N", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "5"))
DISPATCHERS = int(os.environ.get("BENCH_DISPATCHERS", "1"))
BROKER = os.environ.get("BENCH_BROKER", "orm")
LEAD_SECONDS = 6.0  # processes are up and idle before the due second
WAIT_SECONDS = float(os.environ.get("BENCH_WAIT", "120"))
PG = ("127.0.0.1", 5432)


def _reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


class Scratch:
    """A throw-away database and folder; the environment every process of the bench shares."""

    def __init__(self) -> None:
        from cryptography.fernet import Fernet

        self.folder = tempfile.TemporaryDirectory(prefix="rounds-bench-publish-")
        self.kind = os.environ.get("BENCH_DB") or ("postgres" if _reachable(PG) else "sqlite")
        self.pg_name = ""
        if self.kind == "postgres":
            import psycopg

            self.pg_name = f"rounds_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres", autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{self.pg_name}"')
            url = f"postgres://postgres@{PG[0]}:{PG[1]}/{self.pg_name}"
        else:
            url = f"sqlite:///{self.folder.name}/bench.sqlite3"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "calendar_project.settings",
            "ROUNDS_DEBUG": "1",
            "DATABASE_URL": url,
            "ROUNDS_CREDENTIALS_KEYS": Fernet.generate_key().decode(),
            "ROUNDS_MEDIA_ROOT": str(Path(self.folder.name) / "media"),
            "ROUNDS_OUTBOX_DIR": str(Path(self.folder.name) / "outbox"),
            "ROUNDS_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ROUNDS_Q_WORKERS": str(WORKERS),
            "ROUNDS_LOG_LEVEL": "WARNING",
            "ROUNDS_PUBLISH_CUTOFF_MINUTES": "60",
        }
        if BROKER == "redis":
            self.env["ROUNDS_REDIS_URL"] = f"redis://127.0.0.1:6379/{7}"
        os.environ.update(self.env)

    def close(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.pg_name:
            import psycopg

            with psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        self.folder.cleanup()


def _start(scratch: Scratch, *command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=scratch.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def world(fake: Any) -> tuple[Any, Any, list[Any]]:
    from django.contrib.auth.models import Group

    from people import roles
    from people.models import User
    from posts.models import Account
    from posts.services import account_save, campaign_create

    editor = User.objects.create_user(username="bench_editor", password="x", email="e@example.org")
    editor.groups.add(Group.objects.get(name=roles.EDITOR))
    editor = User.objects.get(pk=editor.pk)
    campaign = campaign_create(
        actor=editor, name="Bench publishing", start_date=dt.date(2000, 1, 1), end_date=dt.date(2099, 12, 31)
    )
    accounts = [
        account_save(
            account=Account(platform="webhook", connector="webhook", name=f"Hook {n}", handle=f"hook{n}"),
            actor=editor,
            credentials=fake.credentials(),
        )
        for n in range(ACCOUNTS)
    ]
    return editor, campaign, accounts


def scheduled_posts(editor: Any, campaign: Any, accounts: list[Any], *, tag: str, due: dt.datetime) -> list[Any]:
    """Create N posts as drafts through the service, then mark them approved and scheduled for ``due``."""
    from posts.models import Post, PostStatus
    from posts.services import PostDraft, TargetSpec, posts_create_many

    drafts = [
        PostDraft(
            data={"body": f"Bench {tag} post {n}: visiting hours change on Monday.", "content_type": "event"},
            targets=[TargetSpec(account=accounts[n % len(accounts)])],
            scheduled_at=due,
        )
        for n in range(N)
    ]
    posts = posts_create_many(actor=editor, campaign=campaign, drafts=drafts)
    hashes = dict(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("pk", "current_revision__content_hash"))
    for post in posts:
        post.approved_hash = hashes[post.pk]
        post.status = PostStatus.SCHEDULED
    Post.objects.bulk_update(posts, ["approved_hash", "status"], batch_size=500)
    return posts


def publications_for(posts: list[Any], *, due: dt.datetime, claimed: bool = False) -> list[Any]:
    from django.conf import settings

    from posts.models import Publication
    from posts.models import PublicationStatus as P

    rows = [
        Publication(
            post=post,
            account_id=post.bench_account_id,
            status=P.CLAIMED if claimed else P.PENDING,
            due_at=due,
            next_attempt_at=due,
            content_hash=post.approved_hash,
            attempt_limit=settings.ROUNDS_PUBLISH_MAX_ATTEMPTS,
            lease_token=uuid.uuid4().hex if claimed else "",
            lease_until=due + dt.timedelta(hours=1) if claimed else None,
        )
        for post in posts
    ]
    return Publication.objects.bulk_create(rows, batch_size=500)


def _targets(posts: list[Any]) -> None:
    from posts.models import PostTarget

    account_of = dict(PostTarget.objects.filter(post__in=[p.pk for p in posts]).values_list("post_id", "account_id"))
    for post in posts:
        post.bench_account_id = account_of[post.pk]


def measure(fake: Any, publications: list[Any], due: dt.datetime, since: int) -> dict[str, Any]:
    """Wait for every publication to arrive (or the time limit); return lag percentiles, duplicates, lost."""
    from posts.publishing import publication_key

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


def main() -> None:
    from tests.posts.fakeplatform import FakePlatform

    scratch = Scratch()
    processes: list[subprocess.Popen[bytes]] = []
    dispatchers: list[subprocess.Popen[bytes]] = []
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
        editor, campaign, accounts = world(fake)

        # 1. The dispatcher
        far = timezone.now() + dt.timedelta(days=1)
        posts = scheduled_posts(editor, campaign, accounts, tag="dispatcher", due=far)
        _targets(posts)
        processes.append(_start(scratch, "qcluster"))
        dispatchers = [_start(scratch, "publish_dispatcher") for _ in range(DISPATCHERS)]
        time.sleep(LEAD_SECONDS)
        due = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=3)
        from posts.models import Post

        Post.objects.filter(pk__in=[p.pk for p in posts]).update(scheduled_at=due)
        publications = publications_for(posts, due=due)
        dispatcher = measure(fake, publications, due, since=0)
        if os.environ.get("BENCH_DEBUG"):
            _diagnose(publications, due)
        for process in dispatchers:
            _stop(process)

        # 2. The naive way: one django-q2 Schedule per publication, run by the same cluster
        since = len(fake.received)
        due2 = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=8)
        naive_posts = scheduled_posts(editor, campaign, accounts, tag="naive", due=due2)
        _targets(naive_posts)
        naive = publications_for(naive_posts, due=due2, claimed=True)
        Schedule.objects.bulk_create(
            [
                Schedule(
                    name=f"naive-{p.pk}",
                    func="posts.publishing.publication_send",
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
        for process in [*dispatchers, *processes]:
            _stop(process)
        fake.stop()
        scratch.close()
    print(
        json.dumps(
            {
                "lag_p50_s": dispatcher["p50"],
                "lag_p99_s": dispatcher["p99"],
                "lag_max_s": dispatcher["max"],
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
