"""Several reviewers decide the same review stage at the same moment, over HTTP; print one JSON line.

Run: ``.venv/bin/python bench/concurrent_approvals.py`` (or ``make bench``). Needs PostgreSQL on
127.0.0.1:5432 (a scratch database, dropped afterwards); gunicorn serves Rounds with the
project's configuration and production settings (3 workers), the task cluster sends the review
e-mails.

One post in review; the first stage of its chain needs an approval from each of
``BENCH_REVIEWERS`` medical reviewers (default 6). Every reviewer opens the review page, and once
all hold the decision form, each clicks Approve ``BENCH_CLICKS`` times at once (default 2, a
double click). ``BENCH_POSTS`` posts are raced one after another (1 when ``BENCH_SHORT`` is on, the
default; ``BENCH_SHORT=0``: 5). When the review page cannot be shown, the form is built from the
database as the page would have (and the page's 5xx is counted).

Goals: 0 5xx; exactly one decision per person and stage; the first stage approved and the second
in progress on every post (``first_two_stages``: "approved, in_progress"); the audit chain intact.
"""

import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.web import Browser, Recorder, Site, find_form, short

REVIEWERS = int(os.environ.get("BENCH_REVIEWERS", "6"))
CLICKS = int(os.environ.get("BENCH_CLICKS", "2"))
POSTS = int(os.environ.get("BENCH_POSTS", "1" if short() else "5"))


def decision_fields(site: Site, browser: Browser, post: int) -> list[tuple[str, str]]:
    """Return what the Approve button of the review page sends (built from the database if the page fails)."""
    page = browser.get(f"/reviews/posts/{post}/", kind="review page")
    if page.status == 200:
        try:
            form = find_form(page.body, action=f"/reviews/posts/{post}/decide/")
        except LookupError:
            pass
        else:
            return [*form.fields, ("verdict", "approve")]
    rows = site.scratch.query(
        "SELECT s.id, r.content_hash FROM approvals_stagerun s JOIN approvals_reviewround r ON r.id = s.round_id "
        "WHERE r.post_id = %s AND s.status = 'in_progress' ORDER BY s.id",
        [post],
    )
    stage_run, content_hash = rows[0]
    return [
        ("csrfmiddlewaretoken", browser.cookies.get("csrftoken", "")),
        ("stage_run", str(stage_run)),
        ("content_hash", content_hash),
        ("comment", ""),
        ("verdict", "approve"),
    ]


def race(site: Site, browsers: list[Browser], post: int) -> list[int]:
    """Every reviewer opens the page, then all click Approve ``CLICKS`` times at once; return the statuses."""
    forms = [decision_fields(site, browser, post) for browser in browsers]
    barrier = threading.Barrier(len(browsers) * CLICKS)
    statuses: list[int] = []
    lock = threading.Lock()

    def click(browser: Browser, fields: list[tuple[str, str]]) -> None:
        barrier.wait()
        answer = browser.post(f"/reviews/posts/{post}/decide/", fields, kind="decide")
        with lock:
            statuses.append(answer.status)

    threads = [
        threading.Thread(target=click, args=(browser, fields))
        for browser, fields in zip(browsers, forms, strict=True)
        for _ in range(CLICKS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def main() -> None:
    recorder = Recorder()
    with Site(workers=3, prefix="rounds_bench_approvals") as site:
        world = site.prepare(editors=1, reviewers=REVIEWERS, viewers=0, posts=POSTS, in_review=POSTS, first_stage_all=1)
        site.start(cluster=True)
        browsers = [site.browser(name, recorder) for name in world["medical"]]
        statuses = [status for post in world["in_review"] for status in race(site, browsers, post)]
        ids = ",".join(str(int(pk)) for pk in world["in_review"])
        per_person = site.scratch.query(
            "SELECT d.reviewer_id, d.stage_run_id, count(*) FROM approvals_decision d "
            "JOIN approvals_stagerun s ON s.id = d.stage_run_id JOIN approvals_reviewround r ON r.id = s.round_id "
            f"WHERE r.post_id IN ({ids}) GROUP BY d.reviewer_id, d.stage_run_id"
        )
        runs = site.scratch.query(
            "SELECT r.post_id, st.position, s.status, count(*) FROM approvals_stagerun s "
            "JOIN approvals_reviewround r ON r.id = s.round_id JOIN approvals_reviewstage st ON st.id = s.stage_id "
            f"WHERE r.post_id IN ({ids}) GROUP BY r.post_id, st.position, s.status"
        )
        errors = site.server_errors()
        audit = site.audit_intact()
    summary = recorder.summary()
    # Per post: the states of the first two stages ("approved, in_progress" once the stage finished once).
    states: dict[int, dict[int, str]] = {}
    for post_id, position, status, _ in runs:
        states.setdefault(post_id, {})[position] = status
    outcome = Counter(
        ", ".join(status for _, status in sorted(by_position.items())[:2]) for by_position in states.values()
    )
    result: dict[str, Any] = {
        "bench": "concurrent_approvals",
        "posts": POSTS,
        "reviewers": REVIEWERS,
        "clicks_each": CLICKS,
        "decide_requests": len(statuses),
        "5xx": sum(1 for s in statuses if s >= 500),
        "decide_statuses": dict(sorted(Counter(str(s) for s in statuses).items())),
        "review_page_5xx": summary["5xx_by_page"].get("review page", 0),
        "decisions_counted": sum(count for _, _, count in per_person),
        "max_decisions_per_person_stage": max((count for _, _, count in per_person), default=0),
        "exactly_one_per_person_stage": len(per_person) == REVIEWERS * POSTS and all(c == 1 for _, _, c in per_person),
        "first_two_stages": dict(outcome),
        "audit_intact": audit,
        "server_errors": errors,
        "p50_ms": summary["p50_ms"],
        "p95_ms": summary["p95_ms"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
