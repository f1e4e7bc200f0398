"""Error pages and outages: friendly 4xx/5xx pages with a request id that is in the log, and a 503
page when the database cannot be reached (a real unreachable database in a fresh process)."""

import io
import json
import logging
import logging.config
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from calendar_project import settings as production_settings
from tests.test_deploy import django_env, python

# Starts processes that read DATABASE_URL: kept in the PostgreSQL pass of .ci/run (tests/conftest.py).
pytestmark = pytest.mark.database_kind

REQUEST_ID = re.compile(r"<code data-request-id>([^<]+)</code>")
SESSION_COOKIE = "sessionid=abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    """Configure logging as production does (settings.LOGGING); yield what its console handler writes."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configured = [logging.getLogger(name) for name in production_settings.LOGGING.get("loggers", {})]
    saved_levels = [logger.level for logger in configured]
    logging.config.dictConfig(production_settings.LOGGING)
    stream = io.StringIO()
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for logger, level in zip(configured, saved_levels, strict=True):
            logger.setLevel(level)


@pytest.fixture
def anonymous() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.urls("tests.error_urls")
def test_500_page_shows_the_request_id_that_is_on_the_logged_error_line(
    anonymous: Client, production_log: io.StringIO
) -> None:
    response = anonymous.get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "Server Error (500)" not in page
    assert 'href="/static/rounds/rounds.css"' in page  # the app's look
    match = REQUEST_ID.search(page)
    assert match is not None
    request_id = match.group(1)
    assert response.headers["X-Request-ID"] == request_id
    error_lines = [line for line in production_log.getvalue().splitlines() if " ERROR " in line]
    assert error_lines, production_log.getvalue()
    assert f"ERROR [{request_id}] django.request: Internal Server Error: /boom/" in error_lines[0]
    assert "RuntimeError: a bug in a view" in production_log.getvalue()


@pytest.mark.urls("tests.error_urls")
def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(
    anonymous: Client, production_log: io.StringIO
) -> None:
    kept = anonymous.get("/boom/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    replaced = anonymous.get("/boom/", HTTP_X_REQUEST_ID="<script>alert(1)</script>\n[ERROR] forged")

    assert kept.headers["X-Request-ID"] == "lb-7f3a.42"
    assert "lb-7f3a.42" in kept.content.decode()
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])
    assert "<script>" not in replaced.content.decode()
    assert "forged" not in production_log.getvalue()
    assert "[lb-7f3a.42] django.request" in production_log.getvalue()


@pytest.mark.urls("tests.error_urls")
@pytest.mark.django_db
def test_every_log_line_of_a_request_carries_its_id_and_lines_outside_a_request_do_not(
    anonymous: Client, production_log: io.StringIO
) -> None:
    anonymous.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    logging.getLogger("rounds.test").warning("after the request")

    lines = production_log.getvalue().splitlines()
    assert any("WARNING [req-404] django.request: Not Found: /no-such-page/" in line for line in lines), lines
    assert any("WARNING [-] rounds.test: after the request" in line for line in lines), lines


@pytest.mark.urls("tests.error_urls")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/no-such-page/", 404, "Page not found"),
        ("/forbidden/", 403, "Not allowed"),
        ("/suspicious/", 400, "Bad request"),
    ],
)
def test_4xx_pages_are_friendly_and_show_the_request_id(
    client: Client, django_user_model: type, path: str, status: int, title: str
) -> None:
    user = django_user_model.objects.create_user(username="ward-editor", password="x")
    client.force_login(user)

    response = client.get(path, HTTP_X_REQUEST_ID=f"req-{status}")

    assert response.status_code == status
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page
    assert f"<code data-request-id>req-{status}</code>" in page
    assert 'class="topbar"' in page


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_gets_the_friendly_403(django_user_model: type) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user(username="ward-editor", password="x"))

    response = client.post("/posts/new/", {"body": "Infotag am 12.12.2026"}, HTTP_X_REQUEST_ID="csrf-1")

    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "<code data-request-id>csrf-1</code>" in page


@pytest.mark.django_db
def test_a_post_that_does_not_exist_answers_the_friendly_404(client: Client, django_user_model: type) -> None:
    client.force_login(django_user_model.objects.create_user(username="ward-viewer", password="x"))

    response = client.get("/posts/999999/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


_OUTAGE_PROBE = """
import json
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings

def seen(response):
    return {"status": response.status_code, "headers": dict(response.headers),
            "body": response.content.decode(), "cookies": response.cookies.output()}

with override_settings(ROOT_URLCONF="tests.error_urls"):
    client = Client(raise_request_exception=False)
    print(json.dumps({
        "page": seen(client.get("/calendar/", HTTP_COOKIE="%(cookie)s", HTTP_X_REQUEST_ID="outage-1")),
        "login": seen(client.post("/accounts/login/", {"login": "editor", "password": "secret"})),
        "bug": seen(client.get("/boom/")),
    }))
"""


def _free_port() -> int:
    """Return a local TCP port nothing listens on (bound and released: connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unreachable(kind: str, tmp_path: Path) -> str:
    if kind == "postgres":
        return f"postgres://postgres@127.0.0.1:{_free_port()}/rounds_outages"
    # A database file below a regular file: SQLite cannot open (or create) it.
    (tmp_path / "not-a-folder").write_text("")
    return f"sqlite:///{tmp_path / 'not-a-folder' / 'rounds.sqlite3'}"


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_an_unreachable_database_answers_503_with_retry_after_and_keeps_the_session_cookie(
    kind: str, tmp_path: Path
) -> None:
    env = django_env(
        DJANGO_SETTINGS_MODULE="calendar_project.test_settings",
        DATABASE_URL=_unreachable(kind, tmp_path),
        ROUNDS_MAINTENANCE_RETRY_AFTER="45",
    )

    result = python("-c", _OUTAGE_PROBE % {"cookie": SESSION_COOKIE}, env=env, timeout=60)

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("page", "login"):
        answer = seen[name]
        assert answer["status"] == 503, (name, answer["status"], result.stderr[-2000:])
        assert answer["headers"]["Retry-After"] == "45"
        assert "Rounds is briefly unavailable" in answer["body"]
        assert "sessionid" not in answer["cookies"]  # an outage logs no one out
    assert "<code data-request-id>outage-1</code>" in seen["page"]["body"]
    # A bug while the database is down still gets the friendly 500 page (it needs no database).
    assert seen["bug"]["status"] == 500
    assert "Something went wrong" in seen["bug"]["body"]


def test_the_web_statement_timeout_applies_to_web_processes_and_not_to_management_commands() -> None:
    show = (
        "import sys; sys.argv = %r; import django; django.setup(); "
        "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS'])"
    )
    env = django_env(
        DJANGO_SETTINGS_MODULE="calendar_project.test_settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/rounds_outages",
        ROUNDS_DB_STATEMENT_TIMEOUT="7.5",
        ROUNDS_DB_CONNECT_TIMEOUT="3",
    )

    web = python("-c", show % (["gunicorn"],), env=env)
    migrate = python("-c", show % (["manage.py", "migrate"],), env=env)
    runserver = python("-c", show % (["manage.py", "runserver"],), env=env)

    assert "'connect_timeout': 3" in web.stdout, web.stderr
    assert "-c statement_timeout=7500" in web.stdout
    assert "-c statement_timeout=7500" in runserver.stdout
    assert "-c statement_timeout=0" in migrate.stdout, migrate.stderr
    assert "'connect_timeout': 3" in migrate.stdout
