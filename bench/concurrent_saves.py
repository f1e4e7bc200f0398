"""Twenty editors save the same post at the same moment, through the real editor over HTTP; print one JSON line.

Run: ``.venv/bin/python bench/concurrent_saves.py`` (or ``make bench``). Needs PostgreSQL on
127.0.0.1:5432: a scratch database is created and dropped. gunicorn serves Rounds with the
project's configuration and production settings (3 workers).

Each of ``BENCH_EDITORS`` (default 20) threads logs in as its own editor, opens the post's edit
page, and, once every thread holds the form, sends it back with a text of its own. A round is
repeated ``BENCH_ROUNDS`` times (1 when ``BENCH_SHORT`` is on, the default; ``BENCH_SHORT=0``: 3,
i.e. 60 saves as in issue 11).

The form a thread opened is its *version*: the hidden ``version`` input when the editor has one
(the stale-save contract of issue 11: a stale save answers 409), else the form's content. Every
save opened on the same version that is answered as saved, except one, is a **lost update**: it
overwrote, or was overwritten by, a colleague's save it never saw. Goals: 0 5xx and exactly one
save stored per version (``lost_updates`` 0); the others refused as stale (409).
"""

import hashlib
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.web import Browser, Recorder, Site, find_form, short

EDITORS = int(os.environ.get("BENCH_EDITORS", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if short() else "3"))


def version_of(fields: list[tuple[str, str]]) -> str:
    """Return the version the form was opened on: its ``version`` input, else a hash of its content."""
    for name, value in fields:
        if name == "version":
            return f"version {value}"
    content = sorted((k, v) for k, v in fields if k != "csrfmiddlewaretoken")
    return "content " + hashlib.sha256(json.dumps(content).encode()).hexdigest()[:12]


def one_round(browsers: list[Browser], post: int, number: int) -> list[dict[str, Any]]:
    """Every browser opens the form, waits for the others, then saves; return each save's outcome."""
    barrier = threading.Barrier(len(browsers))
    outcomes: list[dict[str, Any]] = [{} for _ in browsers]

    def work(i: int, browser: Browser) -> None:
        page = browser.get(f"/posts/{post}/edit/", kind="edit page")
        try:
            form = find_form(page.body, field="body")
        except LookupError:
            outcomes[i] = {"status": page.status, "version": None, "text": None, "opened": False}
            barrier.wait()
            return
        text = f"Round {number}, editor {i + 1}: Besuchszeiten ab 1. März 14–19 Uhr, Rückfragen 030 1234567."  # noqa: RUF001
        barrier.wait()
        answer = browser.post(f"/posts/{post}/edit/", form.replaced(body=text), kind="save")
        outcomes[i] = {"status": answer.status, "version": version_of(form.fields), "text": text, "opened": True}

    threads = [threading.Thread(target=work, args=(i, b)) for i, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def main() -> None:
    recorder = Recorder()
    with Site(workers=3, prefix="rounds_bench_saves") as site:
        world = site.prepare(editors=EDITORS, reviewers=1, viewers=0, posts=1, in_review=0)
        post = world["posts"][0]
        site.start()
        browsers = [site.browser(name, recorder) for name in world["editors"]]
        outcomes = [o for n in range(ROUNDS) for o in one_round(browsers, post, n + 1)]
        stored = {
            body
            for (body,) in site.scratch.query("SELECT content->>'body' FROM posts_revision WHERE post_id = %s", [post])
        }
        errors = site.server_errors()
        audit = site.audit_intact()
    saved = [o for o in outcomes if o["status"] == 302]
    per_version = Counter(o["version"] for o in saved if o["text"] in stored)
    versions = {o["version"] for o in outcomes if o["opened"]}
    print(
        json.dumps(
            {
                "bench": "concurrent_saves",
                "saves": len(outcomes),
                "editors": EDITORS,
                "rounds": ROUNDS,
                "5xx": sum(1 for o in outcomes if o["status"] >= 500),
                "statuses": dict(sorted(Counter(str(o["status"]) for o in outcomes).items())),
                "answered_saved": len(saved),
                "stale_refusals": sum(1 for o in outcomes if o["status"] == 409),
                "versions_opened": len(versions),
                "stored_per_version": sorted(per_version.values(), reverse=True),
                "exactly_one_stored_per_version": all(per_version.get(v, 0) == 1 for v in versions),
                "lost_updates": sum(count - 1 for count in per_version.values()),
                "saved_but_not_stored": sum(1 for o in saved if o["text"] not in stored),
                "audit_intact": audit,
                "server_errors": errors,
                "p50_ms": recorder.summary()["p50_ms"],
                "p95_ms": recorder.summary()["p95_ms"],
            }
        )
    )


if __name__ == "__main__":
    main()
