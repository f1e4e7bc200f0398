"""A mixed load of 8 people against gunicorn (3 workers) on PostgreSQL, with the task cluster and the
publish dispatcher running; print one JSON line.

Run: ``.venv/bin/python bench/mixed_load.py`` (or ``make bench``). Needs PostgreSQL on
127.0.0.1:5432: a scratch database is created, migrated and dropped (tests/posts/procs.py).
Production settings; every process is started as in docs/operations.md.

Who does what, each with a short pause between clicks, reading forms from the HTML as a browser:

- 3 editors: edit posts (the whole editor form back, with new text written like a hospital's),
  move posts to another day, create posts, submit drafts for review, open post pages;
- 2 reviewers (medical, legal) and 1 communications reviewer: open the inbox and a post to review,
  approve (ticking every finding) or request changes; Communications also schedules approved posts;
- 2 viewers: the calendar (month, week, list), campaigns, post pages.

``BENCH_SECONDS``: how long the load runs; by default 20 s while ``BENCH_SHORT`` is on (the default,
so ``make bench`` stays quick), 120 s (the 2 minutes of issue 11) with ``BENCH_SHORT=0``.

Reported: requests, 5xx (and per page), per-status counts, p50/p95 latency; **lost updates**: a
write answered as done (an edit saved, a move made) that an editor's save overwrote without having
seen it (that save's form was opened before the write was answered, and the save was answered after
it, and not refused as stale); the audit chain (``manage.py verify_audit``). Goals (issue 11): 0 5xx,
0 lost updates, audit chain intact.
"""

import datetime as dt
import json
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.web import Browser, Recorder, Site, find_form, short

SECONDS = float(os.environ.get("BENCH_SECONDS", "20" if short() else "120"))
PAUSE = (0.2, 0.8)  # seconds a person takes between two clicks
POST_LINK = re.compile(r'href="/posts/(\d+)/"')
REVIEW_LINK = re.compile(r'href="/reviews/posts/(\d+)/"')
CAMPAIGN_LINK = re.compile(r'href="/campaigns/(\d+)/"')
BODIES = [
    "Infotag am {day}.{month}.2026 von 10 bis 14 Uhr im Foyer Haus B. Anmeldung: 030 1234567 ({n})",
    "Neue Besuchszeiten ab {day}. {month_name}: täglich 14–19 Uhr. Intensivstation bitte vorher anrufen. ({n})",  # noqa: RUF001
    "Our blood donation day is on {month_name} {day}, 9 am to 3 pm, main entrance. Bring photo ID. ({n})",
    "Grippeimpfung für Mitarbeitende: Raum 0.14, Mo–Fr 8–12 Uhr. Fragen an betriebsarzt@klinikum-nord.example ({n})",  # noqa: RUF001
    "Heart failure clinic: new Thursday slots from {month_name} {day}. Referral via your GP. ({n})",
]
MONTHS = ["Januar", "February", "März", "April", "May", "Juni", "July", "August", "September", "October"]


def today() -> dt.date:
    """Return today's date in the hospital's zone (the scratch site's default, Europe/Berlin)."""
    return dt.datetime.now(tz=ZoneInfo("Europe/Berlin")).date()


@dataclass
class Write:
    """A write a person made: an editor's save (with the time its form was opened) or a move."""

    kind: str
    post: int
    opened: float
    answered: float
    status: int

    @property
    def done(self) -> bool:
        return self.status == 302


