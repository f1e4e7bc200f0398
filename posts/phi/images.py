"""Patient data in an image: text read by OCR through the text recognisers, and faces (issue 18).

- **Text**: Tesseract (Debian's ``tesseract-ocr`` with the German, English, Turkish and Japanese
  data; ``scripts/ensure-tesseract`` installs them), after the image is turned straight: a photo
  of a wristband or a sticky note is rarely level, and Tesseract reads little of a line tilted by
  more than a few degrees. The tilt is the angle whose rows of dark pixels are most uneven (a
  projection profile over -15 to 15 degrees, on a small copy). The words found go through
  `posts.phi.detect`; each span keeps the box of its words, in the original image's pixels.
- **Faces**: OpenCV's Haar cascade for frontal faces (shipped in the opencv-python-headless
  wheel), on the equalised grey image.
- **Where a tool is missing**, the scan says so (``problems``) instead of passing the image as
  clean: a finding then tells the reviewer that this image was not read.

Large photos are scaled to at most `WORK_SIDE` pixels on their longer side first: a 12-megapixel
photo is read in about a second and a half on 2 cores.
"""

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps

from posts.phi.recognisers import HIGH, PhiSpan, detect

WORK_SIDE = 2000
# Faces are looked for at a little more: a face in a crowd is 30 pixels across.
FACE_SIDE = 2400
MAX_TILT = 15
# Languages Tesseract reads in one pass; Japanese is read when the post is Japanese, or when the
# Latin pass finds next to nothing (a Japanese card).
LATIN = "deu+eng+tur"
JAPANESE = "jpn+eng"
OCR_SECONDS = 30
# Below this many letters read with confidence, the Latin pass is taken for a misreading.
LEGIBLE_LATIN = 25
FACE_MIN_SIDE = 20


@dataclass(frozen=True)
class Box:
    """A rectangle in the original image's pixels."""

    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class ImageScan:
    text: str = ""
    spans: tuple[PhiSpan, ...] = ()
    span_boxes: tuple[Box | None, ...] = ()
    faces: tuple[Box, ...] = ()
    tilt: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)  # "ocr_missing", "faces_missing", "unreadable"

    @property
    def flagged(self) -> bool:
        """Whether the image needs a person's look: patient data in its text, a face, or a part not read."""
        return bool(self.faces) or any(span.sensitivity == HIGH for span in self.spans) or bool(self.problems)


def image_scan(path: str | Path, language: str | None = None) -> ImageScan:
    """Read the text and find the faces in the image at ``path``."""
    try:
        with Image.open(path) as opened:
            # A JPEG is decoded straight to grey: a 12-megapixel photo never exists in colour here.
            opened.draft("L", opened.size)
            image = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, ValueError):
        return ImageScan(problems=("unreadable",))
    problems: list[str] = []
    face_scale = min(1.0, FACE_SIDE / max(image.size))
    scale = min(1.0, WORK_SIDE / max(image.size))
    # Faces are looked for while Tesseract reads (another process; OpenCV lets go of the GIL): on
    # two cores a 12-megapixel photo takes the longer of the two, not their sum.
    with ThreadPoolExecutor(max_workers=1) as pool:
        looking = pool.submit(_faces, _scaled(image, face_scale), face_scale)
        read = _read(_scaled(image, scale), scale, language)
        faces = looking.result()
    if faces is None:
        problems.append("faces_missing")
        faces = []
    if read is None:
        problems.append("ocr_missing")
        return ImageScan(faces=tuple(faces), problems=tuple(problems))
    text, spans, boxes, tilt = read
    return ImageScan(
        text=text, spans=tuple(spans), span_boxes=tuple(boxes), faces=tuple(faces), tilt=tilt, problems=tuple(problems)
    )


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    if scale >= 1.0:
        return image
    return image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS, reducing_gap=3.0
    )


# Faces --------------------------------------------------------------------------------------------


