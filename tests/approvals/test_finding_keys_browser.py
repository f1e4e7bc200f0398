"""Legal acknowledges findings about the whole post in a real browser, then approves."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import Decision, ReviewChain, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, finding_keys, round_submit
from posts.models import ContentType
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


def test_legal_ticks_each_whole_post_finding_in_the_browser_to_approve(
    page: Any, editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any, reviewers: dict[str, Any]
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Infotag Herz",
        body="Infotag am 12.12.2026 – Anmeldung unter 030 1234567 oder info@klinikum-nord.de 🫀",
        content_type=ContentType.EVENT,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    round_submit(post=post, actor=editor)
    run = current_stage_run(post=post)
    assert run is not None
    decision_record(stage_run=run, reviewer=reviewers["medical"], verdict=Verdict.APPROVE)
    keys = finding_keys(post=post)
    assert {"post:patient_data_phone:1", "post:patient_data_email:1"} <= set(keys)

    browser_login(page, "legal")
    page.goto(f"/reviews/posts/{post.pk}/")
    findings = page.locator(".review-findings li")
    assert findings.count() == len(keys)
    phone = page.locator('.review-findings li[data-finding="post:patient_data_phone:1"]')
    message = (
        "Whole post: The text contains what looks like a phone number (030 1234567). "
        "It looks like the organisation's own contact or a public number: low sensitivity."
    )
    assert phone.inner_text().splitlines()[0] == message
    # Under the message, the text with the number marked where it stands.
    assert phone.locator("mark").inner_text() == "030 1234567"
    boxes = page.locator('input[name="acknowledged"]')
    assert boxes.count() == len(keys)
    page.get_by_role("button", name="Approve").click()
    # The browser refuses the form until every finding is ticked.
    assert page.url.endswith(f"/reviews/posts/{post.pk}/")
    assert not Decision.objects.filter(reviewer=reviewers["legal"]).exists()
    page.get_by_label("Whole post: The text contains an e-mail address (info@klinikum-nord.de).").check()
    page.get_by_label("Whole post: The text contains what looks like a phone number (030 1234567).").check()
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("You approved “Legal review”.").wait_for()
    decision = Decision.objects.get(reviewer=reviewers["legal"])
    assert decision.verdict == Verdict.APPROVE
    assert decision.acknowledged_findings == keys
