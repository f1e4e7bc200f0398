"""In the browser: Legal downloads a published story's evidence pack; it verifies, one altered byte fails."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from evidence.packs import ACTION_DOWNLOADED
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def verify(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("evidence_verify", str(path), stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), err.getvalue()
    return 0, out.getvalue()


def test_legal_downloads_a_pack_that_verifies_and_one_altered_byte_fails(page: Any, story: Any, tmp_path: Path) -> None:
    post = story()
    browser_login(page, "legal")
    page.goto(reverse("posts:post_detail", args=[post.pk]))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Evidence pack").click()
    path = tmp_path / "pack.zip"
    download_info.value.save_as(path)

    assert verify(path) == (0, "verified\n")
    event = AuditEvent.objects.filter(action=ACTION_DOWNLOADED).get()
    assert event.actor_repr == "legal" and event.object_id == str(post.pk)

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered = tmp_path / "altered.zip"
    altered.write_bytes(bytes(data))
    code, problems = verify(altered)
    assert code == 1 and problems.strip()
