"""In a real browser on a phone: the Instagram preview of an unsaved post, and patient data found while typing."""

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from audit.models import AuditEvent
from posts.models import Post
from tests.conftest import IMAGES, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BODY = (
    "Herzwoche im Klinikum Nord 💓 Frau Berger hat nach ihrer Bypass-Operation wieder mit dem Laufen "
    "begonnen – heute schafft sie fünf Kilometer. Danke an das ganze Team der Kardiologie!"
)


def test_editor_sees_the_instagram_preview_and_patient_data_while_typing_on_a_phone(
    page: Any, editor: Any, campaign: Any, account_factory: Any, subject_factory: Any, record_factory: Any
) -> None:
    account_factory("instagram", name="Klinikum Nord", handle="@klinikum_nord")
    berger = subject_factory(display_name="Erika Berger", reference="CASE-2041")
    consent = record_factory(berger)
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "editor")
    page.goto(reverse("posts:post_create") + f"?campaign={campaign.pk}")
    findings = page.locator("#editor-findings")

    page.get_by_label("Internal title").fill("Herzwoche: Frau Berger läuft wieder")
    page.get_by_label("Text", exact=True).fill(BODY)
    page.get_by_label("Image 1", exact=True).set_input_files(IMAGES / "landscape_1200x628.webp")
    page.get_by_label("Alt text for image 1").fill("Erika Berger in running shoes in the clinic park")
    page.get_by_label("Reference of person 1").fill("CASE-2041")
    page.get_by_label("Consent of person 1").select_option(str(consent.pk))
    page.get_by_role("group", name="What the post shows of person 1").get_by_label("Photo").check()
    page.get_by_role("group", name="What the post shows of person 1").get_by_label("Name").check()
    page.get_by_role("checkbox", name=re.compile("Klinikum Nord")).check()

    card = findings.locator('[data-preview][data-platform="instagram"]')
    expect(card).to_have_count(1)
    page.get_by_role("button", name="Preview").click()
    expect(card).to_be_visible()
    # The head names the account once, with one "@".
    expect(card.locator(".pv-head")).to_contain_text("Klinikum Nord @klinikum_nord")
    assert "@@" not in card.inner_text()
    # The caption: cut near 125 characters, then "… more"; the rest is hidden.
    caption = card.locator("[data-pv-text]")
    expect(caption).to_contain_text("Herzwoche im Klinikum Nord 💓")
    expect(caption.locator(".pv-more")).to_have_text("… more")
    expect(caption).not_to_contain_text("Kardiologie")
    # The chosen, unsent landscape image is shown cropped square, image first.
    image = card.locator(".pv-media img")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    expect(image).to_have_attribute("alt", "Erika Berger in running shoes in the clinic park")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1200
    box = card.locator(".pv-media").bounding_box()
    assert abs(box["width"] - box["height"]) < 1.5
    assert card.bounding_box()["width"] <= 390
    # Featured with a valid consent: no consent finding, and her name is no patient-data warning.
    # Her operation is: the post shows her photo and name, not her condition.
    post_wide = findings.locator("[data-post-findings]")
    expect(post_wide).to_have_count(1)
    expect(post_wide).to_contain_text("The text ties a diagnosis or treatment to a person (Bypass-Operation).")
    expect(post_wide).not_to_contain_text("Berger")

    # A phone number and a birth date typed in: the warnings appear without saving.
    events = AuditEvent.objects.count()
    page.get_by_label("Text", exact=True).press_sequentially(" Rückruf: 0170 1234567, geb. am 12.05.1961.", delay=5)
    post_findings = findings.locator("[data-post-findings]")
    expect(post_findings).to_contain_text("The text contains what looks like a phone number (0170 1234567).")
    expect(post_findings).to_contain_text("The text contains what may be a date of birth (12.05.1961).")
    assert Post.objects.count() == 0
    assert AuditEvent.objects.count() == events

    # Saved, the post's page shows the same card from the server: the stored thumbnail, square.
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    saved = page.locator('[data-preview][data-platform="instagram"]')
    expect(saved.locator(".pv-media")).to_have_class(re.compile(r"\bpv-r-1x1\b"))
    expect(saved.locator(".pv-more")).to_have_text("… more")
    assert saved.locator(".pv-media img").evaluate("img => img.complete && img.naturalWidth") > 0
