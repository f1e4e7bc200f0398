"""Rounds against the real servers production uses: PostgreSQL for data, Redis for the task queue.

Each test starts fresh processes with ``DATABASE_URL``/``ROUNDS_REDIS_URL`` set, as a server would.
"""

import base64
import json
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql

from tests.conftest import need_service
from tests.test_deploy import ROOT, django_env, manage, python

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
DEMO_USERS = {"editor", "medical", "legal", "comms", "consent", "governance", "viewer"}


def _maintenance() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True)


@dataclass(frozen=True)
class Server:
    env: dict[str, str]
    database: str

    def query(self, statement: str) -> list[tuple[object, ...]]:
        """Return the rows of ``statement`` run on the server's database."""
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=self.database) as connection:
            return connection.execute(statement).fetchall()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Yield a server configuration with a new, migrated PostgreSQL database; drop the database afterwards."""
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"rounds_scratch_{uuid.uuid4().hex[:12]}"
    files = tmp_path_factory.mktemp("pg-server")
    with _maintenance() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        env = django_env(
            DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}",
            ROUNDS_SECRET_KEY=secrets.token_urlsafe(64),
            ROUNDS_ALLOWED_HOSTS="rounds.example.org",
            ROUNDS_CREDENTIALS_KEYS=Fernet.generate_key().decode(),
            ROUNDS_MEDIA_ROOT=str(files / "media"),
            ROUNDS_PRIVATE_MEDIA_ROOT=str(files / "private"),
            ROUNDS_AUDIT_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            ROUNDS_AUDIT_CHECKPOINT_FILE=str(files / "audit" / "checkpoints.jsonl"),
            ROUNDS_DEMO_PASSWORD="demo-password-for-tests",
            ROUNDS_LOG_LEVEL="WARNING",
        )
        migrated = manage("migrate", "--no-input", env=env)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        yield Server(env=env, database=name)
    finally:
        with _maintenance() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.xdist_group("postgres-server")
def test_migrate_seed_demo_and_audit_chain_on_postgresql(server: Server) -> None:
    seeded = manage("seed_demo", env=server.env)
    verified = manage("verify_audit", env=server.env)

    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Audit trail intact" in verified.stdout
    users = {row[0] for row in server.query("SELECT username FROM people_user")}
    assert users >= DEMO_USERS
    [(count, last)] = server.query("SELECT count(*), max(seq) FROM audit_auditevent")
    assert count > 0
    assert last == count


_APPEND_EVENTS = """
import sys
import django
django.setup()
from audit.services import event_record
from people.models import User
user = User.objects.create_user(username=sys.argv[1])
for n in range(int(sys.argv[2])):
    event_record(actor=None, action="test.concurrent", obj=user, changes={"n": n})
"""


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres-server")
def test_concurrent_writers_keep_the_audit_chain_intact_on_postgresql(server: Server) -> None:
    writers, events = 3, 25
    [(before,)] = server.query("SELECT count(*) FROM audit_auditevent")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _APPEND_EVENTS, f"writer_{uuid.uuid4().hex[:8]}", str(events)],
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(writers)
    ]
    outcomes = [(process.wait(timeout=180), process.stderr.read() if process.stderr else "") for process in processes]
    verified = manage("verify_audit", env=server.env)

    assert all(code == 0 for code, _ in outcomes), outcomes
    assert verified.returncode == 0, verified.stdout + verified.stderr
    [(after, last)] = server.query("SELECT count(*), max(seq) FROM audit_auditevent")
    assert after - before == writers * events
    assert last == after


_BROKER_ROUND_TRIP = """
import json
import uuid
import django
django.setup()
from django_q.brokers import get_broker
broker = get_broker(list_key="rounds-test-" + uuid.uuid4().hex)
try:
    pong = broker.ping()
    broker.enqueue("signed-task-payload")
    size = broker.queue_size()
    task = broker.dequeue()
finally:
    broker.delete_queue()
print(json.dumps({"broker": type(broker).__name__, "ping": pong, "size": size, "task": task[0][1].decode()}))
"""


@pytest.mark.redis
def test_task_queue_reaches_redis_when_configured(tmp_path: Path) -> None:
    need_service("Redis", "127.0.0.1", 6379)
    env = django_env(
        ROUNDS_SECRET_KEY=secrets.token_urlsafe(64),
        ROUNDS_REDIS_URL="redis://127.0.0.1:6379/15",
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )

    result = python("-c", _BROKER_ROUND_TRIP, env=env)

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {"broker": "Redis", "ping": True, "size": 1, "task": "signed-task-payload"}
