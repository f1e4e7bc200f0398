"""Load runs against the real production stack: a scratch PostgreSQL database, gunicorn with the
project's configuration, optionally the task cluster and the publish dispatcher, and browsers
that log in, read forms from the HTML and submit them as a person's browser would.

Shared by bench/concurrent_saves.py, bench/concurrent_approvals.py and bench/mixed_load.py. The
scratch database and the manage.py processes come from the harness of the multi-process tests
(tests/posts/procs.py); everything is stopped and dropped in ``Site.close``.
"""

import base64
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.posts.procs import PG, Proc, Scratch, reachable  # noqa: E402

_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Overflow\w*|DoesNotExist)\b.*")
PASSWORD = "bench-password-" + secrets.token_hex(4)


def short() -> bool:
    """Return whether the run is the short one (BENCH_SHORT, on by default; BENCH_SHORT=0 for the full run)."""
    return os.environ.get("BENCH_SHORT", "1").strip().lower() not in {"0", "false", "no", "off"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Site:
    """Rounds on a scratch PostgreSQL database behind gunicorn, with production settings."""

    def __init__(self, *, workers: int = 3, prefix: str = "rounds_load") -> None:
        if not reachable(PG):
            # Skipped, not failed: make bench goes on with the other scripts on a laptop without it.
            print(
                json.dumps({"bench": Path(sys.argv[0]).stem, "skipped": "PostgreSQL is not running on 127.0.0.1:5432"})
            )
            raise SystemExit(0)
        self.port = free_port()
        self.scratch = Scratch(
            kind="postgres",
            prefix=prefix,
            settings={
                "ROUNDS_DEBUG": "",
                "ROUNDS_SECRET_KEY": secrets.token_urlsafe(64),
                "ROUNDS_AUDIT_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "ROUNDS_HTTPS": "0",
                "ROUNDS_ALLOWED_HOSTS": "127.0.0.1",
                "ROUNDS_STATIC_ROOT": "",  # set below, inside the scratch folder
                "ROUNDS_BIND": f"127.0.0.1:{self.port}",
                "ROUNDS_WEB_WORKERS": str(workers),
                "ROUNDS_WEB_ACCESS_LOG": "",
                "ROUNDS_LOG_LEVEL": "WARNING",
            },
        )
        self.scratch.env["ROUNDS_STATIC_ROOT"] = str(self.scratch.folder / "static")
        self.web: Proc | None = None

    def __enter__(self) -> "Site":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, **world: int) -> dict[str, Any]:
        """Migrate, collect static files and build the world (bench.lib.world); return its JSON."""
        for args in (("migrate", "--no-input"), ("collectstatic", "--no-input")):
            done = self.scratch.manage(*args)
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        options = [f"--{key.replace('_', '-')}={value}" for key, value in world.items()]
        return self.scratch.json_module("bench.lib.world", *options, "--password", PASSWORD)

    def start(self, *, cluster: bool = False, dispatcher: bool = False) -> None:
        """Start gunicorn (and the task cluster and the dispatcher); wait until gunicorn accepts."""
        if cluster:
            self.scratch.start("qcluster", "qcluster")
        if dispatcher:
            self.scratch.start("dispatcher", "publish_dispatcher")
        log = self.scratch.folder / "gunicorn.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), "-c", "calendar_project/gunicorn.conf.py"],
                cwd=ROOT,
                env=self.scratch.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.web = Proc(name="gunicorn", popen=popen, log=log)
        self.scratch.processes.append(self.web)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if not self.web.alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{self.web.tail()}") from None
                time.sleep(0.2)

    def browser(self, username: str, recorder: "Recorder") -> "Browser":
        browser = Browser(port=self.port, recorder=recorder)
        browser.login(username, PASSWORD)
        return browser

    def server_errors(self) -> dict[str, int]:
        """Return how often each exception ended a request in gunicorn's log ("IntegrityError: duplicate key ...")."""
        if self.web is None:
            return {}
        found: Counter[str] = Counter()
        in_error = False
        last = ""
        for line in self.web.output().splitlines():
            if " ERROR [" in line:
                if in_error and last:
                    found[last] += 1
                in_error, last = True, ""
            elif in_error and _EXCEPTION.match(line):
                last = line.split(".")[-1][:140] if ": " not in line else _short(line)
        if in_error and last:
            found[last] += 1
        return dict(found.most_common(8))

    def audit_intact(self) -> bool:
        done = self.scratch.manage("verify_audit")
        return done.returncode == 0 and "intact" in done.stdout

    def close(self) -> None:
        self.scratch.close()


