"""A gunicorn worker loads the views and freezes what it loaded before its first request."""

import json
import runpy
import subprocess
import sys

import pytest

from tests.test_deploy import ROOT, django_env

# Starts processes that read DATABASE_URL: kept in the PostgreSQL pass of .ci/run (tests/conftest.py).
pytestmark = pytest.mark.database_kind

PROBE = """
import gc, json, runpy, sys
import django
django.setup()
config = runpy.run_path("calendar_project/gunicorn.conf.py")
before = gc.get_freeze_count()
loaded_before = "posts.views.editor" in sys.modules
config["post_worker_init"](object())
print(json.dumps({"before": before, "after": gc.get_freeze_count(), "loaded_before": loaded_before,
                  "loaded_after": "posts.views.editor" in sys.modules and "approvals.views" in sys.modules}))
"""


def test_post_worker_init_loads_the_views_and_freezes_what_start_up_loaded() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=django_env(ROUNDS_DEBUG="1"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["before"] == 0 and not probe["loaded_before"]
    assert probe["loaded_after"]
    # Django, the apps and the views: tens of thousands of objects the collector no longer walks.
    assert probe["after"] > 20_000


def test_the_gunicorn_configuration_names_the_hook() -> None:
    config = runpy.run_path(str(ROOT / "calendar_project" / "gunicorn.conf.py"))
    assert callable(config["post_worker_init"])
