"""An uploaded plan between "Preview" and "Confirm import", and the work on it.

The upload is kept in ``PRIVATE_MEDIA_ROOT/plans/`` under a random token (never a name the
client sent), next to a small JSON state file with its owner, SHA-256 and progress. Views accept
only tokens stored in the user's session and owned by the user; the file's hash is checked
before every use. Large plans run as django-q2 tasks, which take only the token.
"""

import datetime as dt
import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from people.models import User
from plans.importing import PlanInvalid, PlanOptions, Preview, plan_commit, plan_preview
from plans.reading import XLSX_MAGIC, file_sha256

logger = logging.getLogger(__name__)

BACKGROUND_ROWS = 1_000
KEEP_FOR = dt.timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")

QUEUED = "queued"
PREVIEWING = "previewing"
PREVIEWED = "previewed"
IMPORTING = "importing"
IMPORTED = "imported"
FAILED = "failed"
RUNNING = frozenset({QUEUED, PREVIEWING, IMPORTING})
# The session key holding the tokens of the plans this session uploaded (only those open).
SESSION_KEY = "plan_imports"


class PlanFileChanged(Exception):
    """The stored upload no longer has the SHA-256 it had when it was uploaded."""


@dataclass
class PlanJob:
    token: str
    user_id: int
    file_name: str
    sha256: str
    options: dict[str, Any]
    rows: int
    state: str = QUEUED
    done: int = 0
    total: int = 0
    preview: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    failure: str = ""
    created_at: str = ""

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def background(self) -> bool:
        return self.rows > BACKGROUND_ROWS

    def plan_options(self) -> PlanOptions:
        return PlanOptions.from_dict(self.options)

    def preview_result(self) -> Preview | None:
        return Preview.from_dict(self.preview) if self.preview is not None else None

    def import_result(self) -> Preview | None:
        return Preview.from_dict(self.result) if self.result is not None else None


def plans_dir() -> Path:
    path = Path(settings.PRIVATE_MEDIA_ROOT) / "plans"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _paths(token: str) -> tuple[Path, Path]:
    if not _TOKEN.fullmatch(token):
        raise ValueError("not a plan token")
    folder = plans_dir()
    return folder / f"{token}.upload", folder / f"{token}.json"


def _write(path: Path, content: bytes) -> None:
    # Written beside, then renamed: a reader never sees half a file.
    partial = path.with_name(path.name + f".{secrets.token_hex(4)}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    partial.replace(path)


def estimate_rows(data: bytes) -> int:
    """Return about how many rows a file has, cheaply, to decide whether it runs in the background."""
    if data.startswith(XLSX_MAGIC):
        import io

        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            rows = workbook.worksheets[0].max_row or 0
            workbook.close()
            return int(rows)
        except Exception:  # unreadable: the preview reports it
            return 0
    return data.count(b"\n") + 1


def job_save(job: PlanJob) -> None:
    _write(_paths(job.token)[1], json.dumps(asdict(job)).encode())


def job_load(token: str) -> PlanJob | None:
    """Return the job of ``token``, or None if there is none (or the token is malformed)."""
    try:
        state_path = _paths(token)[1]
        return PlanJob(**json.loads(state_path.read_bytes()))
    except (ValueError, OSError, TypeError):
        return None


def job_create(*, user: User, data: bytes, file_name: str, options: PlanOptions) -> PlanJob:
    """Store an upload privately and return its new job."""
    jobs_purge()
    token = secrets.token_urlsafe(24)
    upload_path, _state = _paths(token)
    _write(upload_path, data)
    job = PlanJob(
        token=token,
        user_id=user.pk,
        file_name=Path(file_name).name[:200],
        sha256=file_sha256(data),
        options=options.as_dict(),
        rows=estimate_rows(data),
        created_at=timezone.now().isoformat(),
    )
    job_save(job)
    return job


def job_data(job: PlanJob) -> bytes:
    """Return the stored upload; raises `PlanFileChanged` if it is not the file that was uploaded."""
    data = _paths(job.token)[0].read_bytes()
    if file_sha256(data) != job.sha256:
        raise PlanFileChanged(job.token)
    return data


def job_forget_file(job: PlanJob) -> None:
    _paths(job.token)[0].unlink(missing_ok=True)


def jobs_purge(*, older_than: dt.timedelta = KEEP_FOR) -> int:
    """Delete uploads and states older than ``older_than``; returns how many files went."""
    limit = time.time() - older_than.total_seconds()
    removed = 0
    for path in plans_dir().iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


class _Reporter:
    """Write progress into the job's state file, at most a few times a second."""

    def __init__(self, job: PlanJob) -> None:
        self.job = job
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.job.done, self.job.total = done, total
        now = time.monotonic()
        if now - self.last >= 0.25 or done >= total:
            self.last = now
            job_save(self.job)


def _user(job: PlanJob) -> User:
    return get_user_model().objects.get(pk=job.user_id, is_active=True)


def plan_preview_task(token: str) -> None:
    """Preview the plan of ``token`` and store the result in its job."""
    job = job_load(token)
    if job is None:
        return
    job.state = PREVIEWING
    job_save(job)
    try:
        preview = plan_preview(
            data=job_data(job), actor=_user(job), options=job.plan_options(), progress=_Reporter(job)
        )
    except Exception:
        logger.exception("Plan preview %s failed", token)
        job.state, job.failure = FAILED, _("The plan could not be checked. Upload it again.")
    else:
        job.state, job.preview = PREVIEWED, preview.as_dict()
    job_save(job)


def plan_commit_task(token: str) -> None:
    """Import the plan of ``token`` (all or nothing) and store the outcome in its job."""
    job = job_load(token)
    if job is None:
        return
    job.state = IMPORTING
    job_save(job)
    try:
        preview = plan_commit(
            data=job_data(job),
            file_name=job.file_name,
            actor=_user(job),
            options=job.plan_options(),
            progress=_Reporter(job),
        )
    except PlanInvalid as invalid:
        # Something changed since the preview: show the new errors; nothing was written.
        job.state, job.preview = PREVIEWED, invalid.preview.as_dict()
    except Exception:
        logger.exception("Plan import %s failed", token)
        job.state, job.failure = FAILED, _("The import failed and nothing was written. Try again.")
    else:
        job.state, job.result = IMPORTED, preview.as_dict()
        job_forget_file(job)
    job_save(job)


def job_start(job: PlanJob, *, commit: bool) -> None:
    """Preview or import now, or in the background for a large plan."""
    job.state = IMPORTING if commit else QUEUED
    job.done, job.total = 0, job.rows
    job_save(job)
    task = plan_commit_task if commit else plan_preview_task
    if job.background:
        async_task(f"plans.jobs.{task.__name__}", job.token)
    else:
        task(job.token)


def jobs_waiting(*, user: User, tokens: list[str]) -> list[PlanJob]:
    """Return the user's previewed plans among ``tokens`` (a session's uploads) not yet imported, oldest first.

    It reads the small state files only, never the database or the uploads.
    """
    jobs = [job for token in tokens if (job := job_load(token)) is not None]
    return [job for job in jobs if job.user_id == user.pk and job.state == PREVIEWED]
