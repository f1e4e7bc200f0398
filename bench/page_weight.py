"""Weigh and time the three pages people use most — the calendar (month), the post editor and the
review page — over the demo data; print one JSON line.

Run: ``.venv/bin/python bench/page_weight.py``. Seeds the demo (``seed_demo``) into a throw-away
SQLite file, signs in as the demo editor and the demo medical reviewer through django.test.Client,
and for each page reports:

- ``html``: bytes of the HTML answer;
- ``css`` / ``js``: bytes of the style sheets and scripts the page links (read from the static files);
- ``weight``: their sum, what a browser loads for the page on a cold cache;
- ``ms``: the median server time of ``BENCH_SAMPLES`` requests (default 25), after a warm-up;
- ``queries``: the queries one request runs.

No goal is asserted here: issue 15 asks that the pages get no slower or heavier than before the
rebuilt interface; the figures before and after are in the issue's closing note.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json
import os
import re
import statistics
import tempfile
import time
from typing import Any

SAMPLES = int(os.environ.get("BENCH_SAMPLES", 25))
_ASSET = re.compile(rb'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')


def configure() -> tempfile.TemporaryDirectory[str]:
    scratch = tempfile.TemporaryDirectory(prefix="rounds-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    os.environ["ROUNDS_DEBUG"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}/bench.sqlite3"
    os.environ["ROUNDS_MEDIA_ROOT"] = str(Path(scratch.name) / "media")
    os.environ.setdefault("ROUNDS_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("ROUNDS_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return scratch


def asset_bytes(html: bytes) -> tuple[int, int]:
    """Return the bytes of the CSS and of the JS the page links, read through the static finders."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    css = js = 0
    for url in {m.decode() for m in _ASSET.findall(html)}:
        if not url.startswith(settings.STATIC_URL):
            continue
        found = finders.find(url[len(settings.STATIC_URL) :].split("?")[0])
        if not found:
            continue
        size = Path(found).stat().st_size
        if url.split("?")[0].endswith(".css"):
            css += size
        else:
            js += size
    return css, js


def measure(client: Any, url: str) -> dict[str, Any]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    css, js = asset_bytes(html)
    return {
        "url": url,
        "html": len(html),
        "css": css,
        "js": js,
        "weight": len(html) + css + js,
        "ms": round(statistics.median(times), 1),
        "queries": len(queries.captured_queries),
    }


def main() -> None:
    scratch = configure()
    from django.core.management import call_command
    from django.test import Client

    from approvals.selectors import inbox_for_user
    from people.models import User
    from posts.models import Post, PostStatus

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    editor = User.objects.get(username="editor")
    medical = User.objects.get(username="medical")
    editable = (
        Post.objects.filter(campaign__owner=editor, status=PostStatus.DRAFT).exclude(body="").order_by("pk").first()
    )
    reviewed = next(iter(inbox_for_user(user=medical)), None)
    assert editable is not None and reviewed is not None, "the demo data lacks a draft or a waiting review"

    results: dict[str, Any] = {"bench": "page_weight", "samples": SAMPLES}
    as_editor = Client(HTTP_HOST="localhost")
    as_editor.force_login(editor)
    results["calendar_month"] = measure(as_editor, "/calendar/")
    results["editor"] = measure(as_editor, f"/posts/{editable.pk}/edit/")
    as_medical = Client(HTTP_HOST="localhost")
    as_medical.force_login(medical)
    results["review_page"] = measure(as_medical, f"/reviews/posts/{reviewed.post.pk}/")
    print(json.dumps(results))
    scratch.cleanup()


if __name__ == "__main__":
    main()
