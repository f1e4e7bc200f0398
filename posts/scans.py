"""The image check after upload: text read by OCR through the patient-data recognisers, and faces (issue 18).

An upload stores the image and queues its check (`media_scan_queue`, once the transaction commits); a
django-q2 worker runs `media_scan_run`, which takes a second or two for a phone photo, so the editor
never waits on it. The editor shows each image's state and asks again until every check is finished
(`scan_states`). Findings come from the stored result (`posts.patient_data.image_findings`): the text
read goes through the same recognisers as the post's text, and a face no featured person accounts for
asks for consent or Legal's acknowledgement.

A check that was lost (a worker stopped mid-way, the queue down) is queued again by the
``media-scans-resume`` schedule, up to `MAX_ATTEMPTS` times; after that it is failed, which the
finding says, so an image is never taken for checked when it was not.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import event_record
from core.tasks import enqueue_after_commit
from posts.models import Media, MediaKind, MediaScan, ScanStatus
from posts.patient_data import ImageCheck, image_check_of
from posts.phi.images import ImageScan, image_scan, tesseract

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A check neither finished nor started after this long is taken for lost and queued again.
LOST_AFTER = dt.timedelta(minutes=10)
TASK = "posts.scans.media_scan_run"
# Images stored before checks existed, queued per pass of the schedule.
UNCHECKED_BATCH = 200


def media_scan_queue(media: Media) -> MediaScan:
    """Create (or reset) ``media``'s check as waiting and queue it once the transaction commits."""
    scan, _created = MediaScan.objects.update_or_create(
        media=media,
        defaults={
            "status": ScanStatus.WAITING,
            "checksum": "",
            "text": "",
            "spans": [],
            "faces": [],
            "problems": [],
            "attempts": 0,
            "queued_at": timezone.now(),
            "started_at": None,
            "finished_at": None,
        },
    )
    enqueue_after_commit(TASK, media_id=media.pk)
    return scan


def media_scan_run(media_id: int) -> str:
    """Check one stored image (the django-q2 task); returns the status it ended in."""
    with transaction.atomic():
        scan = MediaScan.objects.select_for_update().select_related("media__post").filter(media_id=media_id).first()
        if scan is None or scan.is_finished:
            return scan.status if scan is not None else "gone"  # removed meanwhile, or checked twice
        if scan.status == ScanStatus.RUNNING and scan.started_at and scan.started_at > timezone.now() - LOST_AFTER:
            return scan.status  # delivered twice: another worker is reading it
        scan.status, scan.started_at = ScanStatus.RUNNING, timezone.now()
        scan.attempts += 1
        scan.save(update_fields=["status", "started_at", "attempts"])
        media = scan.media
        path, checksum, language = media.file.path, media.checksum, media.post.language
    try:
        found = image_read(path, checksum, language or None)
    except Exception:
        # A crash of the reader is a check not done: failed (the finding says so), never "clean".
        logger.exception("Image check of media %s failed", media_id)
        found = None
    with transaction.atomic():
        scan = MediaScan.objects.select_for_update().select_related("media__post").filter(media_id=media_id).first()
        if scan is None or scan.media.checksum != checksum:
            return "gone"
        if found is None:
            scan.status, scan.problems = ScanStatus.FAILED, ["error"]
        else:
            scan.status = ScanStatus.DONE
            scan_results(scan, found)
        scan.checksum, scan.finished_at = checksum, timezone.now()
        scan.save()
        _checked_record(scan)
        return scan.status


def _checked_record(scan: MediaScan) -> None:
    """Write the audit event of a check that ended (done or failed), on the image's post."""
    post = scan.media.post
    event_record(
        actor=None,
        action="media.checked",
        obj=post,
        content_hash=post.content_hash,
        changes={
            "media": scan.media_id,
            "position": scan.media.position,
            "status": scan.status,
            "passages": len(scan.spans),
            "faces": len(scan.faces),
            "problems": scan.problems,
        },
    )


def image_read(path: str, checksum: str, language: str | None) -> ImageScan:
    """`posts.phi.images.image_scan` of the stored file, kept per worker by the file's checksum.

    The same picture stored again (a post duplicated, a plan importing one image for many posts)
    is read once. The key holds the Tesseract found, so installing it reads the picture anew.
    """
    key = (checksum, language, tesseract() or "")
    found = _kept.get(key)
    if found is None:
        found = image_scan(path, language)
        if not found.problems:  # a reading cut short (OCR timed out) is not kept
            _kept[key] = found
        while len(_kept) > KEPT_READINGS:
            _kept.pop(next(iter(_kept)))
    return found


