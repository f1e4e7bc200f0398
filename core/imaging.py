"""The image pipeline: turn an uploaded image into an upright, metadata-free copy and a thumbnail.

Pure functions on bytes; nothing here touches the database or storage. It lives in the project
package because posts (post media) and consent (scanned consent forms) both use it, and consent
sits below posts.
"""

import hashlib
import io
import math
import struct
from dataclasses import dataclass
from typing import IO, Final, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat, floatformat
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

ImageFormat = Literal["jpeg", "png", "webp"]

THUMBNAIL_SIZE: Final = (400, 400)

# Each accepted format is read by its own Pillow class, never by Image.open: no other format's parser
# ever sees the bytes, and we check the declared size before Pillow's own bomb check would refuse the
# image without saying how large it is.
_READERS: Final[dict[ImageFormat, type[ImageFile.ImageFile]]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
}
_SAVE: Final[dict[ImageFormat, tuple[str, dict[str, object]]]] = {
    "jpeg": ("JPEG", {"quality": 88, "optimize": True, "progressive": True}),
    "png": ("PNG", {}),
    "webp": ("WEBP", {"quality": 88}),
}
_EXTENSIONS: Final[dict[ImageFormat, str]] = {"jpeg": "jpg", "png": "png", "webp": "webp"}

# Formats people commonly try to upload, named so the message can tell them what to convert.
_OTHER_SIGNATURES: Final = ((b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
_HEIF_BRANDS: Final = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"avif": "AVIF", b"avis": "AVIF"}

# The GPS tags that place a photo: latitude, longitude, and the destination's (which is also a place).
_GPS_COORDINATES: Final = (
    ExifTags.GPS.GPSLatitude,
    ExifTags.GPS.GPSLongitude,
    ExifTags.GPS.GPSDestLatitude,
    ExifTags.GPS.GPSDestLongitude,
)
# XMP properties that place a photo: GPS coordinates, and the IPTC and Photoshop place names.
_XMP_LOCATION_MARKERS: Final = (
    "GPSLatitude",
    "GPSLongitude",
    "Iptc4xmpCore:Location",
    "Iptc4xmpExt:LocationCreated",
    "Iptc4xmpExt:LocationShown",
    "photoshop:City",
)

_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class ProcessedImage:
    """An image as the pipeline stores it: re-encoded, upright, without metadata.

    ``had_location_metadata`` says the original carried a place (EXIF GPS coordinates or XMP
    GPS tags, in a JPEG, PNG eXIf chunk or WebP); the place itself is never kept.
    """

    content: bytes
    thumbnail: bytes
    width: int
    height: int
    format: ImageFormat
    extension: str
    thumbnail_extension: str
    checksum: str
    byte_size: int
    has_alpha: bool
    had_location_metadata: bool
    original_orientation: int


def image_process(
    *,
    upload: IO[bytes] | UploadedFile,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    max_decode_bytes: int | None = None,
) -> ProcessedImage:
    """Return the upload re-encoded upright in its own format without any metadata, with a thumbnail.

    Only still JPEG, PNG and WebP images are accepted, judged by their bytes. Animated images are
    refused rather than cut to their first frame, so nobody publishes a still they did not choose.
    Decoding is bounded: a JPEG whose pixels would need more than ``max_decode_bytes`` is decoded
    (and stored) at a half, quarter or eighth of its size; any other image over it is refused.
    Raises ValidationError with code too_large, not_an_image, unsupported_format, too_many_pixels,
    too_large_to_decode, animated or corrupt.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then fill missing pixels with grey instead of failing, and we would store it.
        raise ImproperlyConfigured("The media pipeline needs PIL.ImageFile.LOAD_TRUNCATED_IMAGES to be False.")
    max_bytes = settings.ROUNDS_MAX_IMAGE_BYTES if max_bytes is None else max_bytes
    max_pixels = settings.ROUNDS_MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    max_decode_bytes = settings.ROUNDS_MAX_DECODE_BYTES if max_decode_bytes is None else max_decode_bytes

    data = _read_at_most(upload, max_bytes)
    image_format = _identify(data)
    with _open(data, image_format, max_pixels) as source:
        frames = getattr(source, "n_frames", 1)
        if frames > 1:
            raise ValidationError(
                _("This image is animated (%(frames)s frames). Upload a still JPEG, PNG or WebP image."),
                code="animated",
                params={"frames": frames},
            )
        _fit_decode_budget(source, image_format, max_decode_bytes)
        try:
            source.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _corrupt() from exc
        exif = source.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        if orientation not in range(1, 9):
            orientation = 1  # Pillow ignores a value outside the standard's 1-8 as well.
        had_location = _exif_has_location(exif) or _xmp_has_location(source.info.get("xmp"))
        if orientation != 1:
            ImageOps.exif_transpose(source, in_place=True)  # in place: no third copy of the pixels
        converted = _in_srgb(source)
        # The decoded pixels go now (closing leaving the file's own context would not free them),
        # so at most two copies of the image are held at any time.
        source.close()
    image = _without_metadata(converted)
    del converted

    width, height = image.size
    has_alpha = image.mode == "RGBA"
    content = _encode(image, image_format)
    thumbnail_format: ImageFormat = image_format if has_alpha else "jpeg"
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    return ProcessedImage(
        content=content,
        thumbnail=_encode(image, thumbnail_format),
        width=width,
        height=height,
        format=image_format,
        extension=_EXTENSIONS[image_format],
        thumbnail_extension=_EXTENSIONS[thumbnail_format],
        checksum=hashlib.sha256(content).hexdigest(),
        byte_size=len(content),
        has_alpha=has_alpha,
        had_location_metadata=had_location,
        original_orientation=orientation,
    )


def _read_at_most(upload: IO[bytes] | UploadedFile, max_bytes: int) -> bytes:
    """Return the upload's bytes; refuse one larger than max_bytes without reading past the limit."""
    if isinstance(upload, UploadedFile) and upload.size is not None and upload.size > max_bytes:
        raise _too_large(max_bytes)
    if upload.seekable():
        upload.seek(0)
    buffer = bytearray()
    # A raw stream may return fewer bytes than asked for, so read until the limit or the end.
    while len(buffer) <= max_bytes:
        chunk = upload.read(max_bytes + 1 - len(buffer))
        if not chunk:
            break
        buffer += chunk
    if len(buffer) > max_bytes:
        raise _too_large(max_bytes)
    return bytes(buffer)


def _identify(data: bytes) -> ImageFormat:
    """Return which accepted format the bytes claim to be; the decoder then has to agree."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    name = next((name for signature, name in _OTHER_SIGNATURES if data.startswith(signature)), None)
    if data[4:8] == b"ftyp":
        name = _HEIF_BRANDS.get(data[8:12], name)
    if name is not None:
        raise ValidationError(
            _("%(format)s images are not supported. Save it as JPEG, PNG or WebP and upload it again."),
            code="unsupported_format",
            params={"format": name},
        )
    raise ValidationError(
        _("This file is not a JPEG, PNG or WebP image. Choose an image file and upload it again."),
        code="not_an_image",
    )


def _open(data: bytes, image_format: ImageFormat, max_pixels: int) -> ImageFile.ImageFile:
    """Return the image with only its header read, after refusing one with more than max_pixels."""
    if image_format == "webp":
        # Pillow's WebP reader allocates the whole canvas as it opens, so check the header first.
        declared = _webp_size(data)
        if declared is None:
            raise _corrupt()
        _check_pixels(declared, max_pixels)
    try:
        image = _READERS[image_format](io.BytesIO(data))
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise _corrupt() from exc
    _check_pixels(image.size, max_pixels)
    return image


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Return the canvas size a WebP file declares, or None if its first chunk is not a known one."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ValidationError(
            _(
                "This image is %(width)s × %(height)s pixels (%(megapixels)s megapixels); the limit is "  # noqa: RUF001
                "%(limit)s megapixels. Resize it and upload it again."
            ),
            code="too_many_pixels",
            params={
                "width": width,
                "height": height,
                # Rounded up, so an image just over the limit never reads as being at it.
                "megapixels": floatformat(math.ceil(width * height / 100_000) / 10, -1),
                "limit": floatformat(max_pixels / 1_000_000, -1),
            },
        )


def decode_bytes(size: tuple[int, int], mode: str) -> int:
    """Return the memory one copy of an image's pixels takes in Pillow once decoded and converted.

    Pillow holds RGB, RGBA and CMYK in 4 bytes a pixel; palette and 16-bit images are converted
    through 4-byte copies; only bilevel and 8-bit greyscale stay at 1 byte.
    """
    width, height = size
    return width * height * (1 if mode in ("1", "L") else 4)


def _fit_decode_budget(source: ImageFile.ImageFile, image_format: ImageFormat, max_decode_bytes: int) -> None:
    """Make the header-only ``source`` decode within the budget (JPEG at reduced scale), or refuse it."""
    size, needed = source.size, decode_bytes(source.size, source.mode)
    if needed <= max_decode_bytes:
        return
    if image_format == "jpeg":
        width, height = size
        scale = next((scale for scale in (2, 4, 8) if needed / (scale * scale) <= max_decode_bytes), 0)
        if scale:
            # libjpeg decodes straight at 1/scale: the full-size pixels are never in memory.
            source.draft(source.mode, (math.ceil(width / scale), math.ceil(height / scale)))
            if decode_bytes(source.size, source.mode) <= max_decode_bytes:
                return
    raise _too_large_to_decode(size, needed, max_decode_bytes)


def _exif_has_location(exif: Image.Exif) -> bool:
    """True if the EXIF GPS block holds a coordinate (a bare version tag or timestamp is no place)."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, struct.error):
        return False  # an unreadable GPS block is dropped with the rest; there is nothing to report
    return any(gps.get(tag) for tag in _GPS_COORDINATES)


def _xmp_has_location(xmp: str | bytes | None) -> bool:
    if not xmp:
        return False
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    return any(marker in text for marker in _XMP_LOCATION_MARKERS)


def _in_srgb(image: Image.Image) -> Image.Image:
    """Return a new 8-bit L, RGB or RGBA image in sRGB, with alpha only if some pixel is not opaque."""
    if image.mode.startswith("I"):
        # 16-bit greyscale, common in medical exports, would clip to white if converted directly.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    mode = "RGBA" if image.has_transparency_data else "L" if image.mode in ("1", "L") else "RGB"
    converted: Image.Image | None = None
    # The stored file has no profile, so colours from a wide-gamut or CMYK source must be converted, not
    # just relabelled: browsers and platforms read profile-less images as sRGB.
    if (icc := image.info.get("icc_profile")) and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source_profile, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A broken profile is no reason to refuse a photo; keep the numbers as they are.
    if converted is None:
        converted = image.convert(mode)
    if mode == "RGBA" and converted.getchannel("A").getextrema() == (255, 255):
        converted = converted.convert("RGB")
    return converted


def _without_metadata(image: Image.Image) -> Image.Image:
    """Return a new image with the same pixels and nothing else.

    Pillow's encoders copy comments, XMP, ICC profiles and transparency from ``info``; a fresh
    image has none, so nothing of the original can reach the stored file.
    """
    bare = Image.new(image.mode, image.size)
    bare.paste(image)
    return bare


def _encode(image: Image.Image, image_format: ImageFormat) -> bytes:
    pillow_format, options = _SAVE[image_format]
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def _too_large(max_bytes: int) -> ValidationError:
    return ValidationError(
        _("This file is larger than %(limit)s. Export it at a smaller size and upload it again."),
        code="too_large",
        params={"limit": filesizeformat(max_bytes)},
    )


def _too_large_to_decode(size: tuple[int, int], needed: int, limit: int) -> ValidationError:
    width, height = size
    return ValidationError(
        _(
            "This image is %(width)s × %(height)s pixels; processing it would take %(needed)s of memory, "  # noqa: RUF001
            "more than the %(limit)s allowed. Resize it and upload it again."
        ),
        code="too_large_to_decode",
        params={"width": width, "height": height, "needed": filesizeformat(needed), "limit": filesizeformat(limit)},
    )


def _corrupt() -> ValidationError:
    return ValidationError(
        _("This image is damaged or incomplete. Open it on your device, save it again and upload the new file."),
        code="corrupt",
    )
