"""Time the calendar's month view with 1,000 and with 100,000 posts; print one JSON line.

Run: ``.venv/bin/python bench/calendar_month.py``. Uses a throw-away SQLite file unless DATABASE_URL
is set (then it must point at an empty, disposable database). Goal: at most 12 queries, and the
month view at 100,000 posts no slower than 1.3 times the view at 1,000.
"""

import sys
from pathlib import Path

# Scripts here must not shadow the standard library (this one was once calendar.py): drop the folder
# from the path before anything imports from it.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

SAMPLES = 25
MONTH_POSTS = 300
VISIBLE = MONTH_POSTS * 2 // 3  # every third month post is in a campaign the editor cannot see
SMALL = 1_000
LARGE = 100_000
MEASURED = dt.date(2030, 3, 15)  # the month view of March 2030 (grid 25 Feb to 31 Mar)
BATCH = 5_000


def configure() -> tempfile.TemporaryDirectory[str]:
    scratch = tempfile.TemporaryDirectory(prefix="rounds-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    os.environ["ROUNDS_DEBUG"] = "1"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch.name}/bench.sqlite3")
    os.environ.setdefault("ROUNDS_MEDIA_ROOT", str(Path(scratch.name) / "media"))
    import django

    django.setup()
    return scratch


def other_moment(rng: random.Random, zone: Any) -> dt.datetime:
    """Return a moment in any year from 2000 to 2059 except the measured one."""
    year = rng.choice([y for y in range(2000, 2060) if y != MEASURED.year])
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return dt.datetime.combine(day, dt.time(rng.randrange(24), rng.choice((0, 15, 30, 45))), tzinfo=zone)


def month_moment(rng: random.Random, zone: Any) -> dt.datetime:
    day = MEASURED.replace(day=1 + rng.randrange(31))
    return dt.datetime.combine(day, dt.time(rng.randrange(7, 21), rng.choice((0, 15, 30, 45))), tzinfo=zone)


def posts_add(*, moments: list[dt.datetime], campaigns: list[Any], author: Any, accounts: list[Any], tag: str) -> None:
    from posts.models import Post, PostStatus, PostTarget

    statuses = [PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED]
    for start in range(0, len(moments), BATCH):
        chunk = moments[start : start + BATCH]
        posts = Post.objects.bulk_create(
            [
                Post(
                    campaign=campaigns[(start + i) % len(campaigns)],
                    author=author,
                    title=f"{tag} post {start + i}",
                    body="Wash your hands: it saves lives. " * 3,
                    status=statuses[(start + i) % len(statuses)],
                    scheduled_at=moment,
                    time_zone="Europe/Berlin",
                )
                for i, moment in enumerate(chunk)
            ],
            batch_size=1_000,
        )
        targets = [
            PostTarget(post=post, account=accounts[(post.pk + k) % len(accounts)])
            for post in posts
            for k in range(1 + post.pk % 2)
        ]
        PostTarget.objects.bulk_create(targets, batch_size=2_000)


URL = f"/calendar/?date={MEASURED.isoformat()}"


