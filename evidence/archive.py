"""The compliance archive: all evidence of a campaign or a period, as one ZIP in private storage.

Governance asks for it (`archive_request`); a django-q2 task (`archive_run`) writes the ZIP entry
by entry, iterating the posts in chunks, so memory stays flat however many posts there are. Each
post goes in through `_post_pack_write`, the one seam to the evidence pack (evidence.packs).
"""

import csv
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from audit.models import AuditEvent, object_type_of
from audit.services import Actor, event_record
from evidence.models import ARCHIVE_MOVES, ArchiveJob, ArchiveStatus
from evidence.packs import pack_write
from people.models import User
from posts.models import Campaign, Post

logger = logging.getLogger(__name__)

REQUEST_PERM = "evidence.add_archivejob"
VIEW_PERM = "evidence.view_archivejob"
CHUNK = 500
# A long archive must not be killed at the cluster's default timeout; a second delivery of the
# same task (the ORM broker's retry) finds the job running and leaves it (`job_move`).
TIMEOUT_SECONDS = 6 * 3600
PROGRESS_EVERY_SECONDS = 1.0
INDEX_COLUMNS = ["post_id", "campaign_id", "title", "status", "scheduled_at", "folder", "entries"]
ARCHIVE_FORMAT = "rounds-archive/1"


class ArchivePolicy:
    """What one person may do with compliance archives: request, see and download, or nothing."""

    def __init__(self, user: User) -> None:
        self.user = user

    def actions(self) -> frozenset[str]:
        allowed: set[str] = set()
        if self.user.is_active and self.user.has_perm(VIEW_PERM):
            allowed |= {"view", "download"}
        if self.user.is_active and self.user.has_perm(REQUEST_PERM):
            allowed.add("request")
        return frozenset(allowed)


# The audit action of each move a job makes after it started (audit/labels.py gives their words).
ARCHIVE_EVENTS = {
    ArchiveStatus.DONE: "archive.completed",
    ArchiveStatus.FAILED: "archive.failed",
    ArchiveStatus.PURGED: "archive.file_purged",
}


