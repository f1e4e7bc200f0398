"""Claims in a browser: the editor marks a claim and links a DOI, the medical reviewer checks it and approves."""

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import ClaimCheck, Decision, ReviewChain, ReviewStage, Verdict
from posts.models import Claim, PostStatus
from tests.conftest import browser_context, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BODY = (
    "Grippe-Saison im Klinikum Nord: Die Impfung senkt das Risiko eines schweren Verlaufs bei über 60-Jährigen "
    "deutlich. Impfsprechstunde Mo–Fr 8–12 Uhr, Haus B."
)
CLAIM = "Die Impfung senkt das Risiko eines schweren Verlaufs bei über 60-Jährigen deutlich."
DOI = "10.1016/S1473-3099(21)00055-3"
QUOTE = "Vaccination reduced the risk of severe influenza in adults aged 60 years and older."


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains (and their medical stages' claim checks) if an earlier test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    checks = importlib.import_module("approvals.migrations.0007_claim_checks")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)
        checks.medical_stages_check_claims(apps, None)


@contextmanager
def logged_in(browser: Any, live_server: Any, username: str) -> Iterator[Any]:
    with browser_context(browser, live_server) as context:
        page = context.new_page()
        browser_login(page, username)
        yield page


def test_journey_editor_marks_a_claim_with_a_doi_medical_checks_the_source_and_approves(
    page: Any,
    browser: Any,
    live_server: Any,
    editor: Any,
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    reviewers: dict[str, Any],
) -> None:
    assert ReviewStage.objects.get(chain__is_default=True, name="Medical review").checks_claims
    post = post_factory(
        editor,
        review_campaign,
        title="Grippeimpfung 60+",
        body=BODY,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=6),
    )
    browser_login(page, "editor")
    page.goto(f"/posts/{post.pk}/edit/")
    claims = page.locator("[data-claims]")
    # The detector suggests the sentence; the editor selects the words in the text instead.
    assert CLAIM in claims.locator(".claims-suggestions").inner_text()
    start = BODY.index(CLAIM)
    page.locator("#id_body").evaluate(
        "(el, [start, end]) => {"
        " el.focus(); el.setSelectionRange(start, end); el.dispatchEvent(new Event('select')); }",
        [start, start + len(CLAIM)],
    )
    new_claim = page.locator("[data-claim-new]")
    new_claim.get_by_role("button", name="Use selected text").click()
    assert new_claim.get_by_label("Claim (the words of the text, exactly as written)").input_value() == CLAIM
    new_claim.get_by_label("Kind of source").select_option(label="DOI")
    new_claim.get_by_label("Source", exact=True).fill(f"https://doi.org/{DOI}")
    new_claim.get_by_label("Quoted sentence from the source").fill(QUOTE)
    new_claim.get_by_role("button", name="Mark as claim").click()
    page.locator(".messages").get_by_text("The claim was marked.").wait_for()
    claim = Claim.objects.get(post=post)
    assert (claim.passage, claim.source_kind, claim.source, claim.quote) == (CLAIM, "doi", DOI, QUOTE)
    assert page.locator(f'[data-claim="{claim.pk}"] a[href="https://doi.org/{DOI}"]').count() == 1
    page.goto(f"/posts/{post.pk}/")
    page.get_by_role("button", name="Submit for review").click()
    page.locator(".messages").get_by_text("Submitted for review.").wait_for()

    with logged_in(browser, live_server, "medical") as medical:
        medical.get_by_role("link", name="My reviews").click()
        medical.get_by_role("link", name=post.title).click()
        medical.wait_for_url(f"**/reviews/posts/{post.pk}/")
        block = medical.locator("[data-review-claims]")
        assert block.locator('mark[data-claim-number="1"]').inner_text().startswith(CLAIM)
        assert block.get_by_role("link", name=f"https://doi.org/{DOI}").count() == 1
        assert QUOTE in block.inner_text()
        # Approving before the source is checked is refused, and says why.
        medical.get_by_role("button", name="Approve").click()
        medical.get_by_text("before approving").first.wait_for()
        assert not Decision.objects.exists()
        medical.locator("[data-review-claims]").get_by_role("button", name="Source checked").click()
        medical.locator(".messages").get_by_text("Source checked.").wait_for()
        assert "Source checked by medical" in medical.locator(f'[data-claim="{claim.pk}"]').inner_text()
        medical.get_by_role("button", name="Approve").click()
        medical.get_by_text("You approved “Medical review”.").wait_for()

    assert ClaimCheck.objects.get().checked_by == reviewers["medical"]
    assert Decision.objects.get().verdict == Verdict.APPROVE
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
