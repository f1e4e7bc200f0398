"""Score the patient-data detector on a labelled corpus; print one JSON line (issue 18).

Run: ``.venv/bin/python bench/patient_data.py [CORPUS]``. CORPUS is a folder in the format of
``shared/fixtures/phi`` (``texts.jsonl``, and ``images/labels.json`` with its images); the shared
fixture by default. Scoring is that corpus's ``score.py`` where it ships one (else the shared
fixture's): a predicted span matches a gold span of the same label covering at least half of it.

Prints: span precision and recall per label (all gold spans, and high-sensitivity ones only), per
language, micro-averaged and label-agnostic (ANY_PHI); the negatives (staff names, event dates,
...) hit; per language, the PHI posts flagged and the clean posts flagged; images (`posts.phi.images`: OCR through
the text recognisers, and faces): the ``flag`` images flagged and the ``clean`` ones flagged, faces
found against faces labelled, the median time per image and per 12-megapixel photo (the first
three images blown up to 4000 x 3000 JPEG); the median
time per post, per 2,000-character post (the corpus's posts of one language joined up to 2,000
characters) and per image; and the issue's goals met or not.

``--predictions FILE`` also writes the text spans (JSON Lines, ``score.py``'s input) and
``--image-predictions FILE`` the image verdicts (JSON), so that any corpus can be scored on its
own: ``python3 score.py FILE --images IMAGES_FILE``.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

GOALS = {
    "phi_posts_flagged_min_per_language": 0.95,
    "clean_posts_flagged_max": 0.05,
    "span_recall_min": 0.9,
    "span_recall_labels": [
        "PATIENT_NAME",
        "DATE_OF_BIRTH",
        "RECORD_ID",
        "INSURANCE_ID",
        "NATIONAL_ID",
        "EMAIL",
        "PHONE",
    ],
    "precision_min_overall": 0.8,
    "image_flag_recall": 1.0,
    "image_false_flags": 0,
    "ms_per_2000_char_post_max": 20,
    "s_per_image_max": 2,
}
LONG_POST = 2000


def shared_corpus() -> Path:
    shared = os.environ.get("ROUNDS_SHARED_DIR")
    return (Path(shared) if shared else HERE.parent.parent / "shared") / "fixtures" / "phi"


def load_scorer(corpus: Path) -> ModuleType:
    path = corpus / "score.py" if (corpus / "score.py").exists() else shared_corpus() / "score.py"
    spec = importlib.util.spec_from_file_location("phi_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"No score.py at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def span_table(stats: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per key (a label, ``lang/label``, ANY_PHI): precision, recall, gold and predicted counts; plus micro."""
    table: dict[str, Any] = {}
    micro = [0, 0, 0, 0]
    for key, row in sorted(stats.items()):
        table[key] = {
            "precision": ratio(row["tp_precision"], row["n_pred"]),
            "recall": ratio(row["tp_recall"], row["n_gold"]),
            "gold": row["n_gold"],
            "predicted": row["n_pred"],
        }
        if "/" not in key and key != "ANY_PHI":
            for index, name in enumerate(("tp_recall", "n_gold", "tp_precision", "n_pred")):
                micro[index] += row[name]
    table["MICRO"] = {
        "precision": ratio(micro[2], micro[3]),
        "recall": ratio(micro[0], micro[1]),
        "gold": micro[1],
        "predicted": micro[3],
    }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=None)
    parser.add_argument("--predictions", type=Path, help="write the text spans here (JSON Lines)")
    parser.add_argument("--image-predictions", type=Path, help="write the image verdicts here (JSON)")
    parser.add_argument("--no-images", action="store_true", help="score the texts only")
    args = parser.parse_args()
    corpus: Path = args.corpus or shared_corpus()
    texts = corpus / "texts.jsonl"
    if not texts.exists():
        print(json.dumps({"bench": "patient_data", "skipped": f"no corpus at {corpus}"}))
        return

    from posts.phi import detect

    scorer = load_scorer(corpus)
    rows = [json.loads(line) for line in texts.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows[:3]:
        detect(row["text"], row.get("lang"))  # load the word lists before timing
    predictions: dict[str, list[dict[str, Any]]] = {}
    times: list[float] = []
    for row in rows:
        started = time.perf_counter()
        spans = detect(row["text"], row.get("lang"))
        times.append(time.perf_counter() - started)
        predictions[row["id"]] = [
            {"start": span.start, "end": span.end, "label": span.label, "sensitivity": span.sensitivity}
            for span in spans
        ]
    long_times = time_long_posts(rows, detect)
    if args.predictions:
        with args.predictions.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps({"id": row["id"], "spans": predictions[row["id"]]}, ensure_ascii=False) + "\n")

    scored = scorer.score_texts(rows, predictions, 0.5)
    posts = per_language_posts(rows, predictions)
    result: dict[str, Any] = {
        "bench": "patient_data",
        "corpus": str(corpus),
        "posts": len(rows),
        "spans_all": span_table(scored["all"]),
        "spans_high": span_table(scored["high"]),
        "negatives": scored["negatives"],
        "posts_flagged": posts,
        "median_ms_per_post": round(statistics.median(times) * 1000, 3),
        "median_ms_per_2000_char_post": round(statistics.median(long_times) * 1000, 3) if long_times else None,
        "long_posts_timed": len(long_times),
        # Facebook takes 63,206 characters: a pasted document must not stall a worker's live check.
        "ms_per_60000_char_post": time_longest_post(rows, detect),
    }
    labels = corpus / "images" / "labels.json"
    if not args.no_images and labels.exists():
        result["images"] = score_images(scorer, corpus / "images", json.loads(labels.read_text(encoding="utf-8")), args)
    result["goals"] = GOALS
    result["met"] = goals_met(result)
    print(json.dumps(result, ensure_ascii=False))


