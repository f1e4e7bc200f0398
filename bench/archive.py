"""Time the compliance archive of 10,000 posts and measure its memory; print one JSON line.

Run: ``.venv/bin/python bench/archive.py``. Uses a throw-away SQLite file unless DATABASE_URL is
set (then it must point at an empty, disposable database).

The posts (with two revisions, one or two publications with platform ids and three audit events
each) are made with ``bulk_create`` and ``events_record_many``. The archive then runs in a fresh
process, as a django-q2 worker would run ``evidence.archive.archive_run``:

It runs twice when the evidence pack is merged: ``placeholder`` (one JSON of facts per post) and
``adapter`` (whatever ``evidence.archive._post_pack_write`` calls: the pack, with a PDF per post);
before the merge both are the placeholder and it runs once.

- ``seconds`` / ``posts_per_s``: the whole job, from the queued row to the finished ZIP with its SHA-256.
- ``peak_rss_mb``: that process's peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``,
  the whole process: Python, Django and the job), and ``rss_before_mb`` its resident memory before the
  job started, so the job's own share is the difference.

Goal (issue 16): peak_rss_mb <= 200 for 10,000 posts.
"""

import sys
from pathlib import Path

# A script here must never shadow the standard library: drop the folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

POSTS = int(os.environ.get("BENCH_ARCHIVE_POSTS", "10000"))
GOAL_MB = 200
BATCH = 1_000