class Load:
    def __init__(self, site: Site, world: dict[str, Any], recorder: Recorder) -> None:
        self.site = site
        self.world = world
        self.recorder = recorder
        self.posts: list[int] = list(world["posts"])
        self.writes: list[Write] = []
        self.lock = threading.Lock()
        self.deadline = 0.0
        self.counter = 0
        self.failures: list[str] = []

    def text(self, rng: random.Random) -> str:
        with self.lock:
            self.counter += 1
            n = self.counter
        month = rng.randrange(len(MONTHS))
        return rng.choice(BODIES).format(day=rng.randrange(1, 29), month=month + 1, month_name=MONTHS[month], n=f"#{n}")

    def record(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)

    # Editors ----------------------------------------------------------------------------------

    def edit(self, browser: Browser, rng: random.Random) -> None:
        post = rng.choice(self.posts)
        page = browser.get(f"/posts/{post}/edit/", kind="edit page")
        opened = time.monotonic()
        if page.status != 200:
            return
        form = find_form(page.body, field="body")
        time.sleep(rng.uniform(*PAUSE))  # typing
        answer = browser.post(f"/posts/{post}/edit/", form.replaced(body=self.text(rng)), kind="save")
        self.record(Write("save", post, opened, time.monotonic(), answer.status))

    def move(self, browser: Browser, rng: random.Random) -> None:
        post = rng.choice(self.posts)
        day = today() + dt.timedelta(days=rng.randrange(3, 60))
        moment = {"date": day.isoformat(), "time": f"{rng.randrange(7, 20):02d}:{rng.choice(['00', '30'])}"}
        calendar = browser.get(f"/calendar/?date={day.isoformat()}", kind="calendar")
        try:
            fields = find_form(calendar.body, action=f"/posts/{post}/move/").replaced(**moment)
        except LookupError:
            fields = [("csrfmiddlewaretoken", browser.cookies.get("csrftoken", "")), *moment.items()]
        opened = time.monotonic()
        answer = browser.post(f"/posts/{post}/move/", fields, kind="move")
        self.record(Write("move", post, opened, time.monotonic(), answer.status))

    def create(self, browser: Browser, rng: random.Random) -> None:
        page = browser.get("/posts/new/", kind="new post page")
        if page.status != 200:
            return
        form = find_form(page.body, field="body")
        day = today() + dt.timedelta(days=rng.randrange(3, 60))
        answer = browser.post(
            "/posts/new/",
            form.replaced(
                campaign=[value for value in form.choices.get("campaign", []) if value][:1],
                title=f"Ankündigung {day:%d.%m.}",
                body=self.text(rng),
                targets=form.choices.get("targets", [])[:1],
                scheduled_date=day.isoformat(),
                scheduled_time="09:30",
            ),
            kind="create",
        )
        if answer.status == 200:
            errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.body, re.S)
            with self.lock:
                self.failures.append("create refused: " + re.sub(r"<[^>]+>", " ", " ".join(errors))[:150])
        match = re.search(r"/posts/(\d+)/", answer.location)
        if answer.status == 302 and match:
            with self.lock:
                self.posts.append(int(match.group(1)))

    def submit(self, browser: Browser, rng: random.Random) -> None:
        post = rng.choice(self.posts)
        page = browser.get(f"/posts/{post}/", kind="post page")
        try:
            form = find_form(page.body, action=f"/reviews/posts/{post}/submit/")
        except LookupError:
            return
        browser.post(form.action, form.fields, kind="submit")

    def editor(self, browser: Browser, rng: random.Random) -> None:
        action = rng.choices(
            [self.edit, self.move, self.create, self.submit, self.view_post], weights=[40, 20, 15, 15, 10]
        )[0]
        action(browser, rng)

    # Reviewers and Communications -------------------------------------------------------------

    def decide(self, browser: Browser, rng: random.Random) -> None:
        inbox = browser.get("/reviews/", kind="inbox")
        waiting = sorted(set(REVIEW_LINK.findall(inbox.body)))
        if not waiting:
            return
        post = rng.choice(waiting)
        page = browser.get(f"/reviews/posts/{post}/", kind="review page")
        if page.status != 200:
            return
        try:
            form = find_form(page.body, action=f"/reviews/posts/{post}/decide/")
        except LookupError:
            return
        time.sleep(rng.uniform(*PAUSE))  # reading
        if rng.random() < 0.8:
            fields = form.replaced(acknowledged=form.choices.get("acknowledged", []), verdict="approve")
        else:
            fields = form.replaced(comment="Bitte Quelle für die Zahl ergänzen.", verdict="request_changes")
        browser.post(form.action, fields, kind="decide")

    def schedule(self, browser: Browser, rng: random.Random) -> None:
        ready = [pk for (pk,) in self.site.scratch.query("SELECT id FROM posts_post WHERE status = 'approved'")]
        if not ready:
            return
        post = rng.choice(ready)
        page = browser.get(f"/posts/{post}/", kind="post page")
        try:
            form = find_form(page.body, action=f"/posts/{post}/schedule/")
        except LookupError:
            return
        browser.post(form.action, form.fields, kind="schedule")

    def reviewer(self, browser: Browser, rng: random.Random) -> None:
        self.decide(browser, rng)

    def comms(self, browser: Browser, rng: random.Random) -> None:
        if rng.random() < 0.5:
            self.schedule(browser, rng)
        else:
            self.decide(browser, rng)
        if rng.random() < 0.2:
            browser.get("/publishing/", kind="publishing")

    # Viewers -----------------------------------------------------------------------------------

    def view_post(self, browser: Browser, rng: random.Random) -> None:
        browser.get(f"/posts/{rng.choice(self.posts)}/", kind="post page")

    def viewer(self, browser: Browser, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.35:
            view = rng.choice(["month", "week", "list"])
            day = today() + dt.timedelta(days=rng.randrange(0, 60))
            page = browser.get(f"/calendar/?view={view}&date={day.isoformat()}", kind=f"calendar {view}")
            links = POST_LINK.findall(page.body)
            if links:
                browser.get(f"/posts/{rng.choice(links)}/", kind="post page")
        elif choice < 0.55:
            page = browser.get("/campaigns/", kind="campaigns")
            links = CAMPAIGN_LINK.findall(page.body)
            if links:
                browser.get(f"/campaigns/{rng.choice(links)}/", kind="campaign page")
        else:
            self.view_post(browser, rng)

    # Running ----------------------------------------------------------------------------------

    def person(self, role: str, browser: Browser, seed: int) -> None:
        rng = random.Random(seed)
        act = getattr(self, role)
        while time.monotonic() < self.deadline:
            try:
                act(browser, rng)
            except Exception as error:  # a page the bench cannot read: note it, go on
                with self.lock:
                    self.failures.append(f"{role}: {type(error).__name__}: {error}"[:200])
            time.sleep(rng.uniform(*PAUSE))

    def lost_updates(self) -> int:
        """Return the writes answered as done that an editor's save overwrote without having seen them."""
        saves = [w for w in self.writes if w.kind == "save" and w.done]
        lost = 0
        for write in self.writes:
            if not write.done:
                continue
            if any(
                other is not write and other.post == write.post and other.opened < write.answered < other.answered
                for other in saves
            ):
                lost += 1
        return lost


def main() -> None:
    recorder = Recorder()
    with Site(workers=3, prefix="rounds_bench_mixed") as site:
        world = site.prepare(editors=3, reviewers=2, viewers=2, posts=30, in_review=10)
        site.start(cluster=True, dispatcher=True)
        people = [
            *(("editor", name) for name in world["editors"]),
            ("reviewer", world["medical"][0]),
            ("reviewer", world["legal"][0]),
            ("comms", world["comms"][0]),
            *(("viewer", name) for name in world["viewers"]),
        ]
        load = Load(site, world, recorder)
        browsers = [(role, site.browser(name, recorder)) for role, name in people]
        recorder.rows.clear()  # the logins are not part of the load
        load.deadline = time.monotonic() + SECONDS
        started = time.monotonic()
        threads = [
            threading.Thread(target=load.person, args=(role, browser, n)) for n, (role, browser) in enumerate(browsers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        errors = site.server_errors()
        audit = site.audit_intact()
        states = dict(site.scratch.query("SELECT status, count(*) FROM posts_post GROUP BY status ORDER BY status"))
    summary = recorder.summary()
    writes = load.writes
    print(
        json.dumps(
            {
                "bench": "mixed_load",
                "seconds": round(elapsed, 1),
                "users": len(people),
                **summary,
                "saves": sum(1 for w in writes if w.kind == "save"),
                "saves_done": sum(1 for w in writes if w.kind == "save" and w.done),
                "moves_done": sum(1 for w in writes if w.kind == "move" and w.done),
                "stale_refusals": sum(1 for w in writes if w.status == 409),
                "lost_updates": load.lost_updates(),
                "audit_intact": audit,
                "post_states": states,
                "server_errors": errors,
                "bench_failures": sorted(set(load.failures))[:5],
            }
        )
    )


if __name__ == "__main__":
    main()