def time_long_posts(rows: list[dict[str, Any]], detect: Any) -> list[float]:
    """Time posts of about 2,000 characters: the corpus's posts of one language joined in order."""
    long_posts: list[tuple[str, str]] = []
    by_language: dict[str, list[str]] = {}
    for row in rows:
        by_language.setdefault(row.get("lang") or "", []).append(row["text"])
    for language, items in by_language.items():
        current = ""
        for text in items * 3:
            current = f"{current}\n\n{text}" if current else text
            if len(current) >= LONG_POST:
                long_posts.append((language, current[:LONG_POST]))
                current = ""
    times: list[float] = []
    for language, text in long_posts:
        started = time.perf_counter()
        detect(text, language or None)
        times.append(time.perf_counter() - started)
    return times


def time_longest_post(rows: list[dict[str, Any]], detect: Any) -> float:
    """Time one post of 60,000 characters: the corpus's posts joined, over and over."""
    joined = "\n\n".join(row["text"] for row in rows)
    text = (joined * (60_000 // max(1, len(joined)) + 1))[:60_000]
    started = time.perf_counter()
    detect(text, None)
    return round((time.perf_counter() - started) * 1000, 1)


def per_language_posts(rows: list[dict[str, Any]], predictions: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per language and overall: PHI posts (a high-sensitivity gold span) flagged, clean posts flagged."""
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        phi = any(span["sensitivity"] == "high" for span in row["spans"])
        flagged = any(span.get("sensitivity", "high") != "low" for span in predictions.get(row["id"], []))
        for key in (row.get("lang") or "?", "all"):
            entry = table.setdefault(key, {"phi_posts": 0, "phi_flagged": 0, "clean_posts": 0, "clean_flagged": 0})
            if phi:
                entry["phi_posts"] += 1
                entry["phi_flagged"] += flagged
            else:
                entry["clean_posts"] += 1
                entry["clean_flagged"] += flagged
    for entry in table.values():
        entry["phi_recall"] = ratio(entry["phi_flagged"], entry["phi_posts"])
        entry["clean_flag_rate"] = ratio(entry["clean_flagged"], entry["clean_posts"])
    return table


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


IMAGE_FIGURES = ("flag_recall", "flag_found", "flag_total", "false_flag_rate", "clean_flagged", "clean_total")
PHOTO_PIXELS = (4000, 3000)  # a 12-megapixel phone photo


def score_images(scorer: ModuleType, folder: Path, labels: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Scan each labelled image (`posts.phi.images.image_scan`); score the verdicts; time them and a 12-MP photo."""
    from posts.phi.images import image_scan
    from posts.phi.recognisers import PRIORITY as PHI_LABELS  # every label of patient data the corpus uses

    verdicts: dict[str, str] = {}
    details: dict[str, Any] = {}
    times: list[float] = []
    faces_found = faces_labelled = 0
    text_found: list[str] = []
    text_missed: list[str] = []
    for name, label in sorted(labels.items()):
        started = time.perf_counter()
        scan = image_scan(folder / name)
        times.append(time.perf_counter() - started)
        verdicts[name] = "flag" if scan.flagged else "clean"
        labelled = int(label.get("faces", 0))
        faces_found += min(len(scan.faces), labelled)
        faces_labelled += labelled
        # The patient data labelled in the image's text: found when a span of the same label holds
        # its text or is held in it (whitespace and case aside: OCR splits and joins words).
        read = [(span.label, _plain(span.text)) for span in scan.spans]
        for wanted in label.get("text_spans", []):
            if wanted["label"] not in PHI_LABELS:
                continue  # a look-alike in labels.json (staff, event dates): not patient data
            text = _plain(wanted["text"])
            hit = any(kind == wanted["label"] and (got in text or text in got) for kind, got in read if got)
            (text_found if hit else text_missed).append(f"{name}: {wanted['label']} {wanted['text']}")
        details[name] = {
            "verdict": verdicts[name],
            "faces": len(scan.faces),
            "tilt": scan.tilt,
            "problems": list(scan.problems),
            "spans": [[span.label, span.text] for span in scan.spans if span.sensitivity == "high"],
        }
    if args.image_predictions:
        args.image_predictions.write_text(json.dumps(verdicts, indent=1, ensure_ascii=False), encoding="utf-8")
    scored = scorer.score_images(labels, verdicts)
    return {
        **{key: scored[key] for key in IMAGE_FIGURES},
        "missed": scored["missed"],
        "false_flags": scored["false_flags"],
        "faces_found": faces_found,
        "faces_labelled": faces_labelled,
        "text_spans_found": len(text_found),
        "text_spans_labelled": len(text_found) + len(text_missed),
        "text_spans_missed": text_missed,
        "median_s_per_image": round(statistics.median(times), 3) if times else None,
        "median_s_per_12mp_photo": time_photos(folder, labels, image_scan),
        "per_image": details,
    }


def time_photos(folder: Path, labels: dict[str, Any], image_scan: Any) -> float | None:
    """Time the corpus's images blown up to 12 megapixels (JPEG, as a phone sends them): the median of three."""
    import tempfile

    from PIL import Image

    names = sorted(labels)[:3]
    times: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            with Image.open(folder / name) as image:
                photo = image.convert("RGB").resize(PHOTO_PIXELS, Image.Resampling.BICUBIC)
            path = Path(scratch) / f"{Path(name).stem}.jpg"
            photo.save(path, "JPEG", quality=90)
            started = time.perf_counter()
            image_scan(path)
            times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3) if times else None


def goals_met(result: dict[str, Any]) -> dict[str, bool]:
    posts = result["posts_flagged"]
    languages = [key for key in posts if key != "all"]
    spans = result["spans_all"]
    met = {
        "phi_posts_flagged_every_language": all(
            (posts[key]["phi_recall"] or 0) >= GOALS["phi_posts_flagged_min_per_language"] for key in languages
        ),
        "clean_posts_flagged": (posts["all"]["clean_flag_rate"] or 0) <= GOALS["clean_posts_flagged_max"],
        "span_recall": all(
            (spans.get(label, {}).get("recall") or 0) >= GOALS["span_recall_min"]
            for label in GOALS["span_recall_labels"]
            if label in spans
        ),
        "precision_overall": (spans["MICRO"]["precision"] or 0) >= GOALS["precision_min_overall"],
        "ms_per_2000_char_post": (result["median_ms_per_2000_char_post"] or 0) <= GOALS["ms_per_2000_char_post_max"],
    }
    images = result.get("images")
    if images:
        met["images_flagged"] = images["flag_found"] == images["flag_total"]
        met["images_no_false_flag"] = images["clean_flagged"] == 0
        met["faces_found"] = images["faces_found"] == images["faces_labelled"]
        photo = images["median_s_per_12mp_photo"]
        met["s_per_12mp_photo"] = photo is not None and photo <= GOALS["s_per_image_max"]
    return met


if __name__ == "__main__":
    main()
