"""Images an editor chose in a form that was refused: kept for a day so they need not be chosen again.

The file the person sent is kept as sent (in private storage, under their user id) with the
thumbnail the media pipeline made of it; the form carries a signed token naming it. A kept file
is run through `core.imaging.image_process` again when the form is saved, exactly like a new
upload, so keeping it never skips a check.
"""

import datetime as dt
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.urls import reverse

from core.imaging import ProcessedImage

# How long a kept image stays usable, and is stored at most.
KEEP_FOR: Final = dt.timedelta(days=1)
_SALT: Final = "posts.pending_upload"
_THUMB_SUFFIX: Final = ".thumb"
# Kept images per person at most: the oldest go first (refused saves cannot fill the disk).
KEEP_AT_MOST: Final = 16


@dataclass(frozen=True)
class KeptUpload:
    """One kept image as the form shows it: its token, the name it was chosen under, its thumbnail.

    ``had_location`` says the original carried a location (the pipeline removes it on save, and
    reviewers are told); the signed token carries it, never the place.
    """

    token: str
    name: str
    thumbnail_url: str
    had_location: bool = False


def _folder(user_id: int) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "pending" / str(user_id)


def _purge_old(folder: Path) -> None:
    """Delete this person's kept images older than KEEP_FOR, and the oldest beyond KEEP_AT_MOST - 1."""
    cutoff = time.time() - KEEP_FOR.total_seconds()
    originals = sorted(
        (path for path in folder.glob("*") if not path.name.endswith(_THUMB_SUFFIX)),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for index, path in enumerate(originals):
        if index >= KEEP_AT_MOST - 1 or path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            folder.joinpath(path.name + _THUMB_SUFFIX).unlink(missing_ok=True)


def pending_purge() -> int:
    """Delete every kept image older than KEEP_FOR (hourly, `calendar_project.schedules`); return how many files."""
    root = Path(settings.PRIVATE_MEDIA_ROOT) / "pending"
    if not root.is_dir():
        return 0
    cutoff = time.time() - KEEP_FOR.total_seconds()
    removed = 0
    for path in root.glob("*/*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def pending_keep(*, user_id: int, upload: UploadedFile, image: ProcessedImage) -> KeptUpload:
    """Store the upload the pipeline accepted and return the kept image's token and thumbnail."""
    folder = _folder(user_id)
    folder.mkdir(parents=True, exist_ok=True)
    _purge_old(folder)
    key = secrets.token_hex(16)
    upload.seek(0)
    (folder / key).write_bytes(upload.read())
    (folder / f"{key}{_THUMB_SUFFIX}").write_bytes(image.thumbnail)
    name = Path(upload.name or "").name[:200]
    located = image.had_location_metadata
    token = signing.dumps({"u": user_id, "k": key, "n": name, "l": located}, salt=_SALT)
    return KeptUpload(
        token=token, name=name, thumbnail_url=reverse("posts:pending_thumbnail", args=[token]), had_location=located
    )


def _read(token: str, user_id: int) -> tuple[str, str, bool] | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=KEEP_FOR)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id:
        return None
    key, name = str(data.get("k", "")), str(data.get("n", ""))
    if not key.isalnum() or not (_folder(user_id) / key).is_file():
        return None
    return key, name, data.get("l") is True


def pending_find(*, token: str, user_id: int) -> KeptUpload | None:
    """Return the kept image ``token`` names if it is this person's and still stored, else None."""
    found = _read(token, user_id)
    if found is None:
        return None
    return KeptUpload(
        token=token,
        name=found[1],
        thumbnail_url=reverse("posts:pending_thumbnail", args=[token]),
        had_location=found[2],
    )


def pending_file(*, token: str, user_id: int) -> UploadedFile | None:
    """Return the kept image as an upload, to run through the media pipeline again; None if gone."""
    found = _read(token, user_id)
    if found is None:
        return None
    key, name, _located = found
    return SimpleUploadedFile(name or key, (_folder(user_id) / key).read_bytes())


def pending_thumbnail_path(*, token: str, user_id: int) -> Path | None:
    found = _read(token, user_id)
    if found is None:
        return None
    path = _folder(user_id) / f"{found[0]}{_THUMB_SUFFIX}"
    return path if path.is_file() else None


def pending_discard(*, token: str, user_id: int) -> None:
    """Delete a kept image (used in a saved post, or removed by the person)."""
    found = _read(token, user_id)
    if found is None:
        return
    for suffix in ("", _THUMB_SUFFIX):
        (_folder(user_id) / f"{found[0]}{suffix}").unlink(missing_ok=True)
