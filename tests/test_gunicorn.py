"""gunicorn, the production server, started with calendar_project/gunicorn.conf.py on a free local port."""

import http.client
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import need_service
from tests.test_deploy import HOST, ROOT, django_env, manage

# Starts processes that read DATABASE_URL: kept in the PostgreSQL pass of .ci/run (tests/conftest.py).
pytestmark = pytest.mark.database_kind

PG_HOST = "127.0.0.1"
PG_PORT = 5432

CONFIG = ROOT / "calendar_project" / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).with_name("gunicorn")
# gunicorn kills a worker silent this long (ROUNDS_WEB_TIMEOUT); an outage must be answered well before.
WORKER_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp: Path, database_url: str, port: int) -> dict[str, str]:
    return django_env(
        ROUNDS_SECRET_KEY=secrets.token_urlsafe(64),
        ROUNDS_ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url,
        ROUNDS_STATIC_ROOT=str(tmp / "static"),
        ROUNDS_MEDIA_ROOT=str(tmp / "media"),
        ROUNDS_PRIVATE_MEDIA_ROOT=str(tmp / "private"),
        ROUNDS_BIND=f"127.0.0.1:{port}",
        ROUNDS_WEB_WORKERS="1",
        ROUNDS_WEB_TIMEOUT=str(WORKER_TIMEOUT),
    )


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run gunicorn with the project's configuration until the block ends; wait until it accepts."""
    port = int(env["ROUNDS_BIND"].rsplit(":", 1)[1])
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", str(CONFIG)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=40)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """GET ``path`` as a browser behind the TLS proxy would; return status, headers and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, dict(response.getheaders()), body


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the collected static files production serves (the pages need the manifest)."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    done = manage("collectstatic", "--no-input", env=_env(tmp, f"sqlite:///{tmp / 'db.sqlite3'}", 0))
    assert done.returncode == 0, done.stderr
    return tmp


def test_gunicorn_serves_the_login_page_with_the_project_config(collected: Path) -> None:
    port = _free_port()
    env = _env(collected, f"sqlite:///{collected / 'db.sqlite3'}", port)
    migrated = manage("migrate", "--no-input", env=env)
    assert migrated.returncode == 0, migrated.stderr
    log = collected / "gunicorn.log"

    with gunicorn(env, log):
        status, headers, body = get(port, "/accounts/login/", {"X-Request-ID": "probe-login-1"})
        missing, _, missing_body = get(port, "/no-such-page/")

    assert status == 200, body
    assert 'name="login"' in body
    assert headers["X-Request-ID"] == "probe-login-1"
    assert missing == 404
    assert "Page not found" in missing_body
    output = log.read_text()
    assert "Booting worker" in output
    assert re.search(r'"GET /accounts/login/ HTTP/1\.1" 200 \d+ \d+ms \[probe-login-1\]', output), output


def test_gunicorn_answers_503_while_the_database_is_unreachable(collected: Path) -> None:
    port = _free_port()
    env = _env(collected, f"postgres://postgres@127.0.0.1:{_free_port()}/rounds_outages", port)
    log = collected / "gunicorn-outage.log"

    with gunicorn(env, log):
        # The anonymous login page first: it also loads the app, so the timing below is the outage's.
        login_status, _, _ = get(port, "/accounts/login/")
        started = time.monotonic()
        status, headers, body = get(
            port, "/calendar/", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345", "X-Request-ID": "outage-7"}
        )
        took = time.monotonic() - started

    assert login_status == 200  # the anonymous login page reads nothing (docs/operations.md: health checks)
    assert status == 503, body
    assert headers["Retry-After"] == "30"
    assert "Rounds is briefly unavailable" in body
    # Answered by the app, well before gunicorn's worker timeout (60 s) would have killed the worker;
    # the bound is loose because a loaded CI machine is slow, not because the answer may be.
    assert took < WORKER_TIMEOUT / 2
    output = log.read_text()
    assert "ERROR [outage-7] django.request: Service Unavailable: /calendar/" in output, output
    assert re.search(r'"GET /calendar/ HTTP/1\.1" 503 \d+ \d+ms \[outage-7\]', output), output


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """Yield the URL of a new PostgreSQL database holding only the session table; drop it afterwards."""
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"rounds_outages_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=name, autocommit=True) as db:
            db.execute(
                "CREATE TABLE django_session (session_key varchar(40) PRIMARY KEY, session_data text NOT NULL, "
                "expire_date timestamptz NOT NULL)"
            )
        yield name
    finally:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.postgres
def test_a_hanging_database_ends_the_request_with_503_after_the_statement_timeout(
    collected: Path, scratch_database: str
) -> None:
    port = _free_port()
    env = _env(collected, f"postgres://postgres@{PG_HOST}:{PG_PORT}/{scratch_database}", port)
    env["ROUNDS_DB_STATEMENT_TIMEOUT"] = "1.5"
    log = collected / "gunicorn-hang.log"

    with (
        gunicorn(env, log),
        psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=scratch_database) as holder,
    ):
        # Another session holds the session table: every read of it waits, as on a stuck database.
        get(port, "/accounts/login/")  # loads the app; it reads no table
        holder.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        status, headers, body = get(port, "/calendar/", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"})
        took = time.monotonic() - started
        holder.rollback()

    assert status == 503, body
    assert headers["Retry-After"] == "30"
    assert 1.4 < took < WORKER_TIMEOUT / 2, took  # the statement timeout ended it, not the worker timeout
    assert "canceling statement due to statement timeout" in log.read_text()