def _faces(image: Image.Image, scale: float) -> list[Box] | None:
    try:
        import cv2
        import numpy as np
    except ImportError:
        return None
    cascades = cv2.data.haarcascades  # type: ignore[attr-defined]  # (the wheel's data folder has no stubs)
    cascade = cv2.CascadeClassifier(os.path.join(cascades, "haarcascade_frontalface_alt2.xml"))
    if cascade.empty():
        return None
    grey = cv2.equalizeHist(np.asarray(image))
    found = cascade.detectMultiScale(grey, scaleFactor=1.08, minNeighbors=5, minSize=(FACE_MIN_SIDE, FACE_MIN_SIDE))
    return [_unscaled(int(x), int(y), int(w), int(h), scale) for x, y, w, h in found]


def _unscaled(left: int, top: int, width: int, height: int, scale: float) -> Box:
    return Box(round(left / scale), round(top / scale), round(width / scale), round(height / scale))


# Text ---------------------------------------------------------------------------------------------


def tesseract() -> str | None:
    """Return the Tesseract program, or None where it is not installed (ROUNDS_TESSERACT names another)."""
    return shutil.which(os.environ.get("ROUNDS_TESSERACT", "tesseract"))


def _tilt(image: Image.Image) -> int:
    """Return the angle (degrees) that makes the image's lines of text level."""
    try:
        import cv2
        import numpy as np
    except ImportError:
        return 0
    small = np.asarray(image)
    factor = 800 / max(small.shape)
    small = cv2.resize(small, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    # Ink against its surroundings, whatever the lighting: dark strokes on a light ground become set pixels.
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    height, width = ink.shape
    best, best_score = 0, -1.0
    for angle in range(-MAX_TILT, MAX_TILT + 1):
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1)
        rows = cv2.warpAffine(ink, turn, (width, height)).sum(axis=1, dtype=np.float64)
        score = float(rows.var())
        if score > best_score:
            best, best_score = angle, score
    return best


Word = tuple[str, tuple[int, int, int, int, int, int]]  # (word, (block, left, top, width, height, confidence))
# Paper-like regions read on their own (a sticky note on a desk, a card on a table): at most this many,
# each between these shares of the image, no longer than this many times its width.
REGIONS_MAX = 1
REGION_SHARE = (0.004, 0.10)
REGION_ASPECT = 4.0
# Letters read with confidence in a region by the whole-image pass above which it is not read again.
REGION_READ_ENOUGH = 12


def _read(
    image: Image.Image, scale: float, language: str | None
) -> tuple[str, list[PhiSpan], list[Box | None], int] | None:
    program = tesseract()
    if program is None:
        return None
    tilt = _tilt(image)
    level = ImageOps.autocontrast(
        image.rotate(tilt, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC), cutoff=1
    )
    primary = (language or "").split("-")[0].casefold()
    passes = [JAPANESE] if primary == "ja" else [LATIN]
    words = _ocr_words(program, level, passes[0])
    if words is None:
        return None
    if primary != "ja" and _legible(words) < LEGIBLE_LATIN:
        # Little that reads as words: perhaps Japanese (a card, a poster).
        japanese = _ocr_words(program, level, JAPANESE)
        if japanese and _legible(japanese) > _legible(words):
            words = japanese
    turned = _Turn(level.size, image.size, tilt)
    placed = [(word, box[0], turned.box(box[1:5]), box[5]) for word, box in words]
    placed = _regions_read(program, image, placed, passes[0])
    text, offsets = _joined(placed)
    # Text read in an image is in its own language, not always the post's: a Japanese card in the
    # picture of a German post is read as Japanese, a German wristband in a Japanese post's picture
    # in the language the recognisers guess.
    letters = sum(1 for character in text if character.isalpha())
    in_japanese = sum(1 for character in text if _cjk(character)) > letters / 2
    spans = detect(text, "ja" if in_japanese else None if primary == "ja" else language or None)
    boxes = [_span_box(span, offsets, image.size, scale) for span in spans]
    return text, spans, boxes, tilt


