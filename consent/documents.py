"""Check a signed consent form before it is stored: a PDF, or an image through the image pipeline."""

import hashlib
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.imaging import image_process

PDF = "application/pdf"
IMAGE_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class CleanDocument:
    content: bytes
    extension: str
    content_type: str
    checksum: str
    # The scanned original carried a location (the stored image has none); recorded in the audit event.
    had_location: bool = False


def _max_bytes() -> int:
    return int(getattr(settings, "ROUNDS_MAX_CONSENT_DOCUMENT_BYTES", 10 * 1024 * 1024))


def document_clean(upload: IO[bytes] | UploadedFile) -> CleanDocument:
    """Return the bytes to store for a signed form; raises ValidationError for anything else.

    PDFs are stored as given (they are never rendered by us, only downloaded); images are
    re-encoded without metadata like every other image in Rounds.
    """
    limit = _max_bytes()
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise ValidationError(
                _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}, code="too_large"
            )
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(_("The PDF is incomplete or damaged."), code="corrupt")
        return CleanDocument(content=data, extension="pdf", content_type=PDF, checksum=hashlib.sha256(data).hexdigest())
    try:
        image = image_process(upload=upload, max_bytes=limit)
    except ValidationError as error:
        if error.code in {"not_an_image", "unsupported_format"}:
            raise ValidationError(
                _("Upload the signed form as a PDF, JPEG, PNG or WebP file."), code="unsupported_document"
            ) from error
        raise
    return CleanDocument(
        content=image.content,
        extension=image.extension,
        content_type=IMAGE_TYPES[image.format],
        checksum=image.checksum,
        had_location=image.had_location_metadata,
    )