def configure(scratch: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    os.environ["ROUNDS_DEBUG"] = "1"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("ROUNDS_MEDIA_ROOT", str(Path(scratch) / "media"))
    os.environ.setdefault("ROUNDS_PRIVATE_MEDIA_ROOT", str(Path(scratch) / "private"))
    os.environ.setdefault("ROUNDS_LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG's query log would keep every query of the run in memory


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def populate() -> int:
    """Make POSTS posts with revisions, publications and audit events; return the archive job's id."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from audit.services import EventSpec, events_record_many
    from people import roles
    from people.models import User
    from posts.models import Account, Campaign, Post, PostStatus, Revision
    from publishing.models import Publication, PublicationStatus

    call_command("migrate", verbosity=0)
    editor = User.objects.create_user(username="editor", password="bench-only")
    governance = User.objects.create_user(username="governance", password="bench-only", is_staff=True)
    governance.groups.add(Group.objects.get(name=roles.GOVERNANCE))
    campaign = Campaign.objects.create(
        name="Herzwochen 2030", start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 12, 31), owner=editor
    )
    accounts = [
        Account.objects.create(platform=platform, name=f"Klinikum {platform}", handle=f"@klinikum_{platform}")
        for platform in ("instagram", "facebook", "linkedin")
    ]
    start = dt.datetime(2030, 2, 1, 9, tzinfo=dt.UTC)
    now = timezone.now()
    for first in range(0, POSTS, BATCH):
        numbers = range(first, min(first + BATCH, POSTS))
        posts = Post.objects.bulk_create(
            [
                Post(
                    campaign=campaign,
                    author=editor,
                    title=f"Herzgesundheit Teil {n}: Dr. Müller erklärt Vorhofflimmern",
                    body=("Vorhofflimmern erkennen: Puls messen, Ärztin fragen. 💓 " * 8)[:480],
                    status=PostStatus.PUBLISHED,
                    scheduled_at=start + dt.timedelta(minutes=37 * n),
                )
                for n in numbers
            ]
        )
        revisions = Revision.objects.bulk_create(
            [
                Revision(
                    post=post,
                    number=number,
                    content={"body": post.body, "title": post.title, "number": number},
                    content_hash=hashlib.sha256(f"{post.pk}-{number}".encode()).hexdigest(),
                    created_by=editor,
                )
                for post in posts
                for number in (1, 2)
            ]
        )
        for post, revision in zip(posts, revisions[1::2], strict=True):
            post.current_revision = revision
            post.approved_hash = revision.content_hash
        Post.objects.bulk_update(posts, ["current_revision", "approved_hash"])
        Publication.objects.bulk_create(
            [
                Publication(
                    post=post,
                    account=account,
                    status=PublicationStatus.CONFIRMED,
                    due_at=post.scheduled_at,
                    next_attempt_at=post.scheduled_at,
                    attempts=1,
                    content_hash=post.approved_hash,
                    external_id=f"17841{post.pk:08d}{index}",
                    url=f"https://www.instagram.com/p/B{post.pk:08d}{index}/",
                    published_at=now,
                )
                for post in posts
                for index, account in enumerate(accounts[: 1 + post.pk % 2])
            ]
        )
        events_record_many(
            actor=editor,
            events=[
                EventSpec(action=action, obj=post, changes={"status": action}, content_hash=post.approved_hash)
                for post in posts
                for action in ("post.created", "post.approved", "post.published")
            ],
        )
    return populate_job()


def populate_job() -> int:
    """Return the id of a new queued archive job of the bench's campaign."""
    from evidence.models import ArchiveJob
    from people.models import User
    from posts.models import Campaign

    job = ArchiveJob.objects.create(
        requested_by=User.objects.get(username="governance"),
        campaign=Campaign.objects.get(name="Herzwochen 2030"),
        total=POSTS,
    )
    job.file_name = f"bench-{job.pk}.zip"
    job.save(update_fields=["file_name"])
    return int(job.pk)


def run_archive(job_id: int, writer: str) -> None:
    """In a fresh process: run the job as a worker would, with ``writer``; print its figures as JSON."""
    from evidence import archive
    from evidence.models import ArchiveJob

    if writer == "placeholder":
        archive._post_pack_write = archive.placeholder_write  # type: ignore[assignment]
    before = rss_mb()
    started = time.perf_counter()
    archive.archive_run(job_id=job_id)
    seconds = time.perf_counter() - started
    job = ArchiveJob.objects.get(pk=job_id)
    print(
        json.dumps(
            {
                "status": job.status,
                "error": job.error,
                "posts": job.done,
                "seconds": round(seconds, 2),
                "posts_per_s": round(job.done / seconds, 1) if seconds else None,
                "size_mb": round(job.size / 2**20, 1),
                "rss_before_mb": round(before, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def measure(job_id: int, writer: str) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, __file__, "--run", str(job_id), writer],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        raise SystemExit(child.returncode)
    figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    figures["ok"] = figures["status"] == "done" and figures["posts"] == POSTS and figures["peak_rss_mb"] <= GOAL_MB
    return figures


def adapter_is_placeholder() -> bool:
    from evidence import archive

    return "placeholder_write(" in inspect.getsource(archive._post_pack_write).split('"""')[-1]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--run":
        configure(os.environ["BENCH_ARCHIVE_SCRATCH"])
        run_archive(int(sys.argv[2]), sys.argv[3])
        return
    with tempfile.TemporaryDirectory(prefix="rounds-bench-") as scratch:
        os.environ["BENCH_ARCHIVE_SCRATCH"] = scratch
        configure(scratch)
        started = time.perf_counter()
        placeholder_job, adapter_job = populate(), populate_job()
        setup_s = time.perf_counter() - started
        same = adapter_is_placeholder()
        from django.db import connections

        connections.close_all()
        placeholder = measure(placeholder_job, "placeholder")
        # Whatever the adapter calls now: the evidence pack once merged (slower: a PDF per post).
        adapter = placeholder if same else measure(adapter_job, "adapter")
        result = {
            "bench": "archive",
            "posts": POSTS,
            "memory": "peak RSS of the process running the job (ru_maxrss); rss_before_mb: before the job",
            "placeholder": placeholder,
            "adapter": {"writes": "placeholder JSON" if same else "evidence pack", **adapter},
            "setup_s": round(setup_s, 1),
            "goal_peak_rss_mb": GOAL_MB,
            "ok": placeholder["ok"] and adapter["ok"],
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
