"""Production settings, checked the way a server starts them: in a fresh process, from the environment."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Starts processes that read DATABASE_URL: kept in the PostgreSQL pass of .ci/run (tests/conftest.py).
pytestmark = pytest.mark.database_kind

ROOT = Path(__file__).resolve().parent.parent
HOST = "rounds.example.org"

# What a test process may have set that must not leak into the process under test.
# DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process; a server never has it.
_INHERITED = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def django_env(**overrides: str) -> dict[str, str]:
    """Return this process's environment without any Rounds or Django setting, plus ``overrides``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ROUNDS_") and key not in _INHERITED}
    env["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    env.update(overrides)
    return env


def production_env(**overrides: str) -> dict[str, str]:
    """Return the environment of a production server: a strong random secret and audit key, a host name, no DEBUG."""
    return django_env(
        **{
            "ROUNDS_SECRET_KEY": secrets.token_urlsafe(64),
            "ROUNDS_AUDIT_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "ROUNDS_ALLOWED_HOSTS": HOST,
            **overrides,
        }
    )


def python(*args: str, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess[str]:
    """Run the project's Python with ``args`` from the repository root; returns the finished process."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def manage(*args: str, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return python("manage.py", *args, env=env, timeout=timeout)


_SHOW_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECRET_KEY_LENGTH": len(s.SECRET_KEY),
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "PORT": db.get("PORT", ""),
    "USER": db.get("USER", ""),
    "OPTIONS": {key: getattr(value, "__qualname__", value) for key, value in db.get("OPTIONS", {}).items()},
    "CONN_MAX_AGE": db.get("CONN_MAX_AGE"),
    "Q_CLUSTER": {key: value for key, value in s.Q_CLUSTER.items() if key != "label"},
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "STATICFILES_BACKEND": s.STORAGES["staticfiles"]["BACKEND"],
    "EMAIL": [s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL],
    "SESSIONS": [s.SESSION_COOKIE_AGE, s.ROUNDS_SESSION_IDLE_MINUTES, s.ROUNDS_SESSION_MAX_HOURS],
    "LOCKOUT": [s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.AXES_LOCKOUT_PARAMETERS],
}))
"""


def settings_under(env: dict[str, str]) -> dict[str, Any]:
    """Return the settings a fresh process computes from ``env``."""
    result = python("-c", _SHOW_SETTINGS, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"ROUNDS_SECRET_KEY": "short"}, ["security.W009"]),
        ({"ROUNDS_HTTPS": "0"}, ["security.W004", "security.W008", "security.W012", "security.W016"]),
        ({"ROUNDS_DEBUG": "1"}, ["security.W018"]),
        ({"ROUNDS_AUDIT_KEY": ""}, ["audit.E001"]),
        ({"ROUNDS_AUDIT_KEY": "c2hvcnQ="}, ["audit.E002"]),
        ({"ROUNDS_EMAIL_TLS": "0"}, ["core.W001"]),
    ],
    ids=["weak-secret", "no-https", "debug", "no-audit-key", "bad-audit-key", "smtp-without-tls"],
)
def test_check_deploy_fails_on_an_unsafe_setting(overrides: dict[str, str], expected: list[str]) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(**overrides))

    assert result.returncode == 1
    for check_id in expected:
        assert check_id in result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = python("-c", "import django; django.setup()", env=django_env(ROUNDS_ALLOWED_HOSTS=HOST))

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set ROUNDS_SECRET_KEY" in result.stderr