# The readings kept per worker, oldest first: (checksum, language, Tesseract) -> what was found.
_kept: dict[tuple[str, str | None, str], ImageScan] = {}
KEPT_READINGS = 256


def scan_results(scan: MediaScan, found: ImageScan) -> None:
    """Put what `posts.phi.images.image_scan` found into ``scan`` (not saved)."""
    scan.text = found.text
    scan.spans = [
        {
            "label": span.label,
            "start": span.start,
            "end": span.end,
            "text": span.text,
            "sensitivity": span.sensitivity,
            "reason": span.reason,
            "box": [box.left, box.top, box.width, box.height] if box is not None else None,
        }
        for span, box in zip(found.spans, found.span_boxes, strict=False)
    ]
    scan.faces = [[face.left, face.top, face.width, face.height] for face in found.faces]
    scan.problems = list(found.problems)


def media_scans_resume(now: dt.datetime | None = None) -> int:
    """Queue again the checks that were lost; fail those tried `MAX_ATTEMPTS` times. Returns how many were queued."""
    now = now or timezone.now()
    lost = MediaScan.objects.filter(status__in=[ScanStatus.WAITING, ScanStatus.RUNNING], queued_at__lt=now - LOST_AFTER)
    queued = 0
    with transaction.atomic():
        for scan in lost.select_for_update().select_related("media__post"):
            if scan.attempts >= MAX_ATTEMPTS:
                scan.status, scan.problems, scan.finished_at = ScanStatus.FAILED, ["error"], now
                scan.save(update_fields=["status", "problems", "finished_at"])
                _checked_record(scan)
                continue
            scan.status, scan.queued_at = ScanStatus.WAITING, now
            scan.save(update_fields=["status", "queued_at"])
            enqueue_after_commit(TASK, media_id=scan.media_id)
            queued += 1
        # Images stored before checks existed: checked a batch at a time.
        unchecked = Media.objects.filter(scan__isnull=True, kind=MediaKind.PHOTO).order_by("pk")
        for media in unchecked[:UNCHECKED_BATCH]:
            media_scan_queue(media)
            queued += 1
    return queued


@dataclass(frozen=True)
class ScanState:
    """What the editor shows of one image's check."""

    media_id: int
    status: str
    finished: bool
    faces: int
    passages: int

    @property
    def summary(self) -> str:
        """One line for the editor: where the check is, and what it found."""
        if self.status == ScanStatus.FAILED:
            return _("Could not be checked for text and faces: look at it yourself.")
        if not self.finished:
            return _("Checking for text and faces…")
        faces = ngettext("%(count)s face", "%(count)s faces", self.faces) % {"count": self.faces}
        passages = ngettext(
            "%(count)s passage that may be patient data", "%(count)s passages that may be patient data", self.passages
        ) % {"count": self.passages}
        return _("Checked for text and faces: %(faces)s, %(passages)s.") % {"faces": faces, "passages": passages}

    def as_json(self) -> dict[str, object]:
        return {"media": self.media_id, "status": self.status, "finished": self.finished, "summary": self.summary}


def media_check(media: Media) -> ImageCheck:
    """What the findings need of the media item's check; a video has none (its frames are not read)."""
    if media.kind != MediaKind.PHOTO:
        return ImageCheck(status=ScanStatus.DONE)
    return image_check_of(scan_of(media))


def scan_of(media: Media) -> MediaScan | None:
    """The image's check, or None for an image stored before checks existed (or being stored)."""
    try:
        return media.scan
    except MediaScan.DoesNotExist:
        return None


def scan_states(media: list[Media]) -> list[ScanState]:
    """Return the state of each image's check, in the order given."""
    states = []
    for item in media:
        scan = scan_of(item)
        status = scan.status if scan is not None else ScanStatus.WAITING
        states.append(
            ScanState(
                media_id=item.pk,
                status=status,
                finished=scan is not None and scan.is_finished,
                faces=len(scan.faces) if scan is not None else 0,
                passages=len(scan.spans) if scan is not None else 0,
            )
        )
    return states
