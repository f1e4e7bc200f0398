"""Time a 10,000-row campaign plan through preview and import on SQLite and PostgreSQL; print one JSON line.

Run: ``.venv/bin/python bench/import_plan.py``. Each database is a scratch one made for the run and
dropped after it (an SQLite file; a PostgreSQL database at 127.0.0.1:5432, skipped, and said so,
when none answers there), measured in a process of its own so its memory is its own. Per database:

- ``rows_per_s``: rows / (preview + commit), through `plan_preview` and `plan_commit`, the code path
  of the web page, the admin and ``manage.py import_plan`` (revisions, audit events and all).
- ``peak_rss_mb``: that process's peak resident memory right after the import.
- ``limit_rows_per_s``: a bare ``bulk_create`` of the same posts and their target accounts, in the
  same process just after; ``limit_ratio``: how many times faster than the import it is.
- ``peer_rows_per_s`` (SQLite only; on PostgreSQL it takes minutes): django-import-export's
  default ``ModelResource`` on the same rows (a dry run, then the import, as its admin does).

Goals (``goals``; ``meets_goals`` per database): rows_per_s >= 2,000, limit_ratio <= 2,
peak_rss_mb <= 200.
"""

import sys
from pathlib import Path

# A script here must never shadow the standard library (requests imports calendar): drop the folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import csv  # noqa: E402
import datetime as dt  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import zoneinfo  # noqa: E402
from typing import Any  # noqa: E402

from tests.posts.procs import PG, Scratch, reachable  # noqa: E402

ROWS = 10_000
SEED = 6
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]
CAMPAIGNS = ["Herzwochen 2030", "Flu season 2030", "Stroke awareness 2030", "Careers 2030"]
PLATFORMS = ["instagram", "facebook", "linkedin", "x", "facebook", "instagram"]
CONTENT_TYPES = ["education", "event", "recruiting", "behind_the_scenes"]
GOALS = {"rows_per_s": 2000, "limit_ratio": 2, "peak_rss_mb": 200}
ONE = "--one"  # the child process's flag: measure the database DATABASE_URL names


def configure() -> None:
    """Set Django up for the scratch database `Scratch` put in this process's environment."""
    import django
    from django.conf import settings

    django.setup()
    # Timed as in production: DEBUG's query log would format every 500-row insert as text.
    settings.DEBUG = False


def setup_people() -> tuple[Any, list[Any]]:
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from people import roles
    from people.models import User
    from posts.models import Account

    call_command("migrate", verbosity=0)
    editor = User.objects.create_user(username="editor", password="bench-only", time_zone="Europe/Berlin")
    editor.groups.add(Group.objects.get(name=roles.EDITOR))
    accounts = [
        Account.objects.create(platform=platform, name=f"Bench {platform} {n}", handle=f"@bench_{platform}_{n}")
        for n, platform in enumerate(PLATFORMS)
    ]
    return editor, accounts


def plan_csv(accounts: list[Any]) -> tuple[bytes, list[dict[str, Any]]]:
    """Return a 10,000-row plan and the same rows as values (for the peer and the limit)."""
    from plans.rows import COLUMNS

    rng = random.Random(SEED)
    start = dt.date(2030, 1, 1)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    values: list[dict[str, Any]] = []
    for n in range(ROWS):
        zone = ZONES[n % len(ZONES)]
        day = start + dt.timedelta(days=rng.randrange(700))
        at = dt.time(rng.randrange(7, 21), rng.choice((0, 15, 30, 45)))
        targets = rng.sample(accounts, rng.randint(1, 3))
        body = f"Tip {n}: wash your hands, drink water and move for 30 minutes a day. " * rng.randint(1, 3)
        row = {
            "campaign": CAMPAIGNS[n % len(CAMPAIGNS)],
            "scheduled_at": dt.datetime.combine(day, at, tzinfo=zoneinfo.ZoneInfo(zone)),
            "time_zone": zone,
            "accounts": targets,
            "title": f"Plan row {n}",
            "body": body.strip(),
            "link": f"https://example.org/tips/{n}",
            "hashtags": ["Health", f"Tip{n % 50}"],
            "content_type": CONTENT_TYPES[n % len(CONTENT_TYPES)],
            "language": "de" if n % 3 else "en",
            "external_id": f"BENCH-{n:05d}",
        }
        values.append(row)
        writer.writerow(
            [
                row["campaign"],
                day.isoformat(),
                at.strftime("%H:%M"),
                zone,
                ";".join(account.handle for account in targets),
                row["title"],
                row["body"],
                row["link"],
                " ".join(f"#{tag}" for tag in row["hashtags"]),
                row["content_type"],
                row["language"],
                row["external_id"],
            ]
        )
    return buffer.getvalue().encode("utf-8"), values


def measure_ours(data: bytes, editor: Any) -> tuple[float, float, float]:
    from plans.importing import PlanOptions, plan_commit, plan_preview
    from posts.models import Post

    started = time.perf_counter()
    preview = plan_preview(data=data, actor=editor, options=PlanOptions())
    previewed = time.perf_counter()
    assert preview.ok and preview.counts["created"] == ROWS, preview.errors[:5]
    plan_commit(data=data, file_name="bench.csv", actor=editor, options=PlanOptions())
    finished = time.perf_counter()
    assert Post.objects.filter(external_id__startswith="BENCH-").count() == ROWS
    return previewed - started, finished - previewed, finished - started