def query_count(client: Any) -> int:
    """Return how many queries one month view runs (after a warm-up request)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = client.get(URL)
    assert response.status_code == 200, response.status_code
    # A month day shows its first three cards and says how many more it has.
    more = sum(int(n) for n in re.findall(rb'data-more="(\d+)"', response.content))
    assert response.content.count(b'class="cal-item"') + more == VISIBLE, "unexpected number of posts"
    # DEBUG keeps a query log that each request start clears; start the capture from empty.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    if os.environ.get("BENCH_VERBOSE"):
        for query in queries.captured_queries:
            print(query["time"], query["sql"][:300], file=sys.stderr)
    return len(queries.captured_queries)


def timed(client: Any) -> tuple[float, float]:
    """Return the wall and CPU milliseconds of one month view."""
    wall, cpu = time.perf_counter(), time.process_time()
    client.get(URL)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def use_database(name: str) -> None:
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name


def main() -> None:
    scratch = configure()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from people import roles
    from people.models import User
    from posts.models import Account, Platform
    from posts.services import campaign_create

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rng = random.Random(20300315)
    zone = dt.timezone(dt.timedelta(hours=1))  # CET, as Berlin is in March
    suffix = f"{rng.randrange(10**6):06d}"
    editor = User.objects.create_user(username=f"bench_editor_{suffix}", password="x", time_zone="Europe/Berlin")
    stranger = User.objects.create_user(username=f"bench_other_{suffix}", password="x")
    group = Group.objects.get(name=roles.EDITOR)
    editor.groups.add(group)
    stranger.groups.add(group)
    editor = User.objects.get(pk=editor.pk)  # fresh permission caches
    stranger = User.objects.get(pk=stranger.pk)
    period = {"start_date": dt.date(2000, 1, 1), "end_date": dt.date(2059, 12, 31)}
    mine = [campaign_create(actor=editor, name=f"Bench {suffix} {n}", **period) for n in range(2)]
    theirs = campaign_create(actor=stranger, name=f"Bench {suffix} hidden", **period)
    accounts = Account.objects.bulk_create(
        [Account(platform=p, name=f"{p} {suffix}", handle=f"{p}_{suffix}") for p in Platform.values]
    )

    # The measured month: 300 posts, a third of them in a campaign the editor cannot see.
    month = [month_moment(rng, zone) for _ in range(MONTH_POSTS)]
    posts_add(moments=month, campaigns=[*mine, theirs], author=editor, accounts=accounts, tag="month")
    rest = [other_moment(rng, zone) for _ in range(SMALL - MONTH_POSTS)]
    posts_add(moments=rest, campaigns=[*mine, theirs], author=editor, accounts=accounts, tag="other")

    client = Client(HTTP_HOST="localhost")
    client.force_login(editor)
    queries_1k = query_count(client)

    from django.db import connection

    small_db = connection.settings_dict["NAME"]
    interleave = connection.vendor == "sqlite"
    if interleave:
        # Grow a copy, then alternate requests between the two files: other load on the
        # machine then slows both sizes alike instead of skewing the ratio.
        large_db = str(Path(scratch.name) / "bench-100k.sqlite3")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [large_db])
        use_database(large_db)
    else:
        samples_1k = [timed(client) for _ in range(SAMPLES)]
    more = [other_moment(rng, zone) for _ in range(LARGE - SMALL)]
    posts_add(moments=more, campaigns=[*mine, theirs], author=editor, accounts=accounts, tag="more")
    queries_100k = query_count(client)
    if interleave:
        samples_1k, samples_100k = [], []
        for _ in range(SAMPLES):
            use_database(small_db)
            samples_1k.append(timed(client))
            use_database(large_db)
            samples_100k.append(timed(client))
    else:
        samples_100k = [timed(client) for _ in range(SAMPLES)]
    ms_1k = statistics.median(wall for wall, _cpu in samples_1k)
    ms_100k = statistics.median(wall for wall, _cpu in samples_100k)
    cpu_1k = statistics.median(cpu for _wall, cpu in samples_1k)
    cpu_100k = statistics.median(cpu for _wall, cpu in samples_100k)

    print(
        json.dumps(
            {
                "queries_1k": queries_1k,
                "queries_100k": queries_100k,
                "ms_1k": round(ms_1k, 2),
                "ms_100k": round(ms_100k, 2),
                "ratio_100k_vs_1k": round(ms_100k / ms_1k, 3),
            }
        )
    )
    print(
        f"(CPU ms median: 1k {cpu_1k:.1f}, 100k {cpu_100k:.1f}; {SAMPLES} samples each;"
        f" setup and measurement took {time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    scratch.cleanup()


if __name__ == "__main__":
    main()
