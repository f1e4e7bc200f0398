"""Every main page under gunicorn at hospital scale, against the login page in the same run (issue 17).

Run: ``.venv/bin/python bench/http.py`` (``make bench`` runs it). Builds a scratch PostgreSQL
database with bench.lib.volume (20,000 posts over 12 months in 5 campaigns, about 300 in the
measured month), starts gunicorn with the project's configuration (2 sync workers, production
settings), logs in as each role and loads each page for BENCH_SECONDS (3) with BENCH_CONNECTIONS
(4) connections, with ``wrk`` where installed (scripts/ensure-wrk), else a small Python client.
Each page's median server time (the goal's "p50") comes from a second, one-connection run of
SERVER_SECONDS: under the four connections a request also waits for one of the two workers, and
that wait is the throughput figure's business, not the page's time.
The pages are measured in BENCH_ROUNDS (3) rounds, each going through every page, the login page
first: a page's figures are the medians of its rounds, and its ratio to the login page is taken
within each round. A shared machine's slow minute then touches every page alike instead of
deciding one page's figure. Each round starts with a fixed piece of pure Python (``cpu_index_ms``),
printed so that a reader sees how fast the machine was while it measured.
Before the load, one request per page gives its status (anything but 200 is an error, not a
fast page) and HTML size; a separate process counts each page's queries with the test client on
the same database. Prints one JSON line with issue 17's goals next to the figures; skips (a
"skipped" line, exit 0) without PostgreSQL.

Options: ``--pages calendar_month,my_posts`` (the login page is always measured: the ratios need
it), ``--posts N``, ``--keep`` (leave the database and print its DATABASE_URL, for profiling).
"""

import sys
from pathlib import Path

# This file's name is the standard library's http: drop the folder from the path before anything
# imports http.client, and put the project root there instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

GOALS = {"ratio_min": 0.1, "server_p50_ms_max": 25, "html_kb_max": 150}
# Seconds of one-connection load that give each page's median server time.
SERVER_SECONDS = 2
WRK = "/usr/bin/wrk"


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # the user of bench.lib.volume's JSON who asks for it; "" is anonymous
    path: str


def pages(world: dict[str, Any]) -> list[Page]:
    """Return the measured pages, the login page first, each asked for by the role that works on it."""
    day = world["month"][:8] + "15"
    return [
        Page("login", "", "/accounts/login/"),
        Page("calendar_month", "editor", f"/calendar/?view=month&date={day}"),
        Page("calendar_week", "editor", f"/calendar/?view=week&date={day}"),
        Page("calendar_list", "editor", f"/calendar/?view=list&date={day}"),
        Page("calendar_month_viewer", "viewer", f"/calendar/?view=month&date={day}"),
        Page("inbox_medical", "medical", "/reviews/"),
        Page("inbox_legal", "legal", "/reviews/"),
        Page("post_editor", "editor", f"/posts/{world['draft']}/edit/"),
        Page("post_detail", "editor", f"/posts/{world['published']}/"),
        Page("review", "medical", f"/reviews/posts/{world['in_review']}/"),
        Page("publishing", "comms", "/publishing/"),
        Page("my_posts", "editor", "/reviews/mine/"),
        Page("consent_registry", "consent", "/consent/"),
        Page("campaign_list", "editor", "/campaigns/"),
    ]


# Load -----------------------------------------------------------------------------------------


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT[unit]