def archives_dir() -> Path:
    """Return the private folder of the archives (never under MEDIA_ROOT), made if missing."""
    path = Path(settings.PRIVATE_MEDIA_ROOT) / "archives"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def archive_path(job: ArchiveJob) -> Path:
    return archives_dir() / Path(job.file_name).name


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def posts_in_scope(
    *, campaign_id: int | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[Post]:
    """Return the posts of a campaign, or of a period: scheduled in it, or (never scheduled) created in it."""
    posts = Post.objects.all()
    if campaign_id is not None:
        return posts.filter(campaign_id=campaign_id).order_by("pk")
    assert date_from is not None and date_to is not None
    start, end = _day_start(date_from), _day_start(date_to + dt.timedelta(days=1))
    in_period = Q(scheduled_at__gte=start, scheduled_at__lt=end) | Q(
        scheduled_at__isnull=True, created_at__gte=start, created_at__lt=end
    )
    return posts.filter(in_period).order_by("pk")


def job_posts(job: ArchiveJob) -> QuerySet[Post]:
    return posts_in_scope(campaign_id=job.campaign_id, date_from=job.date_from, date_to=job.date_to)


def job_move(*, job: ArchiveJob, to: str, actor: Actor, **fields: Any) -> bool:
    """Move ``job`` to ``to`` if it is still in a state that allows it; return whether it moved.

    A compare-and-set: of two workers handed the same job, one moves it and the other sees False.
    """
    sources = [state for state, targets in ARCHIVE_MOVES.items() if to in targets]
    with transaction.atomic():
        moved = ArchiveJob.objects.filter(pk=job.pk, status__in=sources).update(status=to, **fields)
        if not moved:
            return False
        job.refresh_from_db()
        if to != ArchiveStatus.RUNNING:
            event_record(
                actor=actor,
                action=ARCHIVE_EVENTS[ArchiveStatus(to)],
                obj=job,
                changes={"status": to, "posts": job.done, "size": job.size, "sha256": job.sha256, "error": job.error},
                content_hash=job.sha256,
            )
    return True


@transaction.atomic
def archive_request(
    *,
    actor: User,
    campaign: Campaign | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> ArchiveJob:
    """Record a request for an archive of a campaign or a period and queue its job after commit."""
    if "request" not in ArchivePolicy(actor).actions():
        raise PermissionDenied(_("Only Governance may export the compliance archive."))
    if campaign is None and (date_from is None or date_to is None):
        raise ValidationError(_("Choose a campaign, or a period with both a first and a last day."))
    if campaign is not None and (date_from is not None or date_to is not None):
        raise ValidationError(_("Choose a campaign or a period, not both."))
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationError(_("The period's first day must not be after its last day."))
    job = ArchiveJob.objects.create(requested_by=actor, campaign=campaign, date_from=date_from, date_to=date_to)
    job.total = job_posts(job).count()
    job.file_name = f"archive-{job.pk}-{secrets.token_hex(8)}.zip"
    job.save(update_fields=["total", "file_name"])
    event_record(
        actor=actor,
        action="archive.requested",
        obj=job,
        changes={
            "campaign": campaign.pk if campaign else None,
            "from": date_from,
            "to": date_to,
            "posts": job.total,
        },
    )
    job_id = job.pk
    transaction.on_commit(lambda: async_task("evidence.archive.archive_run", job_id=job_id, timeout=TIMEOUT_SECONDS))
    return job


def archive_downloaded(*, job: ArchiveJob, actor: User) -> None:
    """Record that ``actor`` downloaded the file of ``job``."""
    event_record(
        actor=actor,
        action="archive.downloaded",
        obj=job,
        changes={"sha256": job.sha256, "size": job.size},
        content_hash=job.sha256,
    )


# The seam to the evidence pack --------------------------------------------------------------------


def _post_pack_write(*, post: Post, zip_file: zipfile.ZipFile, prefix: str, now: dt.datetime) -> dict[str, Any]:
    """Write ``post``'s signed evidence pack into ``zip_file`` under ``prefix``; return what the index lists of it.

    The one seam to the evidence pack (evidence.packs.pack_write); bench/archive.py measures it
    beside `placeholder_write`, which writes only the post's facts.
    """
    manifest = pack_write(post=post, zip_file=zip_file, prefix=prefix, now=now)
    return {"entries": [item["name"] for item in manifest["files"]] + ["manifest.json", "manifest.sig"]}


def placeholder_write(*, post: Post, zip_file: zipfile.ZipFile, prefix: str, now: dt.datetime) -> dict[str, Any]:
    """Write one JSON of ``post``'s facts (revisions, publications, its audit events' seqs and hashes)."""
    revisions = [
        {"number": revision.number, "content_hash": revision.content_hash, "created_at": revision.created_at}
        for revision in post.revisions.all()
    ]
    publications = [
        {
            "account_id": publication.account_id,
            "status": publication.status,
            "content_hash": publication.content_hash,
            "external_id": publication.external_id,
            "url": publication.url,
            "published_at": publication.published_at,
        }
        for publication in post.publications.all()
    ]
    events = [
        {"seq": seq, "action": action, "hash": event_hash, "created_at": created_at}
        for seq, action, event_hash, created_at in AuditEvent.objects.filter(
            object_type=object_type_of(Post), object_id=str(post.pk)
        )
        .order_by("seq")
        .values_list("seq", "action", "hash", "created_at")
    ]
    facts = {
        "post": {"id": post.pk, "campaign_id": post.campaign_id, "title": post.title, "status": post.status},
        "revisions": revisions,
        "publications": publications,
        "audit_events": events,
        "written_at": now,
        "placeholder": "evidence.packs not merged yet",
    }
    name = f"{prefix}post.json"
    zip_file.writestr(name, json.dumps(facts, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1))
    return {"entries": [name]}


# The job ------------------------------------------------------------------------------------------


def _posts_for_archive(job: ArchiveJob) -> Iterator[Post]:
    # A chunked iterator with prefetching: one query per chunk and relation, never all posts at once.
    posts = job_posts(job).prefetch_related("revisions", "publications")
    return posts.iterator(chunk_size=CHUNK)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_write(*, job: ArchiveJob, path: Path, now: dt.datetime) -> int:
    """Write the ZIP of ``job`` to ``path``, updating its progress; return how many posts it holds."""
    done = 0
    last_report = time.monotonic()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with (
        os.fdopen(descriptor, "w+b") as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        (path.with_name(path.name + ".index")).open("w+", encoding="utf-8", newline="") as index_file,
    ):
        index = csv.writer(index_file)
        index.writerow(INDEX_COLUMNS)
        for post in _posts_for_archive(job):
            folder = f"posts/{post.pk}/"
            written = _post_pack_write(post=post, zip_file=archive, prefix=folder, now=now)
            entries = written.get("entries", [])
            index.writerow(
                [
                    post.pk,
                    post.campaign_id,
                    post.title,
                    post.status,
                    post.scheduled_at.isoformat() if post.scheduled_at else "",
                    folder,
                    len(entries) if isinstance(entries, list) else "",
                ]
            )
            done += 1
            if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                ArchiveJob.objects.filter(pk=job.pk).update(done=done)
                last_report = time.monotonic()
        index_file.flush()
        index_file.seek(0)
        with archive.open("index.csv", "w", force_zip64=True) as entry:
            for block in iter(lambda: index_file.read(1 << 16), ""):
                entry.write(block.encode())
        manifest = {
            "format": ARCHIVE_FORMAT,
            "archive": job.pk,
            "campaign": job.campaign_id,
            "from": job.date_from,
            "to": job.date_to,
            "posts": done,
            "written_at": now,
            "requested_by": job.requested_by_id,
        }
        archive.writestr("archive.json", json.dumps(manifest, cls=DjangoJSONEncoder, indent=1))
    path.with_name(path.name + ".index").unlink(missing_ok=True)
    return done


def archive_run(*, job_id: int) -> None:
    """Task: write the archive of job ``job_id``, once; a job already taken or finished is left alone."""
    job = ArchiveJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    now = timezone.now()
    if not job_move(job=job, to=ArchiveStatus.RUNNING, actor=None, started_at=now):
        return
    final = archive_path(job)
    partial = final.with_name(final.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        total = job_posts(job).count()
        ArchiveJob.objects.filter(pk=job.pk).update(total=total, done=0)
        done = archive_write(job=job, path=partial, now=now)
        partial.replace(final)
        os.chmod(final, 0o600)
        job_move(
            job=job,
            to=ArchiveStatus.DONE,
            actor=None,
            done=done,
            total=max(total, done),
            size=final.stat().st_size,
            sha256=file_sha256(final),
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("archive %s failed", job_id)
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + ".index").unlink(missing_ok=True)
        job_move(
            job=job,
            to=ArchiveStatus.FAILED,
            actor=None,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
