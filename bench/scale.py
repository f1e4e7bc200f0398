"""Time the review inbox and the calendar's month view on PostgreSQL with 2,000, 100,000 and
1,000,000 posts in one database; print one JSON line.

Run: ``.venv/bin/python bench/scale.py`` (BENCH_SIZES=2000,100000 for a shorter run;
BENCH_EXPLAIN=1 prints EXPLAIN (ANALYZE, BUFFERS) of each query at the largest size to stderr).
Uses a scratch PostgreSQL database it creates and drops; without PostgreSQL it prints a
"skipped" line. Goal: each page at 100,000 posts at most 1.3 times its time at 2,000 (the
1,000,000 figure is reported too), with the same query count at every size.

The 2,000 posts at the start are the world of bench/inbox.py (200 posts waiting for the measured
Medical reviewer, 20 due for re-certification, open work at Legal and in a campaign the reviewer
is not assigned to, comments, claims, notices, deputies) plus 300 posts in the measured month
(March 2030) in the editor's campaigns. The database then grows by set-based SQL to each size
with history: posts in 20 older campaigns and spread over 60 years (never the measured month),
10% drafts, 5% changes requested, the rest approved or published, each with its revision, its
1 or 2 targets, its finished round (approved a month ago: not yet due for re-certification),
3 stage runs and their signed decisions (the measured reviewer signed half the Medical ones).
Open review work does not grow with history: a hospital's queue is as long as its staff's week,
whatever it published in earlier years.
ANALYZE runs after each growth, as autovacuum would after a bulk load.

The database grows, so sizes cannot be interleaved as the SQLite benches do: other load on the
machine can skew a ratio. Run it on a quiet machine, or twice.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from tests.posts.procs import PG, Scratch, reachable  # noqa: E402

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "2000,100000,1000000").split(",")]
SAMPLES = int(os.environ.get("BENCH_SAMPLES", 15))
WARM_UP = 3
MONTH_POSTS = 300
MEASURED = dt.date(2030, 3, 15)
PAGES = {"inbox": "/reviews/", "calendar": f"/calendar/?date={MEASURED.isoformat()}"}
CARD = {"inbox": b'class="review-inbox-row', "calendar": b'class="cal-item"'}
OLD_CAMPAIGNS = 20
CHUNK = 250_000  # posts per INSERT ... SELECT: keeps each statement's memory bounded


def configure(scratch: Scratch) -> None:
    os.environ.update(scratch.env)
    import django

    django.setup()


class History:
    """The rows every grown post copies its unchanging columns from, and what varies per post."""

    def __init__(self, world: Any, accounts: list[Any]) -> None:
        from django.utils import timezone

        from approvals.models import Decision, ReviewRound, StageRun
        from posts.models import Post, PostStatus, PostTarget
        from posts.services import campaign_create

        self.world = world
        # A post published a month ago: history is not due for re-certification (the 20 due posts
        # of the inbox's world are), as a hospital re-certifies its live evergreen posts yearly.
        recent = timezone.now() - dt.timedelta(days=60)
        published = Post.objects.filter(status=PostStatus.PUBLISHED, review_rounds__finished_at__gte=recent)
        self.post = published.order_by("pk").first()
        assert self.post is not None and self.post.current_revision_id is not None
        self.round = ReviewRound.objects.get(post=self.post)
        self.run = StageRun.objects.filter(round=self.round).order_by("pk").first()
        self.decision = Decision.objects.filter(stage_run__round=self.round).order_by("pk").first()
        self.target = PostTarget.objects.create(post=self.post, account=accounts[0])
        self.accounts = [account.pk for account in accounts]
        reviewers = [world.medical, world.colleague, world.legal]
        period = {"start_date": dt.date(2000, 1, 1), "end_date": dt.date(2059, 12, 31)}
        self.campaigns = [
            campaign_create(actor=world.editor, name=f"History {n}", reviewers=reviewers, **period).pk
            for n in range(OLD_CAMPAIGNS)
        ]

    def grow(self, count: int) -> None:
        """Add ``count`` posts of history, ``CHUNK`` at a time, in set-based SQL."""
        for start in range(0, count, CHUNK):
            self._grow(min(CHUNK, count - start))

    def _grow(self, count: int) -> None:
        from django.db import connection, transaction

        from approvals.models import Decision, ReviewRound, StageRun
        from posts.models import Post, PostTarget, Revision

        medical, legal, comms = (stage.pk for stage in self.world.stages)
        bases = {}
        with connection.cursor() as cursor:
            for model in (Post, Revision, ReviewRound, StageRun):
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
                bases[model] = cursor.fetchone()[0]
        # One row per new post: g numbers it, its kind by g % 20 (0-1 draft, 2 changes
        # requested, 3-5 approved, else published), its moment anywhere but the measured month.
        grown = f"""
            SELECT g, {bases[Post]} + g AS post_id, {bases[Revision]} + g AS revision_id,
                   {bases[ReviewRound]} + g AS round_id, {bases[StageRun]} + 3 * g AS run_id,
                   CASE WHEN g % 20 < 2 THEN 'draft' WHEN g % 20 = 2 THEN 'changes_requested'
                        WHEN g % 20 < 6 THEN 'approved' ELSE 'published' END AS kind,
                   (ARRAY{self.campaigns + [c.pk for c in self.world.assigned]})[1 + g % {len(self.campaigns) + 3}]
                       AS campaign_id,
                   CASE WHEN at BETWEEN '2030-02-15' AND '2030-04-15' THEN at + INTERVAL '1 year' ELSE at END
                       AS scheduled_at
            FROM (SELECT g, TIMESTAMPTZ '2000-01-01 07:00Z' + (g * 7919 % 525600) * INTERVAL '1 hour' AS at
                  FROM generate_series(1, {count}) AS g) AS moments
        """
        statements = [
            copy(
                Revision,
                self.post.current_revision_id,
                {"id": "b.revision_id", "post_id": "b.post_id", "content_hash": "lpad(to_hex(b.post_id), 64, '0')"},
            ),
            copy(
                Post,
                self.post.pk,
                {
                    "id": "b.post_id",
                    "title": "'History post ' || b.post_id",
                    "status": "b.kind",
                    "campaign_id": "b.campaign_id",
                    "scheduled_at": "b.scheduled_at",
                    "current_revision_id": "b.revision_id",
                    "approved_hash": "CASE WHEN b.kind IN ('approved', 'published')"
                    " THEN lpad(to_hex(b.post_id), 64, '0') ELSE '' END",
                    # Its live posts are due as the template is (a year after a recent approval).
                    "recertify_due_at": "CASE WHEN b.kind = 'published' THEN t.recertify_due_at END",
                },
            ),
            copy(
                PostTarget,
                self.target.pk,
                {
                    "id": None,
                    "post_id": "b.post_id",
                    "account_id": f"(ARRAY{self.accounts})[1 + (b.g + k) % {len(self.accounts)}]",
                },
                extra="CROSS JOIN generate_series(0, 1) AS k WHERE k <= b.g % 2",
            ),
            copy(
                ReviewRound,
                self.round.pk,
                {
                    "id": "b.round_id",
                    "post_id": "b.post_id",
                    "revision_id": "b.revision_id",
                    "content_hash": "lpad(to_hex(b.post_id), 64, '0')",
                    "status": "CASE b.kind WHEN 'changes_requested' THEN 'changes_requested' ELSE 'approved' END",
                },
                extra="WHERE b.kind <> 'draft'",
            ),
            copy(
                StageRun,
                self.run.pk,
                {
                    "id": "b.run_id + k",
                    "round_id": "b.round_id",
                    "stage_id": f"(ARRAY[{medical}, {legal}, {comms}])[1 + k]",
                    "status": "CASE WHEN b.kind = 'changes_requested' THEN"
                    " (ARRAY['approved', 'changes_requested', 'closed'])[1 + k] ELSE 'approved' END",
                },
                extra="CROSS JOIN generate_series(0, 2) AS k WHERE b.kind <> 'draft'",
            ),
            copy(
                Decision,
                self.decision.pk,
                {
                    "id": None,
                    "stage_run_id": "b.run_id + k",
                    "reviewer_id": f"CASE k WHEN 0 THEN (ARRAY[{self.world.medical.pk}, {self.world.colleague.pk}])"
                    f"[1 + b.g % 2] WHEN 1 THEN {self.world.legal.pk} ELSE {self.world.colleague.pk} END",
                    "verdict": "CASE WHEN b.kind = 'changes_requested' AND k = 1 THEN 'request_changes'"
                    " ELSE 'approve' END",
                    "comment": "CASE WHEN b.kind = 'changes_requested' AND k = 1 THEN 'Cite the source.' ELSE '' END",
                },
                extra="CROSS JOIN generate_series(0, 2) AS k"
                " WHERE b.kind <> 'draft' AND NOT (b.kind = 'changes_requested' AND k = 2)",
            ),
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE grown ON COMMIT DROP AS {grown}")
            for statement in statements:
                cursor.execute(statement)
            for model in (Post, Revision, ReviewRound, StageRun, PostTarget, Decision):
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def copy(model: Any, template: int, values: dict[str, str | None], *, extra: str = "") -> str:
    """Return an INSERT of one row per ``grown`` row: the template row's columns, but ``values``
    in place of some (None: the column's default, for ids nothing refers to)."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if values.get(f.column, "") is not None]
    chosen = ", ".join(values.get(column) or f"t.{column}" for column in columns)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {chosen}"
        f" FROM {table} AS t CROSS JOIN grown AS b {extra} {'AND' if 'WHERE' in extra else 'WHERE'} t.id = {template}"
    )