def wrk_load(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> dict[str, Any]:
    """Return requests/s, p50/p99 in ms and the non-2xx/3xx count of a ``wrk --latency`` run."""
    command = [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if not (rps and total):
        raise RuntimeError(f"wrk said:\n{out}\n{done.stderr}")
    answered = int(total.group(1)) > 0 and p50 and p99
    return {
        "requests": int(total.group(1)),
        "rps": float(rps.group(1)),
        "p50_ms": round(_ms(p50.group(1)), 2) if answered else None,  # type: ignore[union-attr]
        "p99_ms": round(_ms(p99.group(1)), 2) if answered else None,  # type: ignore[union-attr]
        "non_2xx": int(bad.group(1)) if bad else 0,
        **({"socket_errors": errors.group(1).strip()} if errors else {}),
    }


def python_load(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> dict[str, Any]:
    """The same figures as `wrk_load`, from ``connections`` threads each asking again as soon as answered."""
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    headers = {"Host": "127.0.0.1", **({"Cookie": cookie} if cookie else {})}

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # reopens after gunicorn closes
        while time.monotonic() < stop:
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                bad[0] += response.status >= 400
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    if not ordered:
        return {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "non_2xx": 0}
    return {
        "requests": len(ordered),
        "rps": round(len(ordered) / elapsed, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "non_2xx": bad[0],
    }


def settle(port: int, *, limit: float = 120) -> None:
    """Wait until gunicorn holds no connection: the requests wrk left behind at its deadline are done.

    A sync worker answers a queued request even after its client went away; without the wait the
    next page would be measured while the workers still build the last one's slow pages.
    """
    table = Path("/proc/net/tcp")  # Linux; elsewhere the next page starts at once
    busy = {"01", "08"}  # ESTABLISHED, CLOSE_WAIT, on the server's side of the port
    deadline = time.monotonic() + limit
    while table.exists() and time.monotonic() < deadline:
        rows = table.read_text().splitlines()[1:]
        if not any(int(row.split()[1].split(":")[1], 16) == port and row.split()[3] in busy for row in rows):
            return
        time.sleep(0.2)


def fetch(port: int, path: str, cookie: str) -> tuple[int, int, float]:
    """Return the status, body size and milliseconds of one GET (the server otherwise idle)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **({"Cookie": cookie} if cookie else {})})
        response = connection.getresponse()
        size = len(response.read())
        return response.status, size, round((time.perf_counter() - started) * 1000, 1)
    finally:
        connection.close()


def signed_in(port: int, username: str, secret: str) -> str:
    """Sign in through the login page, with the authenticator code where asked; return the session id."""
    from bench.lib.web import PASSWORD, Browser, Recorder, find_form
    from tests.people.totp import totp_code

    browser = Browser(port=port, recorder=Recorder())
    browser.login(username, PASSWORD)
    page = browser.get("/accounts/2fa/authenticate/", kind="login")  # a form only while a code is due
    if page.status == 200:
        form = find_form(page.body, field="code")
        answer = browser.post(
            form.action or "/accounts/2fa/authenticate/", form.replaced(code=totp_code(secret)), kind="login"
        )
        if answer.status != 302:
            raise RuntimeError(f"{username}'s authenticator code was refused: {answer.status}")
    return browser.cookies["sessionid"]


# Queries, in a process of its own on the same database -------------------------------------------


def count_queries(plan: list[dict[str, str]]) -> dict[str, int]:
    """Return each page's query count: the second of two requests through the test client."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from people.models import User

    counts = {}
    for item in plan:
        client = Client(HTTP_HOST="127.0.0.1")
        if item["username"]:
            client.force_login(User.objects.get(username=item["username"]))
        client.get(item["path"])  # warm: caches, the session's first write
        with CaptureQueriesContext(connection) as queries:
            client.get(item["path"])
        counts[item["name"]] = len(queries.captured_queries)
    return counts


# The run ----------------------------------------------------------------------------------------


def cpu_index_ms() -> float:
    """Return the milliseconds of a fixed piece of pure Python: the machine's speed, beside the pages' figures."""
    started = time.perf_counter()
    for _ in range(20_000):
        sum(range(1000))
    return round((time.perf_counter() - started) * 1000, 1)


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.median(known), 2) if known else None


def rounds_summary(runs: list[dict[str, Any]], login: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Return a page's figures over its rounds: each the median of the rounds', requests and errors summed.

    The ratio to the login page is taken in each round (the login page measured minutes apart from
    the page, in another round, would compare two states of the machine), then its median.
    """
    # None for the login page itself, and where it was not measured (it answered no 200).
    ratios = [run["rps"] / base["rps"] for run, base in zip(runs, login or [], strict=False) if base["rps"]]
    summary: dict[str, Any] = {
        "requests": sum(run["requests"] for run in runs),
        "rps": _median([run["rps"] for run in runs]),
        "p50_ms": _median([run["p50_ms"] for run in runs]),
        "p99_ms": _median([run["p99_ms"] for run in runs]),
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "server_p50_ms": _median([run["server_p50_ms"] for run in runs]),
        "server_p50_rounds": [run["server_p50_ms"] for run in runs],
    }
    if ratios:
        summary["ratio"] = round(statistics.median(ratios), 3)
    errors = [run["socket_errors"] for run in runs if "socket_errors" in run]
    if errors:
        summary["socket_errors"] = errors
    return summary


def judged(row: dict[str, Any]) -> list[str]:
    """Return which of issue 17's goals a page misses (the login page is the yardstick, not judged)."""
    missed = []
    if row["status"] != 200 or row.get("non_2xx"):
        missed.append("status")
    elif not row.get("requests"):
        missed.append("no answer within the run")
    if row.get("ratio") is not None and row["ratio"] < GOALS["ratio_min"]:
        missed.append("ratio")
    if row.get("server_p50_ms") is not None and row["server_p50_ms"] > GOALS["server_p50_ms_max"]:
        missed.append("server time")
    if row["html_kb"] > GOALS["html_kb_max"]:
        missed.append("html")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/http.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=int(os.environ.get("BENCH_POSTS", "20000")))
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and print its URL")
    parser.add_argument("--count-queries", help=argparse.SUPPRESS)  # the query-counting process's plan
    args = parser.parse_args()
    if args.count_queries:
        print(json.dumps(count_queries(json.loads(args.count_queries))))
        return

    from bench.lib.web import PASSWORD, Site

    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "4"))
    tool = "wrk" if shutil.which(WRK) else "python"
    load = wrk_load if tool == "wrk" else python_load
    started = time.monotonic()
    site = Site(workers=2, prefix="rounds_http")
    try:
        for command in (("migrate", "--no-input"), ("collectstatic", "--no-input")):
            done = site.scratch.manage(*command)
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {command[0]} failed:\n{done.stdout}\n{done.stderr}")
        world = site.scratch.json_module(  # type: ignore[attr-defined]
            "bench.lib.volume", "--posts", str(args.posts), "--password", PASSWORD
        )
        chosen = [page for page in pages(world) if not args.pages or page.name in {"login", *args.pages.split(",")}]
        site.start()
        cookies = {"": ""}
        for role in {page.role for page in chosen if page.role}:
            cookies[role] = f"sessionid={signed_in(site.port, world['users'][role][0], world['totp_secret'])}"
        plan = [
            {"name": page.name, "username": world["users"][page.role][0] if page.role else "", "path": page.path}
            for page in chosen
        ]
        done = site.scratch.run("bench/http.py", "--count-queries", json.dumps(plan))
        queries = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {}
        rows: dict[str, dict[str, Any]] = {}
        for page in chosen:
            status, size, alone_ms = fetch(site.port, page.path, cookies[page.role])
            rows[page.name] = {
                "role": page.role or "anonymous",
                "path": page.path,
                "status": status,
                "alone_ms": alone_ms,  # the first request, alone: what a page too slow for the load run takes
                "html_kb": round(size / 1024, 1),
                "queries": queries.get(page.name),
            }
        # A page's figures per round; a redirect or an error answers fast and would flatter the page.
        measured = [page for page in chosen if rows[page.name]["status"] == 200]
        runs: dict[str, list[dict[str, Any]]] = {page.name: [] for page in measured}
        cpu_ms = []
        for _round in range(rounds):
            cpu_ms.append(cpu_index_ms())
            for page in measured:
                run = load(site.port, page.path, cookies[page.role], seconds=seconds, connections=connections)
                settle(site.port)
                # The server time: one request at a time, so no request waits behind another for a worker.
                alone = load(site.port, page.path, cookies[page.role], seconds=SERVER_SECONDS, connections=1)
                run["server_p50_ms"] = alone["p50_ms"]
                settle(site.port)
                runs[page.name].append(run)
        for name, page_runs in runs.items():
            rows[name].update(rounds_summary(page_runs, None if name == "login" else runs.get("login")))
            rows[name]["missed"] = judged(rows[name]) if name != "login" else []
        for row in rows.values():
            row.setdefault("missed", judged(row))
        result = {
            "bench": "http",
            "load": tool,
            "seconds_per_page": seconds * rounds,
            "rounds": rounds,
            # A fixed piece of pure Python per round: how fast this machine was while it measured.
            "cpu_index_ms": cpu_ms,
            "connections": connections,
            "workers": 2,
            "world": {key: world[key] for key in ("posts", "in_month", "kinds", "subjects", "seconds")},
            "goals": {**GOALS, "my_posts": "server p50 <= 25 ms and html <= 150 KB at 20,000 posts"},
            "pages": rows,
            "errors": [name for name, row in rows.items() if "status" in row["missed"]],
            "pages_meeting_goals": sum(1 for name, row in rows.items() if name != "login" and not row["missed"]),
            "pages_judged": len(rows) - 1,
            "server_errors": site.server_errors(),
            "query_count_failed": done.stderr[-500:] if done.returncode != 0 else "",
            "total_seconds": round(time.monotonic() - started, 1),
        }
        if args.keep:
            result["kept_database_url"] = site.scratch.env["DATABASE_URL"]
            site.scratch.pg_name = ""  # close() then leaves it
        print(json.dumps(result))
    finally:
        site.close()


if __name__ == "__main__":
    main()