def _json_module(self: Scratch, module: str, *args: str, timeout: float = 600) -> Any:
    done = self.run("-m", module, *args, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


Scratch.json_module = _json_module  # type: ignore[attr-defined]


def _short(line: str) -> str:
    """Return "Name: message" of an exception line, without the module path, at most 140 characters."""
    name, _, message = line.partition(": ")
    return f"{name.rsplit('.', 1)[-1]}: {message}"[:140]


# Recording ------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Every answer of a run: what was asked, its status and how long it took (thread-safe)."""

    rows: list[tuple[str, int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.rows.append((kind, status, seconds))

    def summary(self) -> dict[str, Any]:
        statuses = Counter(str(status) for _, status, _ in self.rows)
        latencies = sorted(seconds for _, _, seconds in self.rows)
        errors = Counter(kind for kind, status, _ in self.rows if status >= 500)
        by_page: dict[str, Counter[str]] = {}
        for kind, status, _ in self.rows:
            by_page.setdefault(kind, Counter())[str(status)] += 1
        return {
            "requests": len(self.rows),
            "5xx": sum(count for status, count in statuses.items() if status.startswith("5")),
            "statuses": dict(sorted(statuses.items())),
            "5xx_by_page": dict(errors.most_common()),
            "statuses_by_page": {kind: dict(sorted(counts.items())) for kind, counts in sorted(by_page.items())},
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p95_ms": round(statistics.quantiles(latencies, n=20)[18] * 1000, 1) if len(latencies) > 1 else None,
        }


# A browser ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """One person's browser: its cookies, and every request recorded with a page kind."""

    def __init__(self, *, port: int, recorder: Recorder) -> None:
        self.port = port
        self.recorder = recorder
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, kind: str, data: list[tuple[str, str]] | None = None) -> Answer:
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            status = response.status
            answer_headers = {key.lower(): value for key, value in response.getheaders()}
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
        except (OSError, http.client.HTTPException) as error:
            status, answer_headers, text = 599, {}, str(error)  # the connection broke: count as a 5xx
        finally:
            connection.close()
        self.recorder.add(kind, status, time.monotonic() - started)
        return Answer(status=status, headers=answer_headers, body=text)

    def get(self, path: str, *, kind: str) -> Answer:
        return self.request("GET", path, kind=kind)

    def post(self, path: str, data: list[tuple[str, str]], *, kind: str) -> Answer:
        return self.request("POST", path, kind=kind, data=data)

    def login(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/", kind="login")
        form = find_form(page.body, field="login")  # django-allauth's login form
        fields = [(k, v) for k, v in form.fields if k not in {"login", "password"}]
        answer = self.post("/accounts/login/", [*fields, ("login", username), ("password", password)], kind="login")
        if answer.status != 302:
            raise RuntimeError(f"{username} could not log in: {answer.status}")


# Forms as a browser submits them ----------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    choices: dict[str, list[str]] = field(default_factory=dict)  # every checkbox, radio or option value

    def value(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    def replaced(self, **values: str | list[str]) -> list[tuple[str, str]]:
        """Return the fields with ``values`` in place of what the page held (a list: one pair per item)."""
        kept = [(k, v) for k, v in self.fields if k not in values]
        for name, value in values.items():
            kept.extend((name, item) for item in ([value] if isinstance(value, str) else value))
        return kept


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get").lower()))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name", "")
        if tag in {"input", "textarea", "select", "button"} and name:
            form.names.add(name)
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind == "submit":
                form.buttons.append((name, a.get("value", "")))
            elif kind != "file":
                form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name:
            form.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name and "disabled" not in a:
            self._textarea, self._text = name, []
        elif tag == "select" and name and "disabled" not in a:
            self._select, self._options = (name, "multiple" in a), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            form.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            form.choices[name] = [value for value, _ in self._options]
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            form.fields.extend((name, value) for value in chosen)
            self._select = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(html: str, *, field: str | None = None, action: str | None = None) -> Form:
    """Return the first form with an input named ``field`` (or whose action contains ``action``)."""
    for form in forms(html):
        if (field is None or field in form.names) and (action is None or action in form.action):
            return form
    raise LookupError(f"no form with field={field!r} action={action!r}")
