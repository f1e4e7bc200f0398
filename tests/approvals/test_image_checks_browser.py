"""Issue 18 in a real browser: the editor watches an image check finish, then Legal sees the face drawn and
acknowledges it with a reason."""

import datetime as dt
import importlib
import io
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import Decision, ReviewChain, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from audit.models import AuditEvent
from posts import scans
from posts.media import image_process
from posts.models import MediaScan, ScanStatus
from posts.services import NewMedia, TargetSpec, post_create
from tests.conftest import FIXTURES, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CROWD = FIXTURES / "phi" / "images" / "s08_crowd_collage.png"


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


def test_the_editor_sees_the_check_finish_and_legal_acknowledges_the_face_with_a_reason(
    page: Any, editor: Any, review_campaign: Any, account_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_create(
        actor=editor,
        campaign=review_campaign,
        data={
            "title": "Sommerfest 2026",
            "body": "Danke an alle Gäste unseres Sommerfests am 12.07. – Infos: 0221 478-0, presse@klinikum-nord.de",
            "language": "de",
        },
        targets=[TargetSpec(account=account_factory("facebook"))],
        media=[NewMedia(image=image_process(upload=io.BytesIO(CROWD.read_bytes())), alt_text="Gäste am Buffet")],
        scheduled_at=timezone.now() + dt.timedelta(days=6),
    )
    media = post.media.get()
    # As while the worker is busy: the check has not run yet.
    MediaScan.objects.filter(media=media).update(
        status=ScanStatus.WAITING, faces=[], spans=[], text="", finished_at=None, attempts=0
    )

    browser_login(page, "editor")
    page.goto(f"/posts/{post.pk}/edit/")
    status = page.locator(f'[data-media-check="{media.pk}"]')
    assert status.inner_text() == "Checking for text and faces…"
    findings = page.locator("#editor-findings")
    assert "has not been checked for text and faces yet" in findings.inner_text()

    assert scans.media_scan_run(media.pk) == ScanStatus.DONE
    faces = len(MediaScan.objects.get(media=media).faces)
    assert faces >= 1
    page.wait_for_function(
        "node => node.getAttribute('data-finished') === 'true'", arg=status.element_handle(), timeout=15_000
    )
    assert status.inner_text().startswith("Checked for text and faces: ")
    # The editor's findings were asked for again: the face is there, the "not checked" notice gone.
    page.locator('#editor-findings [data-finding="image_face"]').wait_for(timeout=10_000)
    assert "has not been checked for text and faces yet" not in findings.inner_text()

    round_submit(post=post, actor=editor)
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)
    keys = finding_keys(post=post)
    assert "post:image_face:1" in keys

    page.context.clear_cookies()
    browser_login(page, "legal")
    page.goto(f"/reviews/posts/{post.pk}/")
    face = page.locator('.review-findings li[data-finding="post:image_face:1"]')
    assert face.locator("svg.marked-image rect.marked-box").count() == faces
    for index in range(page.locator('input[name="acknowledged"]').count()):
        page.locator('input[name="acknowledged"]').nth(index).check()
    page.get_by_role("button", name="Approve").click()
    # The reason for the face is required: the browser keeps the form.
    assert page.url.endswith(f"/reviews/posts/{post.pk}/")
    assert not Decision.objects.filter(reviewer=reviewers["legal"]).exists()
    # A reason of spaces, past the browser's check, is refused by the server: the page comes back
    # with the message, every tick and the other reasons as typed; nothing is recorded.
    others = page.locator('input[name^="reason:"]:not([name="reason:post:image_face:1"])')
    typed = "Pressestelle geprüft 📸 – Rückruf 0221 478-0"
    others.first.fill(typed)
    page.locator('input[name="reason:post:image_face:1"]').fill("   ")
    page.evaluate("document.querySelector('input[name=\"reason:post:image_face:1\"]').removeAttribute('required')")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Give your reason for each visible face you acknowledge").wait_for()
    ticks = page.locator('input[name="acknowledged"]')
    assert page.locator('input[name="acknowledged"]:checked').count() == ticks.count() > 0
    assert others.first.input_value() == typed
    assert not Decision.objects.filter(reviewer=reviewers["legal"]).exists()
    reason = "Gäste des Sommerfests; schriftliche Foto-Einwilligungen liegen der Pressestelle vor (Az. 2026/114)."
    others.first.fill("")  # on second thought: no reason for that one
    page.locator('input[name="reason:post:image_face:1"]').fill(reason)
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("You approved “Legal review”.").wait_for()
    # Every reader of the review page sees the reason under the decision, and the history says what
    # the image check was in words.
    page.goto(f"/reviews/posts/{post.pk}/")
    shown = page.locator(".review-acknowledgement-reason").all_inner_texts()
    assert f"Reason for visible face 1: {reason}" in shown
    assert page.locator("strong", has_text="Image checked for text and faces").count() >= 1
    decision = Decision.objects.get(reviewer=reviewers["legal"])
    assert decision.acknowledgement_reasons == {"post:image_face:1": reason}
    event = AuditEvent.objects.filter(action="review.approve", object_id=str(post.pk)).latest("seq")
    assert event.changes["acknowledged"]["post:image_face:1"] == reason