def peer_errors(result: Any) -> list[str]:
    errors = [repr(error.error) for error in result.base_errors]
    errors += [f"{line}: {error.error!r}" for line, row_errors in result.row_errors() for error in row_errors]
    errors += [f"{row.number}: {row.error_dict}" for row in result.invalid_rows]
    return errors[:5]


def measure_peer(values: list[dict[str, Any]], editor: Any) -> float:
    import tablib
    from import_export import resources

    from posts.models import Campaign, Post
    from posts.services import campaign_create

    class PostResource(resources.ModelResource):
        class Meta:
            model = Post

    campaign_ids = {}
    for name in CAMPAIGNS:
        campaign = campaign_create(
            actor=editor, name=f"Peer {name}", start_date=dt.date(2030, 1, 1), end_date=dt.date(2031, 12, 31)
        )
        campaign_ids[name] = campaign.pk
    headers = [
        "id",
        "campaign",
        "author",
        "title",
        "body",
        "link",
        "hashtags",
        "content_type",
        "language",
        "status",
        "scheduled_at",
        "time_zone",
        "external_id",
    ]
    dataset = tablib.Dataset(headers=headers)
    for row in values:
        dataset.append(
            [
                "",
                campaign_ids[row["campaign"]],
                editor.pk,
                row["title"],
                row["body"],
                row["link"],
                json.dumps(row["hashtags"]),
                row["content_type"],
                row["language"],
                "draft",
                row["scheduled_at"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                row["time_zone"],
                "PEER-" + row["external_id"],
            ]
        )
    started = time.perf_counter()
    dry = PostResource().import_data(dataset, dry_run=True)
    assert not dry.has_errors() and not dry.has_validation_errors(), peer_errors(dry)
    result = PostResource().import_data(dataset, dry_run=False)
    elapsed = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
    assert Post.objects.filter(campaign__in=Campaign.objects.filter(name__startswith="Peer ")).count() == ROWS
    return elapsed


def measure_limit(values: list[dict[str, Any]], editor: Any) -> float:
    from posts.models import Post, PostTarget
    from posts.services import campaign_create

    campaigns = {
        name: campaign_create(
            actor=editor, name=f"Limit {name}", start_date=dt.date(2030, 1, 1), end_date=dt.date(2031, 12, 31)
        )
        for name in CAMPAIGNS
    }
    started = time.perf_counter()
    posts = Post.objects.bulk_create(
        [
            Post(
                campaign=campaigns[row["campaign"]],
                author=editor,
                title=row["title"],
                body=row["body"],
                link=row["link"],
                hashtags=row["hashtags"],
                content_type=row["content_type"],
                language=row["language"],
                scheduled_at=row["scheduled_at"],
                time_zone=row["time_zone"],
                external_id="LIMIT-" + row["external_id"],
            )
            for row in values
        ],
        batch_size=500,
    )
    PostTarget.objects.bulk_create(
        [
            PostTarget(post=post, account=account)
            for post, row in zip(posts, values, strict=True)
            for account in row["accounts"]
        ],
        batch_size=500,
    )
    return time.perf_counter() - started


def measure_one() -> dict[str, Any]:
    """Import the plan into this process's (empty) database; returns its figures."""
    from django.db import connection

    configure()
    editor, accounts = setup_people()
    data, values = plan_csv(accounts)
    preview_s, commit_s, ours_s = measure_ours(data, editor)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    limit_s = measure_limit(values, editor)
    figures: dict[str, Any] = {
        "rows_per_s": round(ROWS / ours_s),
        "preview_s": round(preview_s, 2),
        "commit_s": round(commit_s, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "limit_rows_per_s": round(ROWS / limit_s),
        "limit_ratio": round(ours_s / limit_s, 2),
    }
    if connection.vendor == "sqlite":
        figures["peer_rows_per_s"] = round(ROWS / measure_peer(values, editor))
    figures["meets_goals"] = (
        figures["rows_per_s"] >= GOALS["rows_per_s"]
        and figures["limit_ratio"] <= GOALS["limit_ratio"]
        and figures["peak_rss_mb"] <= GOALS["peak_rss_mb"]
    )
    return figures


def measure_in(kind: str) -> dict[str, Any]:
    """Run `measure_one` in a new process on a scratch database of ``kind``; returns its figures."""
    with Scratch(kind=kind, prefix="rounds_import_bench") as scratch:
        done = scratch.run(str(HERE / "import_plan.py"), ONE, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"import bench on {kind} failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    if ONE in sys.argv[1:]:
        print(json.dumps(measure_one()))
        return
    report: dict[str, Any] = {"rows": ROWS, "goals": GOALS, "sqlite": measure_in("sqlite")}
    if reachable(PG):
        report["postgresql"] = measure_in("postgres")
    else:
        report["postgresql"] = {"skipped": f"no PostgreSQL answers at {PG[0]}:{PG[1]}"}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
