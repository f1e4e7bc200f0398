import hashlib
import io
import resource
import time

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageFile, ImageOps, ImageStat, PngImagePlugin

from posts.media import ProcessedImage, image_process
from tests.conftest import IMAGES

FIXTURES = IMAGES
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:xap="http://ns.adobe.com/xap/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    'exif:GPSLatitude="52,31.2N" exif:GPSLongitude="13,24.1E" xap:CreatorTool="Ward 7 scanner"/>'
    "</rdf:RDF></x:xmpmeta>"
)
METADATA_MARKERS = (b"Exif", b"<x:xmpmeta", b"http://ns.adobe.com/xap", b"GPSLatitude", b"Ward 7 scanner")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def process(data: bytes, **limits: int) -> ProcessedImage:
    return image_process(upload=io.BytesIO(data), **limits)


def encoded(image: Image.Image, pillow_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **params)
    return buffer.getvalue()


def refusal_code(data: bytes, **limits: int) -> str | None:
    with pytest.raises(ValidationError) as caught:
        process(data, **limits)
    return caught.value.code


def assert_no_metadata(data: bytes, *forbidden: bytes) -> None:
    for marker in (*METADATA_MARKERS, *forbidden):
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "xmp", "icc_profile", "comment", "Comment", "XML:com.adobe.xmp"} & set(image.info)


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