def measure(client: Any, page: str, explain: bool) -> tuple[float, int, int]:
    """Return the median ms of ``page`` after a warm-up, its query count and its cards."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    url = PAGES[page]
    for _ in range(WARM_UP):
        response = client.get(url)
        assert response.status_code == 200, (page, response.status_code)
    cards = response.content.count(CARD[page])
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    if explain:
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                if not query["sql"].lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                print(f"--- {page}: {query['sql'][:600]}\n{plan}\n", file=sys.stderr)
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), len(queries.captured_queries), cards


def main() -> None:
    if not reachable(PG):
        print(json.dumps({"bench": "scale", "skipped": "PostgreSQL is not running on 127.0.0.1:5432"}))
        return
    started = time.perf_counter()
    scratch = Scratch(kind="postgres", prefix="rounds_scale")
    try:
        configure(scratch)
        print(json.dumps(run(started)))
    finally:
        from django.db import connections

        connections.close_all()
        scratch.close()


def run(started: float) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench import calendar_month, inbox
    from posts.models import Account, Platform, Post

    call_command("migrate", verbosity=0)
    world = inbox.World(suffix="scale")
    inbox.posts_add(world, kinds=["waiting"] * inbox.WAITING + ["due"] * inbox.DUE, tag="waiting")
    inbox.people_add(world)
    inbox.posts_add(world, kinds=inbox.mix(SIZES[0] - inbox.WAITING - inbox.DUE - MONTH_POSTS), tag="small")
    accounts = Account.objects.bulk_create(
        [Account(platform=p, name=f"{p} scale", handle=f"{p}_scale") for p in Platform.values]
    )
    rng = random.Random(20300315)
    zone = dt.timezone(dt.timedelta(hours=1))  # CET, as Berlin is in March
    calendar_month.posts_add(
        moments=[calendar_month.month_moment(rng, zone) for _ in range(MONTH_POSTS)],
        campaigns=[*world.assigned, world.unassigned],
        author=world.editor,
        accounts=accounts,
        tag="month",
    )
    history = History(world, accounts[:6])
    reviewer = Client(HTTP_HOST="localhost")
    reviewer.force_login(world.medical)
    editor = Client(HTTP_HOST="localhost")
    editor.force_login(world.editor)
    clients = {"inbox": reviewer, "calendar": editor}

    result: dict[str, Any] = {"bench": "scale", "sizes": {}}
    for size in SIZES:
        history.grow(size - Post.objects.count())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        explain = bool(os.environ.get("BENCH_EXPLAIN")) and size == SIZES[-1]
        figures = {}
        for page, client in clients.items():
            ms, queries, cards = measure(client, page, explain)
            figures[page] = {"ms": round(ms, 2), "queries": queries, "cards": cards}
        result["sizes"][str(Post.objects.count())] = figures
        print(f"({size} posts measured at {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    first, *others = result["sizes"].values()
    for size, figures in zip(SIZES[1:], others, strict=True):
        for page in PAGES:
            result.setdefault("ratios", {})[f"{page}_{size}_vs_{SIZES[0]}"] = round(
                figures[page]["ms"] / first[page]["ms"], 3
            )
    result["goal"] = 1.3
    result["seconds"] = round(time.perf_counter() - started)
    return result


if __name__ == "__main__":
    main()