class _Turn:
    """Maps a box in the levelled image back to the work image (Image.rotate(tilt, expand=True) turned it
    counter-clockwise about its centre)."""

    def __init__(self, level_size: tuple[int, int], work_size: tuple[int, int], tilt: float) -> None:
        import math

        radians = math.radians(tilt)
        self.cos, self.sin = math.cos(radians), math.sin(radians)
        self.level_centre = (level_size[0] / 2, level_size[1] / 2)
        self.work_centre = (work_size[0] / 2, work_size[1] / 2)

    def box(self, box: tuple[int, ...]) -> tuple[float, float, float, float]:
        left, top, width, height = box
        points = []
        for x, y in ((left, top), (left + width, top), (left, top + height), (left + width, top + height)):
            dx, dy = x - self.level_centre[0], y - self.level_centre[1]
            points.append(
                (
                    self.work_centre[0] + dx * self.cos - dy * self.sin,
                    self.work_centre[1] + dx * self.sin + dy * self.cos,
                )
            )
        return _bounds(points)


def _bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) around ``points``."""
    return (
        min(x for x, _y in points),
        min(y for _x, y in points),
        max(x for x, _y in points),
        max(y for _x, y in points),
    )


Placed = tuple[str, int, tuple[float, float, float, float], int]  # (word, block, (x0, y0, x1, y1), confidence)


def _regions_read(program: str, image: Image.Image, placed: list[Placed], languages: str) -> list[Placed]:
    """Read paper-like regions again, each turned level on its own; keep the better reading of each.

    Returns ``placed`` with the words of each region read better on its own put in place of the
    whole-image pass's words there (better: more letters read with confidence, `_legible`).

    A sticky note turned 14 degrees on a desk whose papers set the image's tilt is unreadable to
    the first pass; found as a patch brighter than its surroundings and turned by its own edges,
    it reads.
    """
    try:
        import cv2
        import numpy as np
    except ImportError:
        return []
    grey = np.asarray(image)
    factor = 1000 / max(grey.shape)
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    brighter = (small.astype(np.int16) - cv2.GaussianBlur(small, (0, 0), 25).astype(np.int16)) > 25
    patches = cv2.morphologyEx(brighter.astype(np.uint8) * 255, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _hierarchy = cv2.findContours(patches, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = small.shape[0] * small.shape[1]
    read = 0
    for contour in sorted(contours, key=cv2.contourArea, reverse=True):
        share = cv2.contourArea(contour) / area
        if read >= REGIONS_MAX or share < REGION_SHARE[0]:
            break
        (cx, cy), (width, height), angle = cv2.minAreaRect(contour)
        if share > REGION_SHARE[1] or max(width, height) > REGION_ASPECT * max(1.0, min(width, height)):
            continue
        if angle > 45:
            angle, width, height = angle - 90, height, width
        elif angle < -45:
            angle, width, height = angle + 90, height, width
        cx, cy, width, height = cx / factor, cy / factor, width / factor, height / factor
        centre = (cx, cy, width, height)
        before = [item for item in placed if _inside(item[2], centre)]
        if _legible_placed(before) >= REGION_READ_ENOUGH:
            continue  # the whole-image pass read this one well: no second reading
        turn = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        level = cv2.warpAffine(grey, turn, (grey.shape[1], grey.shape[0]), borderValue=255)
        x0, y0 = max(0, int(cx - width / 2)), max(0, int(cy - height / 2))
        part = level[y0 : int(cy + height / 2), x0 : int(cx + width / 2)]
        if part.size == 0:
            continue
        read += 1
        words = _ocr_words(program, Image.fromarray(part), languages, layout="6")
        back = cv2.invertAffineTransform(turn)
        region: list[Placed] = []
        for word, (block, left, top, box_width, box_height, confidence) in words or []:
            corners = [
                (x0 + x, y0 + y)
                for x, y in (
                    (left, top),
                    (left + box_width, top),
                    (left, top + box_height),
                    (left + box_width, top + box_height),
                )
            ]
            points = [
                (back[0][0] * x + back[0][1] * y + back[0][2], back[1][0] * x + back[1][1] * y + back[1][2])
                for x, y in corners
            ]
            region.append((word, 10_000_000 * read + block, _bounds(points), confidence))
        if _legible_placed(region) > _legible_placed(before):
            placed = [item for item in placed if not _inside(item[2], centre)] + region
    return placed


def _inside(bounds: tuple[float, float, float, float], region: tuple[float, float, float, float]) -> bool:
    """Whether the middle of ``bounds`` lies in the region (centre x, centre y, width, height)."""
    cx, cy, width, height = region
    return abs((bounds[0] + bounds[2]) / 2 - cx) <= width / 2 and abs((bounds[1] + bounds[3]) / 2 - cy) <= height / 2


def _legible_placed(words: list[Placed]) -> int:
    return sum(sum(char.isalpha() for char in word) for word, _block, _bounds, confidence in words if confidence >= 70)


def _legible(words: list[tuple[str, tuple[int, int, int, int, int, int]]]) -> int:
    """Letters in the words read with good confidence: how much of the image read as text."""
    return sum(sum(char.isalpha() for char in word) for word, box in words if box[5] >= 70)


def _ocr_words(program: str, image: Image.Image, languages: str, layout: str = "11") -> list[Word] | None:
    """Return (word, (block, left, top, width, height, confidence)) of each word Tesseract reads fairly surely."""
    with tempfile.TemporaryDirectory() as folder:
        # Uncompressed: Tesseract reads it as fast, and a 2,000-pixel PNG took a third of a second to write.
        source = Path(folder) / "image.pgm"
        image.save(source)
        try:
            # The program found on PATH, our own file and fixed arguments: nothing a user typed.
            done = subprocess.run(  # noqa: S603
                [program, str(source), "-", "-l", languages, "--psm", layout, "tsv"],
                capture_output=True,
                text=True,
                timeout=OCR_SECONDS,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    if done.returncode != 0:
        return None
    words: list[tuple[str, tuple[int, int, int, int, int, int]]] = []
    for line in done.stdout.splitlines()[1:]:
        columns = line.split("\t")
        if len(columns) < 12 or not columns[11].strip():
            continue
        try:
            confidence = float(columns[10])
            block, paragraph, line_number, left, top, width, height = (
                int(columns[index]) for index in (2, 3, 4, 6, 7, 8, 9)
            )
            block = block * 10_000 + paragraph * 100 + line_number  # a line of its own in the text joined
        except ValueError:
            continue
        if confidence >= 30:
            words.append((columns[11].strip(), (block, left, top, width, height, round(confidence))))
    return words


def _cjk(character: str) -> bool:
    """Whether ``character`` is written in Japanese (kana, kanji, their punctuation, full-width forms)."""
    code = ord(character)
    return 0x3000 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xFF00 <= code <= 0xFFEF


def _unspaced(before: str, after: str) -> bool:
    """Whether two words of a line join without a space: Japanese writes none between words.

    Tesseract's Japanese model returns a line as words of a character or two ("5 階 東 病棟",
    "山本 さく ら"); with the spaces, no name or ward is recognised. A number before or after
    Japanese text joins it too ("5階", "12月").
    """
    last, first = before[-1], after[0]
    return (_cjk(last) and (_cjk(first) or first.isdigit())) or (last.isdigit() and _cjk(first))


def _joined(placed: list[Placed]) -> tuple[str, list[tuple[int, int, tuple[float, float, float, float]]]]:
    """Join the words into one text, a line per block; return it and each word's offsets and bounds (work image)."""
    parts: list[str] = []
    offsets: list[tuple[int, int, tuple[float, float, float, float]]] = []
    position = 0
    last_block = None
    for word, block, bounds, _confidence in placed:
        if parts:
            separator = "\n" if block != last_block else "" if _unspaced(parts[-1], word) else " "
            parts.append(separator)
            position += len(separator)
        offsets.append((position, position + len(word), bounds))
        parts.append(word)
        position += len(word)
        last_block = block
    return "".join(parts), offsets


def _span_box(
    span: PhiSpan,
    offsets: list[tuple[int, int, tuple[float, float, float, float]]],
    work_size: tuple[int, int],
    scale: float,
) -> Box | None:
    """The box of the words a span covers, in the original image's pixels (inside the image)."""
    covered = [bounds for start, end, bounds in offsets if start < span.end and end > span.start]
    if not covered:
        return None
    x0 = max(0.0, min(bounds[0] for bounds in covered))
    y0 = max(0.0, min(bounds[1] for bounds in covered))
    x1 = min(float(work_size[0]), max(bounds[2] for bounds in covered))
    y1 = min(float(work_size[1]), max(bounds[3] for bounds in covered))
    return _unscaled(int(x0), int(y0), int(x1 - x0), int(y1 - y0), scale)