class TricklingStream(io.BytesIO):
    """A stream that, like a raw socket, returns fewer bytes than asked for."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(size, 1000) if size is not None and size >= 0 else 1000)


def test_photo_is_stored_upright_without_exif_gps_or_camera() -> None:
    original = fixture_bytes("photo_exif_gps_orientation6.jpg")
    with Image.open(io.BytesIO(original)) as source:
        raw_width, raw_height = source.size
        exif = source.getexif()
        camera = [str(exif[ExifTags.Base.Make]).encode(), str(exif[ExifTags.Base.Model]).encode()]
        assert exif[ExifTags.Base.Orientation] == 6
        assert exif.get_ifd(ExifTags.IFD.GPSInfo)
        expected = ImageOps.exif_transpose(source).convert("RGB")

    result = process(original)

    assert (result.width, result.height) == (raw_height, raw_width)
    assert result.original_orientation == 6
    assert result.had_location_metadata
    assert (result.format, result.extension, result.thumbnail_extension) == ("jpeg", "jpg", "jpg")
    with Image.open(io.BytesIO(result.content)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (result.width, result.height)
        # Upright means the same pixels as the correctly rotated original, give or take JPEG's losses.
        assert max(ImageStat.Stat(ImageChops.difference(stored.convert("RGB"), expected)).mean) < 4
    with Image.open(io.BytesIO(result.thumbnail)) as thumbnail:
        assert thumbnail.size[0] < thumbnail.size[1] <= 400
    assert_no_metadata(result.content, *camera)
    assert_no_metadata(result.thumbnail, *camera)
    assert result.content != original


def test_pixel_bomb_is_refused_from_its_header_without_decoding() -> None:
    data = fixture_bytes("bomb_30000x30000.png")
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()

    with pytest.raises(ValidationError) as caught:
        process(data)

    # Decoding 900 million pixels would take seconds and at least 900 MB.
    assert time.perf_counter() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib < 50 * 1024
    assert caught.value.code == "too_many_pixels"
    message = caught.value.messages[0]
    assert "30000 × 30000" in message
    assert "900 megapixels" in message
    assert "limit is 40 megapixels" in message


def test_pixel_limit_can_be_lowered_per_call() -> None:
    assert refusal_code(encoded(Image.new("RGB", (100, 100)), "PNG"), max_pixels=9_999) == "too_many_pixels"


def test_oversized_webp_is_refused_before_the_decoder_allocates_its_canvas() -> None:
    header = bytearray(encoded(Image.new("RGBA", (20, 10)), "WEBP"))
    assert header[12:16] == b"VP8X"
    header[24:30] = (8000 - 1).to_bytes(3, "little") + (6000 - 1).to_bytes(3, "little")

    with pytest.raises(ValidationError) as caught:
        process(bytes(header))

    assert caught.value.code == "too_many_pixels"
    assert "8000 × 6000" in caught.value.messages[0]


def test_truncated_jpeg_is_refused_as_corrupt() -> None:
    assert refusal_code(fixture_bytes("truncated.jpg")) == "corrupt"


def test_truncated_png_is_refused_as_corrupt() -> None:
    data = encoded(Image.effect_noise((300, 300), 64).convert("RGB"), "PNG")
    assert refusal_code(data[: len(data) // 2]) == "corrupt"


def test_truncated_images_are_refused_even_if_pillow_is_told_to_accept_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImproperlyConfigured):
        process(fixture_bytes("truncated.jpg"))


def test_html_named_jpg_is_not_an_image() -> None:
    assert refusal_code(fixture_bytes("not_an_image.jpg")) == "not_an_image"


def test_empty_file_is_not_an_image() -> None:
    assert refusal_code(b"") == "not_an_image"


def test_png_with_alpha_stays_png_with_alpha() -> None:
    result = process(fixture_bytes("square_1080_rgba.png"))

    assert (result.format, result.extension, result.width, result.height) == ("png", "png", 1080, 1080)
    assert result.has_alpha
    assert result.thumbnail_extension == "png"
    with Image.open(io.BytesIO(result.content)) as stored:
        assert (stored.format, stored.mode) == ("PNG", "RGBA")
    with Image.open(io.BytesIO(result.thumbnail)) as thumbnail:
        assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("PNG", "RGBA", (400, 400))


def test_webp_stays_webp() -> None:
    result = process(fixture_bytes("landscape_1200x628.webp"))

    assert (result.format, result.extension, result.width, result.height) == ("webp", "webp", 1200, 628)
    assert not result.has_alpha
    with Image.open(io.BytesIO(result.content)) as stored:
        assert stored.format == "WEBP"
    with Image.open(io.BytesIO(result.thumbnail)) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (400, 209))


def test_wide_banner_is_accepted_as_is() -> None:
    result = process(fixture_bytes("banner_5to1.jpg"))

    assert (result.format, result.width, result.height) == ("jpeg", 2000, 400)
    assert not result.had_location_metadata
    assert result.original_orientation == 1


def test_file_over_the_byte_limit_is_refused_without_reading_it_all() -> None:
    stream = CountingStream(b"\xff\xd8\xff" + bytes(21 * 1024 * 1024))

    with pytest.raises(ValidationError) as caught:
        image_process(upload=stream)

    assert caught.value.code == "too_large"
    assert "20.0\N{NO-BREAK SPACE}MB" in caught.value.messages[0]
    assert stream.bytes_read <= 20 * 1024 * 1024 + 1


def test_upload_declaring_too_many_bytes_is_refused_unread() -> None:
    class Unreadable(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("the upload was read")

    upload = InMemoryUploadedFile(Unreadable(), "image", "big.jpg", "image/jpeg", 30 * 1024 * 1024, None)
    with pytest.raises(ValidationError) as caught:
        image_process(upload=upload)
    assert caught.value.code == "too_large"


def test_byte_limit_can_be_lowered_per_call() -> None:
    assert refusal_code(fixture_bytes("banner_5to1.jpg"), max_bytes=1000) == "too_large"


@pytest.mark.parametrize(("pillow_format", "name"), [("GIF", "GIF"), ("TIFF", "TIFF")])
def test_other_image_formats_are_refused_by_name(pillow_format: str, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        process(encoded(Image.new("RGB", (20, 20), "red"), pillow_format))

    assert caught.value.code == "unsupported_format"
    assert caught.value.messages[0].startswith(f"{name} images are not supported.")


def test_iphone_heic_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        process(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100))
    assert caught.value.code == "unsupported_format"
    assert "HEIC" in caught.value.messages[0]


def test_format_is_judged_by_content_not_by_name() -> None:
    upload = SimpleUploadedFile("photo.jpg", fixture_bytes("square_1080_rgba.png"), content_type="image/jpeg")
    assert image_process(upload=upload).format == "png"


@pytest.mark.parametrize("pillow_format", ["PNG", "WEBP"])
def test_animated_images_are_refused(pillow_format: str) -> None:
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "green", "blue")]
    data = encoded(frames[0], pillow_format, save_all=True, append_images=frames[1:], duration=100)

    with pytest.raises(ValidationError) as caught:
        process(data)

    assert caught.value.code == "animated"
    assert "3 frames" in caught.value.messages[0]


def test_png_text_chunks_and_xmp_are_dropped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP)
    info.add_text("Comment", "Patient Jane Roe, bed 12")
    data = encoded(Image.new("RGB", (50, 50), "white"), "PNG", pnginfo=info)

    result = process(data)

    assert result.had_location_metadata
    assert_no_metadata(result.content, b"Jane Roe")
    assert_no_metadata(result.thumbnail, b"Jane Roe")


def test_jpeg_comment_and_xmp_are_dropped() -> None:
    data = encoded(Image.new("RGB", (50, 50), "white"), "JPEG", comment=b"Patient Jane Roe, bed 12", xmp=XMP.encode())
    with Image.open(io.BytesIO(data)) as source:
        assert "comment" in source.info and "xmp" in source.info

    result = process(data)

    assert_no_metadata(result.content, b"Jane Roe")
    assert_no_metadata(result.thumbnail, b"Jane Roe")


def test_webp_exif_and_xmp_are_dropped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Ward 7 scanner"
    data = encoded(Image.new("RGBA", (50, 50), (0, 0, 0, 90)), "WEBP", exif=exif.tobytes(), xmp=XMP.encode())

    result = process(data)

    assert (result.format, result.has_alpha, result.thumbnail_extension) == ("webp", True, "webp")
    assert_no_metadata(result.content)
    assert_no_metadata(result.thumbnail)


def test_colour_profile_is_applied_then_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encoded(Image.new("RGB", (50, 50), (200, 120, 40)), "JPEG", icc_profile=srgb, quality=100)

    result = process(data)

    with Image.open(io.BytesIO(result.content)) as stored:
        assert "icc_profile" not in stored.info
        pixel = stored.getpixel((25, 25))
    assert isinstance(pixel, tuple)
    assert all(abs(got - want) <= 3 for got, want in zip(pixel, (200, 120, 40), strict=True))


def test_cmyk_jpeg_is_stored_as_rgb() -> None:
    result = process(encoded(Image.new("CMYK", (50, 50), (0, 255, 255, 0)), "JPEG"))

    with Image.open(io.BytesIO(result.content)) as stored:
        assert stored.mode == "RGB"
        pixel = stored.getpixel((25, 25))
    assert isinstance(pixel, tuple)
    assert pixel[0] > 240


def test_opaque_alpha_channel_is_dropped() -> None:
    result = process(encoded(Image.new("RGBA", (50, 50), (10, 20, 30, 255)), "PNG"))

    assert not result.has_alpha
    assert (result.format, result.thumbnail_extension) == ("png", "jpg")


def test_palette_transparency_becomes_alpha() -> None:
    image = Image.new("P", (50, 50), 0)
    image.putpalette([255, 0, 0, 0, 255, 0])
    image.paste(1, (0, 0, 25, 50))

    result = process(encoded(image, "PNG", transparency=0))

    assert result.has_alpha
    with Image.open(io.BytesIO(result.content)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((40, 10)) == (255, 0, 0, 0)


def test_sixteen_bit_greyscale_keeps_its_tones() -> None:
    result = process(encoded(Image.new("I;16", (50, 50), 32768), "PNG"))

    with Image.open(io.BytesIO(result.content)) as stored:
        assert stored.mode == "L"
        assert stored.getpixel((25, 25)) == 128


def test_checksum_is_the_sha256_of_the_stored_bytes() -> None:
    result = process(fixture_bytes("banner_5to1.jpg"))

    assert result.checksum == hashlib.sha256(result.content).hexdigest()
    assert result.byte_size == len(result.content)


@pytest.mark.parametrize("name", ["photo_exif_gps_orientation6.jpg", "square_1080_rgba.png", "landscape_1200x628.webp"])
def test_processing_is_deterministic(name: str) -> None:
    first, second = process(fixture_bytes(name)), process(fixture_bytes(name))

    assert first.checksum == second.checksum
    assert first.thumbnail == second.thumbnail


def test_upload_already_read_is_processed_from_the_start() -> None:
    upload = SimpleUploadedFile("banner.jpg", fixture_bytes("banner_5to1.jpg"))
    upload.read()

    assert image_process(upload=upload).width == 2000


def test_stream_returning_short_reads_is_read_to_the_end() -> None:
    result = image_process(upload=TricklingStream(fixture_bytes("square_1080_rgba.png")))

    assert (result.width, result.height) == (1080, 1080)


def png_header(width: int, height: int, colour_type: int = 2) -> bytes:
    """Return a PNG whose header declares ``width`` by ``height`` and whose pixel data is one empty chunk."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_the_issues_6300_square_png_is_refused_from_its_header_for_the_memory_it_would_take() -> None:
    # 39.7 megapixels passes the pixel limit, but decoding it held four 159 MB copies (520 MB, 3 s).
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        process(png_header(6300, 6300))
    assert time.perf_counter() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib < 20 * 1024
    assert caught.value.code == "too_large_to_decode"
    message = caught.value.messages[0]
    assert "6300 × 6300" in message and "151.4\xa0MB" in message and "128.0\xa0MB" in message


