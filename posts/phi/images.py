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
            image = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, ValueError):
        return ImageScan(problems=("unreadable",))
    problems: list[str] = []
    face_scale = min(1.0, FACE_SIDE / max(image.size))
    faces = _faces(_scaled(image, face_scale), face_scale)
    scale = min(1.0, WORK_SIDE / max(image.size))
    image = _scaled(image, scale)
    if faces is None:
        problems.append("faces_missing")
        faces = []
    read = _read(image, scale, language)
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
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


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
    text, offsets = _joined(words)
    spans = detect(text, language or None)
    boxes = [_span_box(span, offsets, level.size, image.size, tilt, scale) for span in spans]
    return text, spans, boxes, tilt


def _legible(words: list[tuple[str, tuple[int, int, int, int, int, int]]]) -> int:
    """Letters in the words read with good confidence: how much of the image read as text."""
    return sum(sum(char.isalpha() for char in word) for word, box in words if box[5] >= 70)


def _ocr_words(
    program: str, image: Image.Image, languages: str
) -> list[tuple[str, tuple[int, int, int, int, int, int]]] | None:
    """Return (word, (block, left, top, width, height, confidence)) of each word Tesseract reads fairly surely."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "image.png"
        image.save(source)
        try:
            # The program found on PATH, our own file and fixed arguments: nothing a user typed.
            done = subprocess.run(  # noqa: S603
                [program, str(source), "-", "-l", languages, "--psm", "11", "tsv"],
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
            block, left, top, width, height = (int(columns[index]) for index in (2, 6, 7, 8, 9))
        except ValueError:
            continue
        if confidence >= 30:
            words.append((columns[11].strip(), (block, left, top, width, height, round(confidence))))
    return words


def _joined(
    words: list[tuple[str, tuple[int, int, int, int, int, int]]],
) -> tuple[str, list[tuple[int, int, tuple[int, int, int, int]]]]:
    """Join the words into one text, a line per block; return it and each word's offsets and box."""
    parts: list[str] = []
    offsets: list[tuple[int, int, tuple[int, int, int, int]]] = []
    position = 0
    last_block = None
    for word, (block, left, top, width, height, _confidence) in words:
        if parts:
            separator = "\n" if block != last_block else " "
            parts.append(separator)
            position += 1
        offsets.append((position, position + len(word), (left, top, width, height)))
        parts.append(word)
        position += len(word)
        last_block = block
    return "".join(parts), offsets


def _span_box(
    span: PhiSpan,
    offsets: list[tuple[int, int, tuple[int, int, int, int]]],
    level_size: tuple[int, int],
    work_size: tuple[int, int],
    tilt: int,
    scale: float,
) -> Box | None:
    """The box of the words a span covers, turned back by the tilt and scaled to the original image."""
    import math

    corners: list[tuple[float, float]] = []
    for start, end, (left, top, width, height) in offsets:
        if start < span.end and end > span.start:
            corners += [(left, top), (left + width, top), (left, top + height), (left + width, top + height)]
    if not corners:
        return None
    # Image.rotate(tilt, expand=True) turned the work image counter-clockwise about its centre.
    radians = math.radians(tilt)
    cos, sin = math.cos(radians), math.sin(radians)
    level_cx, level_cy = level_size[0] / 2, level_size[1] / 2
    work_cx, work_cy = work_size[0] / 2, work_size[1] / 2
    points = []
    for x, y in corners:
        dx, dy = x - level_cx, y - level_cy
        points.append((work_cx + dx * cos - dy * sin, work_cy + dx * sin + dy * cos))
    x0 = max(0.0, min(x for x, _y in points))
    y0 = max(0.0, min(y for _x, y in points))
    x1 = min(float(work_size[0]), max(x for x, _y in points))
    y1 = min(float(work_size[1]), max(y for _x, y in points))
    return _unscaled(int(x0), int(y0), int(x1 - x0), int(y1 - y0), scale)
