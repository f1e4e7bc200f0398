"""Browser journey: one Consent officer records a consent with its signed PDF, a second verifies and revokes it."""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from consent.models import ConsentRecord, ConsentState
from tests.conftest import browser_login
from tests.consent.conftest import PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_records_a_consent_another_verifies_and_revokes_it(
    page: Any, officer: Any, officer2: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    signed_form = tmp_path / "signed-consent.pdf"
    signed_form.write_bytes(PDF_BYTES)
    today = timezone.localdate()

    browser_login(page, "consent")
    page.get_by_role("link", name="Consent", exact=True).click()
    expect(page.get_by_role("heading", name="Consent registry")).to_be_visible()
    page.get_by_role("link", name="Register person").click()
    page.get_by_label("Name or pseudonym").fill("Anna Example")
    page.get_by_label("Internal reference").fill("CASE-2024-17")
    page.get_by_role("button", name="Register person").click()
    expect(page.get_by_role("heading", name="Anna Example")).to_be_visible()

    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Photo", exact=True).check()
    page.get_by_label("Story", exact=True).check()
    page.get_by_label("Description of what may be shown").fill("Fotos auf Station 4B, Vorname, Geschichte der Reha")
    page.get_by_label("Facebook", exact=True).check()
    page.get_by_label("Instagram", exact=True).check()
    page.get_by_label("Education", exact=True).check()
    page.get_by_label(re.compile(r"^Signed on")).fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_label("Expires on", exact=True).fill((today + dt.timedelta(days=365)).isoformat())
    page.get_by_label(re.compile("may revoke this consent in writing")).check()
    page.get_by_label(re.compile("do not depend on signing")).check()
    page.get_by_label(re.compile("may be redisclosed")).check()
    page.get_by_label("Signer 1: name").fill("Anna Example")
    page.get_by_label("Signed form").set_input_files(str(signed_form))
    page.get_by_label("Not yet: I will record it on the record page").check()
    page.get_by_role("button", name="Record consent").click()

    expect(page.locator("[data-consent-state]").first).to_have_text("Pending verification")
    expect(page.locator("[data-copy-given]")).to_contain_text("Not recorded yet")
    expect(page.get_by_role("button", name="Verify")).to_have_count(0)
    record = ConsentRecord.objects.get()
    assert record.recorded_by == officer and record.document_type == "application/pdf"

    page.get_by_role("button", name="Log out").click()
    browser_login(page, "consent2")
    page.goto("/consent/")
    page.locator('[data-state-filter="pending"]').click()
    page.get_by_role("link", name=re.compile("^signed ")).click()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text(re.compile("Record first that the signer was given a copy"))).to_be_visible()
    expect(page.locator("[data-consent-state]").first).to_have_text("Pending verification")
    page.get_by_label("By post").check()
    page.get_by_label("Given on").fill(today.isoformat())
    page.get_by_role("button", name="Record copy given").click()
    expect(page.locator("[data-copy-given]")).to_contain_text("By post")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("[data-consent-state]").first).to_have_text("Active")
    record.refresh_from_db()
    assert record.verified_by == officer2

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download signed-consent.pdf")).click()
    assert Path(download_info.value.path()).read_bytes() == PDF_BYTES

    page.get_by_label("Revocation received via").select_option("letter")
    page.get_by_label("Reason (if the person gave one)").fill("Does not want to be shown any more")
    # Irreversible: the browser does not send the revocation until "I understand …" is ticked.
    understood = page.get_by_label("I understand that a revocation cannot be undone")
    page.get_by_role("button", name="Revoke consent").click()
    assert understood.evaluate("box => box.validity.valueMissing") is True
    expect(page.locator("[data-consent-state]").first).not_to_have_text("Revoked")
    understood.check()
    page.get_by_role("button", name="Revoke consent").click()
    expect(page.locator("[data-consent-state]").first).to_have_text("Revoked")
    expect(page.get_by_text("Does not want to be shown any more")).to_be_visible()
    record.refresh_from_db()
    assert record.state == ConsentState.REVOKED and record.revoked_by == officer2
