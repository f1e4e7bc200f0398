"""Patient data in images: text read by OCR, and faces (issue 18, `posts.phi.images`)."""

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from posts.phi.images import image_scan, tesseract
from tests.conftest import FIXTURES, IN_CI

PHI_IMAGES = FIXTURES / "phi" / "images"
LABELS = json.loads((PHI_IMAGES / "labels.json").read_text(encoding="utf-8"))

needs_ocr = pytest.mark.skipif(
    tesseract() is None and not IN_CI, reason="Tesseract is not installed (scripts/ensure-tesseract installs it)"
)


@needs_ocr
@pytest.mark.parametrize("name", sorted(LABELS))
def test_each_shared_image_is_flagged_or_not_as_labelled_and_its_faces_are_found(name: str) -> None:
    scan = image_scan(PHI_IMAGES / name)
    assert scan.problems == ()
    assert ("flag" if scan.flagged else "clean") == LABELS[name]["expected"], (scan.text, scan.spans)
    assert len(scan.faces) == LABELS[name]["faces"]


@needs_ocr
def test_a_tilted_wristband_is_read_and_each_span_keeps_a_box_inside_the_image() -> None:
    path = PHI_IMAGES / "s01_wristband_de.png"
    scan = image_scan(path)
    assert scan.tilt != 0
    found = {(span.label, span.text) for span in scan.spans}
    assert ("DATE_OF_BIRTH", "21.09.1944") in found
    assert any(label == "LOCATION_IN_HOSPITAL" for label, _text in found)
    with Image.open(path) as image:
        width, height = image.size
    for box in scan.span_boxes:
        assert box is not None
        assert box.left >= 0 and box.top >= 0 and box.left + box.width <= width and box.top + box.height <= height


@needs_ocr
def test_a_sticky_note_turned_in_a_desk_scene_is_read_on_its_own() -> None:
    # The papers on the desk set the image's tilt; the note, turned 14 degrees the other way, is
    # found as a bright patch and turned level by its own edges.
    scan = image_scan(PHI_IMAGES / "s07_sticky_note_scene.jpg")
    found = {(span.label, span.text): box for span, box in zip(scan.spans, scan.span_boxes, strict=True)}
    assert ("PATIENT_NAME", "Yılmaz") in found and ("LOCATION_IN_HOSPITAL", "Zi. 12") in found
    name = found[("PATIENT_NAME", "Yılmaz")]
    assert name is not None
    # On the note (its middle at about 1640 x 560 of 2400 x 1600, about 330 pixels across).
    assert abs(name.left + name.width / 2 - 1640) < 170 and abs(name.top + name.height / 2 - 560) < 170


@needs_ocr
def test_printed_text_of_a_patient_is_found_with_the_box_of_its_words(tmp_path: Path) -> None:
    image = Image.new("L", (1400, 500), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("DejaVuSans.ttf", 44) if _has_dejavu() else ImageFont.load_default(size=44)
    draw.text((60, 80), "Patientin: Frau Hannelore Wüst", fill=0, font=font)
    draw.text((60, 200), "geb. 14.02.1941  Station 4B", fill=0, font=font)
    path = tmp_path / "label.png"
    image.save(path)
    scan = image_scan(path, "de")
    spans = dict(zip([(span.label, span.text) for span in scan.spans], scan.span_boxes, strict=True))
    birth = spans.get(("DATE_OF_BIRTH", "14.02.1941"))
    assert birth is not None and 150 <= birth.top <= 280  # the second line, where it was drawn
    assert scan.flagged


def test_without_tesseract_the_scan_says_the_text_was_not_read_and_flags_the_image(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ROUNDS_TESSERACT", str(tmp_path / "no-such-tesseract"))
    path = tmp_path / "blank.png"
    Image.new("RGB", (800, 600), "white").save(path)
    scan = image_scan(path)
    assert "ocr_missing" in scan.problems
    assert scan.flagged  # not read is not clean


def test_a_file_that_is_no_image_is_reported_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "not-an-image.png"
    path.write_bytes(b"%PDF-1.7 not an image")
    assert image_scan(path).problems == ("unreadable",)


def _has_dejavu() -> bool:
    try:
        ImageFont.truetype("DejaVuSans.ttf", 10)
    except OSError:
        return False
    return True


@needs_ocr
@pytest.mark.parametrize("language", ["ja", "de", None])
def test_japanese_text_in_an_image_is_read_without_the_spaces_ocr_puts_between_its_characters(
    language: str | None,
) -> None:
    # Tesseract's Japanese model gives "5 階 東 病棟" and "山本 さく ら": Japanese writes no spaces,
    # and with them neither the ward nor the name was recognised. A card in Japanese is read as
    # Japanese in the picture of a German post too.
    scan = image_scan(PHI_IMAGES / "s09_photo_card_ja.png", language)
    found = {(span.label, span.text) for span in scan.spans}
    assert ("LOCATION_IN_HOSPITAL", "5階東病棟") in found
    assert ("PATIENT_NAME", "山本さくら") in found
    assert "山本さくら" in scan.text and "5階東病棟" in scan.text
    assert all(box is not None for box in scan.span_boxes)
