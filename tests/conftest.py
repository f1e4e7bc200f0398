"""Shared fixtures: people in each role, campaigns, accounts, posts; a shared browser."""

import datetime as dt
import io
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from people import roles


def _shared_dir() -> Path:
    """Find shared/ (the test data): ROUNDS_SHARED_DIR, else beside the repository (as in CI),
    else beside the repository this one was cloned from (a throw-away clone in /tmp)."""
    if os.environ.get("ROUNDS_SHARED_DIR"):
        return Path(os.environ["ROUNDS_SHARED_DIR"])
    root = Path(__file__).resolve().parent.parent
    beside = root.parent / "shared"
    if beside.is_dir():
        return beside
    origin = subprocess.run(
        ["git", "-C", str(root), "config", "--get", "remote.origin.url"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if origin and "://" not in origin and (Path(origin).resolve().parent / "shared").is_dir():
        return Path(origin).resolve().parent / "shared"
    return beside


SHARED = _shared_dir()
FIXTURES = SHARED / "fixtures"
IMAGES = FIXTURES / "images"
CSV = FIXTURES / "csv"

IN_CI = bool(os.environ.get("CI"))


def need_service(name: str, host: str, port: int) -> None:
    """Skip when a local service is missing, except in CI, where it must be there."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        if IN_CI:
            pytest.fail(f"{name} is required in CI but not reachable on {host}:{port}")
        pytest.skip(f"{name} is not running on {host}:{port}")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: Any) -> None:
    """Refuse to run when ``--dist loadgroup`` would not keep an ``xdist_group`` on one worker.

    The worker marks a grouped test by appending ``@group`` to its node id; under pytest 9.2 that
    no longer takes (pytest-dev/pytest-xdist#1386) and the groups were silently spread over the
    workers: two workers raced one scratch server, and built the page sweep's demo twice.
    """
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup does not group {lost[0]} (and {len(lost) - 1} more): see requirements-dev.txt"
        )


# A test that asks for none of these (itself or through its fixtures) and has none of the marks
# below cannot reach a database: pytest-django refuses it any query.
DATABASE_FIXTURES = frozenset(
    {
        *("db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "django_db_setup"),
        *("live_server", "client", "admin_client", "django_user_model"),
    }
)
# The test database, or a server of their own (scratch PostgreSQL databases, Redis, processes).
DATABASE_MARKERS = ("django_db", "database_kind", "postgres", "pg_suite", "processes", "redis")


def uses_database(item: Any) -> bool:
    """Return whether ``item`` may use the database of the suite's pass."""
    if any(item.get_closest_marker(name) for name in DATABASE_MARKERS):
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Deselect ``pg_suite`` tests unless the suite's own database is PostgreSQL; with
    ROUNDS_TESTS_DATABASE_ONLY set, deselect the tests that cannot use the database.

    ``pg_suite`` tests race real connections on the test database itself, which only the
    PostgreSQL pass of .ci/run has; on SQLite they are not collected rather than skipped. The
    PostgreSQL pass sets ROUNDS_TESTS_DATABASE_ONLY: the tests without a database gave their
    answer in the SQLite pass, and would give the same one again.
    """
    if os.environ.get("ROUNDS_TESTS_DATABASE_ONLY"):
        using = {item: uses_database(item) for item in items}
        if not all(using.values()):
            config.hook.pytest_deselected(items=[item for item in items if not using[item]])
            items[:] = [item for item in items if using[item]]
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    kept = [item for item in items if item.get_closest_marker("pg_suite") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("pg_suite")])
        items[:] = kept


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the one-line summaries tests recorded (``record_property("summary", ...)``), xdist workers' too."""
    reports = [*terminalreporter.getreports("passed"), *terminalreporter.getreports("failed")]
    lines = [
        value
        for report in reports
        if report.when == "call"
        for name, value in report.user_properties
        if name == "summary"
    ]
    if lines:
        terminalreporter.write_sep("-", "recorded by the tests")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _cache_cleared() -> None:
    """Start each test with an empty cache: a rolled-back database reuses audit ids, which key
    cached counts (audit.selectors.state_cached)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    # Checkpoints sign one test's chain; the next test's rolled-back database must not meet them.
    settings.ROUNDS_AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"


def make_user(username: str, *groups: str, **extra: Any) -> Any:
    from people.models import User

    user = User.objects.create_user(username=username, password="pw", email=f"{username}@example.org", **extra)
    for name in groups:
        user.groups.add(role_group(name))
    return user


def deliver_again(func: str) -> int:
    """Run every stored django-q2 task of ``func`` once more with its arguments, as a second delivery
    would (the test settings run tasks inline and keep them); return what the runs returned, summed."""
    from django.utils.module_loading import import_string
    from django_q.models import Task

    tasks = list(Task.objects.filter(func=func).order_by("started"))
    assert tasks, f"no {func} task ran"
    function = import_string(func)
    return sum(function(*(task.args or ()), **(task.kwargs or {})) for task in tasks)


def image_checks_run(post: Any) -> None:
    """Run the image check of each of the post's images, as the worker does once the upload commits.

    Tests in a transaction that is rolled back never commit, so the queued checks do not run; Legal
    approves only once they have ended (`approvals.services.decision_record`).
    """
    from posts.scans import media_scan_run

    for media_id in post.media.values_list("pk", flat=True):
        media_scan_run(media_id)


def role_group(name: str) -> Group:
    """Return the role's group; make the roles again if a transactional test left them flushed.

    A ``transaction=True, serialized_rollback=True`` test empties every table when it ends and
    skips the post-migrate work that would refill them (its own data comes back at its start),
    so the next test on that worker finds no groups, permissions or content types.
    """
    try:
        return Group.objects.get(name=name)
    except Group.DoesNotExist:
        from django.contrib.contenttypes.models import ContentType
        from django.core.management.sql import emit_post_migrate_signal

        ContentType.objects.clear_cache()
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
        return Group.objects.get(name=name)


@pytest.fixture
def editor(db: None) -> Any:
    return make_user("editor", roles.EDITOR)


@pytest.fixture
def other_editor(db: None) -> Any:
    return make_user("other_editor", roles.EDITOR)


@pytest.fixture
def governance(db: None) -> Any:
    return make_user("governance", roles.GOVERNANCE, is_staff=True)


@pytest.fixture
def viewer(db: None) -> Any:
    return make_user("viewer", roles.VIEWER)


@pytest.fixture
def account_factory(db: None) -> Any:
    from posts.models import Account

    counter = {"n": 0}

    def make(platform: str = "facebook", **fields: Any) -> Account:
        counter["n"] += 1
        n = counter["n"]
        fields.setdefault("name", f"{platform.title()} account {n}")
        fields.setdefault("handle", f"{platform}_{n}")
        return Account.objects.create(platform=platform, **fields)

    return make


@pytest.fixture
def accounts(account_factory: Any) -> list[Any]:
    return [account_factory("facebook"), account_factory("instagram"), account_factory("x")]


@pytest.fixture
def campaign_factory(db: None) -> Any:
    from posts.services import campaign_create

    counter = {"n": 0}

    def make(owner: Any, **fields: Any) -> Any:
        counter["n"] += 1
        today = timezone.localdate()
        fields.setdefault("name", f"Campaign {counter['n']}")
        fields.setdefault("start_date", today - dt.timedelta(days=30))
        fields.setdefault("end_date", today + dt.timedelta(days=60))
        return campaign_create(actor=owner, **fields)

    return make


@pytest.fixture
def campaign(editor: Any, campaign_factory: Any) -> Any:
    return campaign_factory(editor, name="Heart health week")


@pytest.fixture
def post_factory(db: None) -> Any:
    from posts.services import TargetSpec, post_create

    def make(
        author: Any, campaign: Any, *, targets: list[Any] = (), when: dt.datetime | None = None, **data: Any
    ) -> Any:  # type: ignore[assignment]
        data.setdefault("body", "Wash your hands: it saves lives.")
        return post_create(
            actor=author,
            campaign=campaign,
            data=data,
            targets=[TargetSpec(account=account) for account in targets],
            scheduled_at=when,
        )

    return make


# Consent ------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def officer(db: None) -> Any:
    return make_user("consent", roles.CONSENT_OFFICER)


@pytest.fixture
def officer2(db: None) -> Any:
    return make_user("consent2", roles.CONSENT_OFFICER)


@pytest.fixture
def subject_factory(officer: Any) -> Any:
    from consent.services import subject_create

    counter = {"n": 0}

    def make(**data: Any) -> Any:
        counter["n"] += 1
        data.setdefault("display_name", f"Patient {counter['n']}")
        data.setdefault("reference", f"CASE-{counter['n']:04d}")
        return subject_create(actor=officer, data=data)

    return make


@pytest.fixture
def record_factory(officer: Any, officer2: Any) -> Any:
    """Record (and by default verify) a consent through the real services."""
    from consent.services import SignerSpec, consent_record_create, consent_verify

    def make(subject: Any, *, verify: bool = True, signers: list[Any] | None = None, **data: Any) -> Any:
        data.setdefault("media_kinds", ["photo", "name", "story"])
        data.setdefault("description", "Fotos vom Stationsbesuch, Vorname und Geschichte der Behandlung")
        data.setdefault("disclosing_organisation", "Klinikum Nord")
        data.setdefault("all_platforms", True)
        data.setdefault("purposes", ["education"])
        data.setdefault("signed_on", timezone.localdate() - dt.timedelta(days=10))
        data.setdefault("expires_on", timezone.localdate() + dt.timedelta(days=365))
        data.setdefault("states_right_to_revoke", True)
        data.setdefault("states_no_conditioning", True)
        data.setdefault("states_redisclosure", True)
        data.setdefault("copy_given_on", data["signed_on"])
        data.setdefault("copy_given_how", "handed_over" if data["copy_given_on"] else "")
        record = consent_record_create(
            actor=officer,
            subject=subject,
            data=data,
            signers=signers or [SignerSpec(role="subject", name=subject.display_name)],
            document=io.BytesIO(PDF_BYTES),
            document_name="form.pdf",
        )
        if verify:
            record = consent_verify(record=record, actor=officer2)
        return record

    return make


# Browser ------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per test process, shared by every browser test."""
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"],
        )
        yield browser
        browser.close()


# Runs in every page before the page's own scripts. The browser injects it through its debugging
# protocol, so the page's Content-Security-Policy does not apply to it.
CSP_MARK = "rounds-csp-violation "
CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  console.error("{CSP_MARK}" + JSON.stringify({{
    directive: event.effectiveDirective,
    blocked: event.blockedURI || "(inline)",
    page: event.documentURI,
    sample: event.sample,
  }}));
}}, true);
"""


def csp_guard(context: Any) -> list[str]:
    """Record every Content-Security-Policy violation in ``context``'s pages; return the growing list.

    Each entry names the directive, the blocked URI (or "(inline)") and the page. Chromium's own
    console report of a violation is kept too, in case a violation fires no event.
    """
    found: list[str] = []

    def on_console(message: Any) -> None:
        text = message.text
        if text.startswith(CSP_MARK):
            found.append(text.removeprefix(CSP_MARK))
        elif "Content Security Policy" in text:
            found.append(f"console: {text}")

    context.on("console", on_console)
    context.add_init_script(CSP_LISTENER)
    return found


@contextmanager
def browser_context(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh context of the shared browser (own cookies); fails if any of its pages broke the CSP."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/Berlin")
    context.set_default_timeout(10_000)
    violations = csp_guard(context)
    try:
        yield context
        # A round trip per open page: console messages sent before it are handled by now.
        for open_page in context.pages:
            open_page.wait_for_load_state()
            open_page.evaluate("0")
    finally:
        context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    with browser_context(browser, live_server) as context:
        yield context.new_page()


def browser_login(page: Any, username: str, password: str = "pw") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """Start every test in the default language.

    A test client's request activates its user's language for the thread (LocaleMiddleware, as in
    a web worker, whose next request activates its own); without this, a later test in the same
    worker reads German messages, depending on how xdist shares out the tests.
    """
    from django.utils import translation

    before = translation.get_language()
    yield
    translation.activate(before)
