"""Peak memory and time of the image pipeline on the largest images it may be sent; print one JSON line.

Run: ``.venv/bin/python bench/image_memory.py``. Each case runs `core.imaging.image_process` once
in a fresh subprocess and reads that process's peak resident memory (``ru_maxrss``), so one case's
allocations never count towards another's.

- ``baseline``: the subprocess with Django and Pillow loaded, processing nothing.
- ``png_6300``: a 6300 x 6300 RGB PNG, just under the 40-megapixel cap (the issue's example).
- ``png_5792``: a 5792 x 5792 RGB PNG, the largest square RGB image within the default decode budget.
- ``jpeg_6300``: a 6300 x 6300 JPEG (decoded at reduced size where it would exceed the budget).
- ``jpeg_5792``: a 5792 x 5792 JPEG, the largest decoded at full size.

Per case: ``outcome`` (the stored size, or the refusal's code), ``seconds``, ``peak_rss_mb`` and
``over_baseline_mb``. Goal: no accepted image needs more than 3 x ROUNDS_MAX_DECODE_BYTES over the baseline.
"""

import sys
from pathlib import Path

# A script here must never shadow the standard library (requests imports calendar): drop the folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

CASES = {
    "png_6300": ("PNG", 6300),
    "png_5792": ("PNG", 5792),
    "jpeg_6300": ("JPEG", 6300),
    "jpeg_5792": ("JPEG", 5792),
}


def make_image(path: Path, image_format: str, side: int) -> None:
    """Write a photo-like RGB image (smooth gradients, so it compresses below the 20 MB upload cap)."""
    from PIL import Image

    red = Image.linear_gradient("L").resize((side, side))
    green = red.rotate(90)
    blue = Image.radial_gradient("L").resize((side, side))
    image = Image.merge("RGB", (red, green, blue))
    image.save(path, image_format, **({"quality": 90} if image_format == "JPEG" else {"compress_level": 6}))


def run_case(path: str) -> None:
    """In the subprocess: process one file (or none) and print the outcome, time and peak memory."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calendar_project.test_settings")
    os.environ.setdefault("ROUNDS_SHARED_DIR", str(HERE.parent))
    import django

    django.setup()
    from django.core.exceptions import ValidationError

    from core.imaging import image_process

    outcome = "none"
    started = time.perf_counter()
    if path:
        with open(path, "rb") as upload:
            try:
                image = image_process(upload=upload)
                outcome = f"stored {image.width}x{image.height}"
            except ValidationError as error:
                outcome = f"refused: {error.code}"
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"outcome": outcome, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb, 1)}))


def make_apart(path: Path, image_format: str, side: int) -> None:
    # In its own process: Linux carries a process's peak memory over into the children it starts.
    command = [sys.executable, __file__, "--make", str(path), image_format, str(side)]
    subprocess.run(command, check=True)


def measure(path: str) -> dict[str, object]:
    command = [sys.executable, __file__, "--case", path]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        baseline = measure("")
        results["baseline"] = baseline
        for name, (image_format, side) in CASES.items():
            path = Path(folder) / f"{name}.{image_format.lower()}"
            make_apart(path, image_format, side)
            result = measure(str(path))
            result["file_mb"] = round(path.stat().st_size / 1024 / 1024, 1)
            result["over_baseline_mb"] = round(float(result["peak_rss_mb"]) - float(baseline["peak_rss_mb"]), 1)
            results[name] = result
    print(json.dumps(results))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        run_case(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "--make":
        make_image(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        main()