def test_decode_budget_counts_four_bytes_a_pixel_for_colour_and_one_for_greyscale() -> None:
    colour = encoded(Image.new("RGB", (100, 100), "teal"), "PNG")
    grey = encoded(Image.new("L", (100, 100), 90), "PNG")
    assert refusal_code(colour, max_decode_bytes=39_999) == "too_large_to_decode"
    assert process(colour, max_decode_bytes=40_000).width == 100
    assert refusal_code(grey, max_decode_bytes=9_999) == "too_large_to_decode"
    assert process(grey, max_decode_bytes=10_000).width == 100
    palette = encoded(Image.new("P", (100, 100)), "PNG")  # converted through an RGB copy
    assert refusal_code(palette, max_decode_bytes=39_999) == "too_large_to_decode"


def test_webp_over_the_decode_budget_is_refused() -> None:
    data = encoded(Image.new("RGB", (200, 100), "teal"), "WEBP")
    assert refusal_code(data, max_decode_bytes=79_999) == "too_large_to_decode"


def test_jpeg_over_the_decode_budget_is_decoded_and_stored_at_a_reduced_scale() -> None:
    photo = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    data = encoded(photo, "JPEG", quality=90)
    full = 800 * 600 * 4
    assert (process(data, max_decode_bytes=full).width, process(data, max_decode_bytes=full).height) == (800, 600)
    half = process(data, max_decode_bytes=full // 4)
    assert (half.width, half.height) == (400, 300)
    eighth = process(data, max_decode_bytes=full // 64)
    assert (eighth.width, eighth.height) == (100, 75)
    with Image.open(io.BytesIO(half.content)) as stored:
        assert stored.size == (400, 300)
    assert refusal_code(data, max_decode_bytes=full // 64 - 1) == "too_large_to_decode"


def test_rotated_jpeg_reduced_for_the_budget_is_still_stored_upright() -> None:
    photo = Image.new("RGB", (800, 400), "white")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° clockwise to view
    data = encoded(photo, "JPEG", exif=exif.tobytes())
    result = process(data, max_decode_bytes=800 * 400)
    assert (result.width, result.height) == (200, 400)
