"""Publishing with real processes: a scratch database, ``qcluster`` and ``publish_dispatcher``
subprocesses, the publications they send, and a way to kill a worker in the middle of a call.

Shared by the multi-process tests (tests/publishing/test_publishing_faults.py) and the benchmark
(bench/publish.py). Django is imported only inside functions: the bench configures Django for
the scratch database in its own process; a test process belongs to pytest-django's test
database, so tests run the world-building part through this module's command line instead:

    python -m tests.posts.procs seed --n 500 --accounts 5 --url URL --secret S --lead 2 --spread 1
    python -m tests.posts.procs report

Only processes started here are ever signalled, by their process id (or their own session).
"""

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)
# Settings of the process running a test that must not leak into the processes under test.
_INHERITED = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def clean_env() -> dict[str, str]:
    """Return this process's environment without any Rounds or Django setting."""
    return {key: value for key, value in os.environ.items() if not key.startswith("ROUNDS_") and key not in _INHERITED}


def _maintenance() -> Any:
    import psycopg

    return psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres", autocommit=True)


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """Hold a lock file in the temporary folder: one holder at a time on this machine (blocks)."""
    with (Path(tempfile.gettempdir()) / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Processes ------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Return the child processes of ``pid`` (from /proc/<pid>/task/*/children); [] if it is gone."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Return every process below ``pid``, children first."""
    found: list[int] = []
    todo = children(pid)
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(children(child))
    return found


def _socket_inodes(port: int) -> set[str]:
    """Return the inodes of the TCP sockets whose local end is 127.0.0.1:``port``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].rpartition(":")
            loopback = address in {"0100007F", "0000000000000000FFFF00000100007F"}
            if loopback and int(hex_port, 16) == port and fields[9] != "0":
                inodes.add(fields[9])
    return inodes


def socket_owner(port: int, pids: Iterable[int]) -> int | None:
    """Return which of ``pids`` holds the TCP socket whose local end is 127.0.0.1:``port``."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes(port)}
    if not wanted:
        return None
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return pid
            except OSError:
                continue
    return None


@dataclass
class Proc:
    """A ``manage.py`` subprocess in its own session, its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def descendants(self) -> list[int]:
        return descendants(self.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for(self, text: str, timeout: float) -> None:
        """Wait until ``text`` appears in the output; RuntimeError if the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not print {text!r} within {timeout:g} s:\n{self.tail()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (a cluster lets its workers finish their task), then SIGKILL the whole session."""
        stop_all([self], timeout=timeout)


def stop_all(processes: Sequence[Proc], timeout: float = 30) -> None:
    """Stop ``processes`` together: SIGTERM to each, wait up to ``timeout``, then SIGKILL their sessions."""
    for process in processes:
        if process.alive():
            process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # leftovers of the session this process leads
        process.popen.wait()


@dataclass
class WorkerKiller:
    """SIGKILL the process of one of ``clusters`` that holds a given connection (a worker mid-call),
    at most ``limit`` times.

    For `FakePlatform.killer`: the fake knows the caller's port; /proc says which process owns it.
    """

    clusters: Sequence[Proc]
    limit: int | None = None
    killed: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, client: tuple[str, int]) -> int | None:
        with self._lock:  # the fake calls from many threads at once
            if self.limit is not None and len(self.killed) >= self.limit:
                return None
            pids = [pid for cluster in self.clusters for pid in cluster.descendants()]
            pid = socket_owner(client[1], pids)
            if pid is None:
                return None
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return None
            self.killed.append(pid)
            return pid


# The scratch database -------------------------------------------------------------------------


class Scratch:
    """A throw-away database (PostgreSQL, or an SQLite file) and folder, and the environment of
    every process that works on them; ``close`` stops those processes and drops both."""

    def __init__(
        self,
        *,
        kind: str = "postgres",
        base_env: Mapping[str, str] | None = None,
        settings: Mapping[str, str] | None = None,
        prefix: str = "rounds_scratch",
    ) -> None:
        from cryptography.fernet import Fernet

        self.kind = kind
        self.folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        self.processes: list[Proc] = []
        self.pg_name = ""
        if kind == "postgres":
            self.pg_name = f"{prefix}_{uuid.uuid4().hex[:10]}"
            with _maintenance() as connection:
                connection.execute(f'CREATE DATABASE "{self.pg_name}"')
            url = f"postgres://postgres@{PG[0]}:{PG[1]}/{self.pg_name}"
        else:
            url = f"sqlite:///{self.folder / 'scratch.sqlite3'}"
        self.env: dict[str, str] = {
            **(clean_env() if base_env is None else base_env),
            "DJANGO_SETTINGS_MODULE": "calendar_project.settings",
            "PYTHONUNBUFFERED": "1",
            "ROUNDS_DEBUG": "1",
            "DATABASE_URL": url,
            "ROUNDS_CREDENTIALS_KEYS": Fernet.generate_key().decode(),
            "ROUNDS_MEDIA_ROOT": str(self.folder / "media"),
            "ROUNDS_PRIVATE_MEDIA_ROOT": str(self.folder / "private"),
            "ROUNDS_OUTBOX_DIR": str(self.folder / "outbox"),
            "ROUNDS_AUDIT_CHECKPOINT_FILE": str(self.folder / "audit" / "checkpoints.jsonl"),
            "ROUNDS_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ROUNDS_LOG_LEVEL": "WARNING",
            **(settings or {}),
        }

    def __enter__(self) -> "Scratch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the project's Python with ``args`` in the scratch environment; returns the finished process."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run("manage.py", *args, timeout=timeout)

    def json(self, *args: str, timeout: float = 300) -> Any:
        """Run this module's command line (``seed``, ``report``) and return the JSON it prints."""
        done = self.run("-m", "tests.posts.procs", *args, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"procs {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start(self, name: str, *command: str, env: Mapping[str, str] | None = None) -> Proc:
        """Start ``manage.py <command>`` in its own session, output to ``<folder>/<name>.log``."""
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Proc(name=name, popen=popen, log=log)
        self.processes.append(process)
        return process

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Return the rows of ``statement`` on the scratch PostgreSQL database."""
        import psycopg

        with psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname=self.pg_name) as connection:
            return connection.execute(statement, params).fetchall()  # type: ignore[arg-type]

    def close(self) -> None:
        stop_all(self.processes)
        if self.pg_name:
            with _maintenance() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self.pg_name = ""
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisDb:
    """A Redis database number no one else uses during a run: claimed with a marker, flushed
    before use and after."""

    MARKER = "rounds:scratch-owner"

    def __init__(self, numbers: Iterable[int] = range(1, 15)) -> None:
        import redis

        self.token = uuid.uuid4().hex
        for number in numbers:
            client = redis.Redis(host=REDIS[0], port=REDIS[1], db=number)
            if client.dbsize() == 0 and client.set(self.MARKER, self.token, nx=True) and client.dbsize() == 1:
                client.flushdb()
                client.set(self.MARKER, self.token)
                self.number = number
                self.client = client
                return
            client.close()
        raise RuntimeError("no free Redis database (every one from 1 to 14 holds keys)")

    @property
    def url(self) -> str:
        return f"redis://{REDIS[0]}:{REDIS[1]}/{self.number}"

    def close(self) -> None:
        if self.client.get(self.MARKER) == self.token.encode():
            self.client.flushdb()
        self.client.close()


# The world (in a process whose Django uses the scratch database) ------------------------------


def world(*, credentials: dict[str, str], accounts: int, name: str = "Publishing") -> tuple[Any, Any, list[Any]]:
    """Create an editor, a campaign and ``accounts`` webhook accounts posting to ``credentials``."""
    from django.contrib.auth.models import Group

    from people import roles
    from people.models import User
    from posts.models import Account
    from posts.services import account_save, campaign_create

    editor = User.objects.create_user(username=f"editor_{uuid.uuid4().hex[:8]}", password="x", email="e@example.org")
    editor.groups.add(Group.objects.get(name=roles.EDITOR))
    editor = User.objects.get(pk=editor.pk)
    campaign = campaign_create(actor=editor, name=name, start_date=dt.date(2000, 1, 1), end_date=dt.date(2099, 12, 31))
    made = [
        account_save(
            account=Account(platform="webhook", connector="webhook", name=f"Hook {n}", handle=f"hook{n}"),
            actor=editor,
            credentials=credentials,
        )
        for n in range(accounts)
    ]
    return editor, campaign, made


def scheduled_posts(
    editor: Any, campaign: Any, accounts: list[Any], *, n: int, tag: str, due: dt.datetime
) -> list[Any]:
    """Create ``n`` posts as drafts through the service, then mark them approved and scheduled for ``due``.

    Running the review chain for each would measure review, not publishing; from the due time on
    everything is the production path, gates included.
    """
    from posts.models import Post, PostStatus
    from posts.services import PostDraft, TargetSpec, posts_create_many

    drafts = [
        PostDraft(
            data={"body": f"{tag} post {i}: visiting hours change on Monday.", "content_type": "event"},
            targets=[TargetSpec(account=accounts[i % len(accounts)])],
            scheduled_at=due,
        )
        for i in range(n)
    ]
    posts = posts_create_many(actor=editor, campaign=campaign, drafts=drafts)
    hashes = dict(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("pk", "current_revision__content_hash"))
    for post in posts:
        post.approved_hash = hashes[post.pk]
        post.status = PostStatus.SCHEDULED
    Post.objects.bulk_update(posts, ["approved_hash", "status"], batch_size=500)
    return posts


def publications_for(posts: list[Any], *, due: dt.datetime, spread: float = 0.0, claimed: bool = False) -> list[Any]:
    """Open one publication per post (its only target), due from ``due`` to ``due + spread`` seconds.

    ``claimed`` gives each a claim of its own with an hour's lease (the naive way of the bench).
    """
    from django.conf import settings

    from posts.models import Post, PostTarget
    from publishing.models import Publication
    from publishing.models import PublicationStatus as P

    account_of = dict(PostTarget.objects.filter(post__in=[p.pk for p in posts]).values_list("post_id", "account_id"))
    rows = []
    for i, post in enumerate(posts):
        at = due + dt.timedelta(seconds=spread * i / max(1, len(posts)))
        post.scheduled_at = at
        rows.append(
            Publication(
                post=post,
                account_id=account_of[post.pk],
                status=P.CLAIMED if claimed else P.PENDING,
                due_at=at,
                next_attempt_at=at,
                content_hash=post.approved_hash,
                attempt_limit=settings.ROUNDS_PUBLISH_MAX_ATTEMPTS,
                lease_token=uuid.uuid4().hex if claimed else "",
                lease_until=at + dt.timedelta(hours=1) if claimed else None,
            )
        )
    Post.objects.bulk_update(posts, ["scheduled_at"], batch_size=500)
    return Publication.objects.bulk_create(rows, batch_size=500)


def seed(*, n: int, accounts: int, credentials: dict[str, str], lead: float, spread: float) -> dict[str, Any]:
    """Create ``n`` scheduled posts, then their publications due ``lead`` seconds from now, within ``spread``."""
    from django.utils import timezone

    editor, campaign, made = world(credentials=credentials, accounts=accounts)
    posts = scheduled_posts(editor, campaign, made, n=n, tag="Fault", due=timezone.now() + dt.timedelta(days=1))
    due = timezone.now() + dt.timedelta(seconds=lead)
    publications = publications_for(posts, due=due, spread=spread)
    return {"due": due.timestamp(), "publications": len(publications)}


def report() -> dict[str, Any]:
    """Return every publication (with the key sent to the platform and its attempts), the posts' states
    and how often each reason moved a publication (from the audit trail)."""
    from django.db.models import Count

    from audit.models import AuditEvent
    from posts.models import Post
    from publishing.models import Publication, PublicationAttempt
    from publishing.services import publication_key

    outcomes: dict[int, list[str]] = {}
    for publication_id, outcome in PublicationAttempt.objects.order_by("pk").values_list("publication_id", "outcome"):
        outcomes.setdefault(publication_id, []).append(outcome)
    publications = [
        {
            "id": publication.pk,
            "key": publication_key(publication),
            "status": publication.status,
            "last_error": publication.last_error,
            "external_id": publication.external_id,
            "attempts": publication.attempts,
            "outcomes": outcomes.get(publication.pk, []),
        }
        for publication in Publication.objects.order_by("pk")
    ]
    posts = dict(Post.objects.values_list("status").annotate(count=Count("pk")).values_list("status", "count"))
    moves = AuditEvent.objects.filter(action="publication.status_changed").values_list("changes", flat=True)
    reasons = Counter(changes.get("reason", "") for changes in moves)
    return {"publications": publications, "posts": posts, "reasons": reasons}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.posts.procs")
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="scheduled posts and their publications, due shortly")
    seeding.add_argument("--n", type=int, required=True)
    seeding.add_argument("--accounts", type=int, default=5)
    seeding.add_argument("--url", required=True)
    seeding.add_argument("--secret", required=True)
    seeding.add_argument("--lead", type=float, default=2.0, help="seconds from now to the first due time")
    seeding.add_argument("--spread", type=float, default=1.0, help="seconds over which they fall due")
    commands.add_parser("report", help="every publication and its attempts, as JSON")
    args = parser.parse_args(argv)

    import django

    django.setup()
    if args.command == "seed":
        credentials = {"url": args.url, "secret": args.secret}
        result = seed(n=args.n, accounts=args.accounts, credentials=credentials, lead=args.lead, spread=args.spread)
    else:
        result = report()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