def test_development_starts_without_a_secret_key_and_without_https() -> None:
    shown = settings_under(django_env(ROUNDS_DEBUG="1"))

    assert shown["DEBUG"] is True
    assert shown["SECRET_KEY_LENGTH"] >= 50
    assert shown["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert shown["SESSION_COOKIE_SECURE"] is False
    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["STATICFILES_BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_production_is_https_only_and_serves_hashed_static_files() -> None:
    shown = settings_under(production_env())

    assert shown["DEBUG"] is False
    assert shown["ALLOWED_HOSTS"] == [HOST]
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["STATICFILES_BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_production_mails_by_smtp_with_tls_unless_told_otherwise() -> None:
    shown = [
        settings_under(production_env(**extra))["EMAIL"]
        for extra in (
            {},
            {"ROUNDS_EMAIL_HOST": "smtp.example.org", "ROUNDS_EMAIL_PORT": "465", "ROUNDS_EMAIL_SSL": "1"},
            {"ROUNDS_EMAIL_TLS": "0"},
        )
    ]
    development = settings_under(django_env(ROUNDS_DEBUG="1"))["EMAIL"]

    assert shown == [
        [SMTP, "localhost", 587, True, False],
        [SMTP, "smtp.example.org", 465, False, True],
        [SMTP, "localhost", 587, False, False],
    ]
    assert development == ["django.core.mail.backends.console.EmailBackend", "localhost", 587, False, False]


def test_check_deploy_passes_with_smtp_over_implicit_tls() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(ROUNDS_EMAIL_SSL="1"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_sessions_end_after_30_idle_minutes_and_12_hours_unless_set_otherwise() -> None:
    assert settings_under(production_env())["SESSIONS"] == [12 * 3600, 30, 12]
    assert settings_under(production_env(ROUNDS_SESSION_MAX_HOURS="8", ROUNDS_SESSION_IDLE_MINUTES="15"))[
        "SESSIONS"
    ] == [8 * 3600, 15, 8]


def test_log_in_locks_after_5_failures_per_username_and_address_for_30_minutes_unless_set_otherwise() -> None:
    assert settings_under(production_env())["LOCKOUT"] == [5, 30 * 60, ["username", "ip_address"]]
    assert settings_under(production_env(ROUNDS_LOGIN_FAILURE_LIMIT="8", ROUNDS_LOGIN_COOLOFF_MINUTES="60"))[
        "LOCKOUT"
    ] == [8, 60 * 60, ["username", "ip_address"]]


def test_default_database_is_sqlite_under_var_with_immediate_transactions() -> None:
    shown = settings_under(production_env())

    assert shown["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(shown["NAME"]) == ROOT / "var" / "rounds.sqlite3"
    assert shown["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert shown["CONN_MAX_AGE"] == 0


def test_database_url_selects_postgresql() -> None:
    url = "postgres://rounds:secret@db.example.org:5433/rounds_prod"

    shown = settings_under(production_env(DATABASE_URL=url))

    assert shown["ENGINE"] == "django.db.backends.postgresql"
    assert (shown["NAME"], shown["HOST"], shown["PORT"], shown["USER"]) == (
        "rounds_prod",
        "db.example.org",
        5433,
        "rounds",
    )
    assert "transaction_mode" not in shown["OPTIONS"]
    assert shown["CONN_MAX_AGE"] == 60
    # Statements bound on the server and prepared after five runs (core/database.py) ...
    assert shown["OPTIONS"]["server_side_binding"] is True
    assert (shown["OPTIONS"]["cursor_factory"], shown["OPTIONS"]["prepare_threshold"]) == ("PreparingCursor", 5)
    # ... unless a pooler that cannot keep them asks for Django's client-side binding.
    plain = settings_under(production_env(DATABASE_URL=url, ROUNDS_DB_PREPARED_STATEMENTS="0"))["OPTIONS"]
    assert not {"server_side_binding", "cursor_factory", "prepare_threshold"} & set(plain)


_SHOW_QUEUE = """
import json
import django
django.setup()
from django.conf import settings
from django_q.brokers import get_broker
queue = {key: value for key, value in settings.Q_CLUSTER.items() if key in {"orm", "redis"}}
print(json.dumps({"queue": queue, "broker": type(get_broker()).__name__}))
"""


def test_task_broker_is_the_database_unless_redis_is_configured(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'rounds.sqlite3'}"
    redis_url = "redis://cache.example.org:6379/2"

    shown = [
        json.loads(python("-c", _SHOW_QUEUE, env=production_env(DATABASE_URL=sqlite, **extra)).stdout)
        for extra in ({}, {"ROUNDS_REDIS_URL": redis_url})
    ]

    assert shown == [
        {"queue": {"orm": "default"}, "broker": "ORM"},
        {"queue": {"redis": redis_url}, "broker": "Redis"},
    ]


def test_every_model_change_has_its_migration() -> None:
    result = manage("makemigrations", "--check", "--dry-run", env=django_env(ROUNDS_DEBUG="1"))

    assert result.returncode == 0, result.stdout + result.stderr


# How the project reads its environment: os.environ.get / os.getenv / env_bool / env_list("NAME", ...).
_ENV_READ = re.compile(r'(?:environ\.get|getenv|env_bool|env_list)\(\s*"([A-Z][A-Z0-9_]+)"')
_NOT_PROJECT = {".venv", "tests", "bench", "migrations", "var", "node_modules"}


def test_readme_documents_every_environment_variable_the_project_reads() -> None:
    tops = [path for path in ROOT.iterdir() if path.is_dir() and path.name not in _NOT_PROJECT]
    sources = [
        path
        for top in tops
        if not top.name.startswith(".")
        for path in top.rglob("*.py")
        if not _NOT_PROJECT & set(path.relative_to(ROOT).parts)
    ]
    names = {name for path in sources for name in _ENV_READ.findall(path.read_text(encoding="utf-8"))}
    names |= {"DATABASE_URL"}  # read by dj_database_url.config()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert {"ROUNDS_SECRET_KEY", "ROUNDS_DEBUG", "ROUNDS_REDIS_URL"} <= names
    assert sorted(name for name in names if f"`{name}`" not in readme) == []


def test_architecture_lists_every_declared_schedule() -> None:
    from calendar_project.schedules import PREFIX, SCHEDULES

    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")

    assert SCHEDULES
    for name, (func, _minutes) in SCHEDULES.items():
        assert f"`{PREFIX}{name}`" in architecture
        assert f"`{func}`" in architecture
