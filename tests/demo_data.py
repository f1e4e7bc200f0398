"""The demo data of ``manage.py seed_demo``, seeded once per test module and rolled back after it.

A test module imports both fixtures: ``demo_data`` (the seed command's output) and ``_media_root``,
which replaces the shared per-test media folder by the module's own, where the seed put the images.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings


@pytest.fixture(scope="module")
def demo_folders(tmp_path_factory: Any) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("demo")
    return {name: root / name for name in ("media", "private", "outbox")}


@pytest.fixture(scope="module")
def demo_data(django_db_setup: None, django_db_blocker: Any, demo_folders: dict[str, Path]) -> Iterator[str]:
    """Seed the demo once for the module inside a transaction that is rolled back at its end."""
    folders = override_settings(
        MEDIA_ROOT=demo_folders["media"],
        PRIVATE_MEDIA_ROOT=demo_folders["private"],
        ROUNDS_OUTBOX_DIR=demo_folders["outbox"],
    )
    with folders, django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, demo_folders: dict[str, Path]) -> None:
    settings.MEDIA_ROOT = demo_folders["media"]
    settings.PRIVATE_MEDIA_ROOT = demo_folders["private"]
    settings.ROUNDS_OUTBOX_DIR = demo_folders["outbox"]


def demo_seed_committed(settings: Any, folder: Path) -> None:
    """Seed the demo for one transactional test (committed, so a live server on PostgreSQL sees it).

    An earlier transactional test's flush took the rows the migrations wrote (the default review
    chains and retention rules; the role groups come back with the flush's post_migrate): they are
    put back first.
    """
    import importlib

    from django.apps import apps

    from approvals.models import ReviewChain

    if not ReviewChain.objects.filter(is_default=True).exists():
        importlib.import_module("approvals.migrations.0002_default_chains").create_chains(apps, None)
        importlib.import_module("approvals.migrations.0007_claim_checks").medical_stages_check_claims(apps, None)
    from evidence.models import RetentionRule

    if not RetentionRule.objects.exists():  # the retention purge of the demo needs its rules
        importlib.import_module("evidence.migrations.0002_default_retention_rules").rules_create(apps, None)
    settings.MEDIA_ROOT = folder / "media"
    settings.PRIVATE_MEDIA_ROOT = folder / "private"
    settings.ROUNDS_OUTBOX_DIR = folder / "outbox"
    call_command("seed_demo", stdout=StringIO())


@contextmanager
def state_cache_as_in_production() -> Iterator[None]:
    """Keep the navigation's counts until the next state change, as production does (the suite's
    default counts them on every page): for the checks that open thousands of pages of the demo."""
    cache.clear()
    try:
        with override_settings(ROUNDS_STATE_CACHE_SECONDS=60):
            yield
    finally:
        cache.clear()
