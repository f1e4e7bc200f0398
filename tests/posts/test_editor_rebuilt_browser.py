"""The rebuilt editor in a real browser: slots, the consent picker, and an image kept across an error."""

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from posts.models import FeaturedPerson, Post
from tests.conftest import IMAGES, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BODY = (
    "Herzwoche im Klinikum Nord: Vorträge am 17.03.2027 um 18:00 Uhr. "
    "Anmeldung unter 040 1234-5678 – für Groß und Klein."
)
# The editor's height at 1366 px with four accounts and one consent, before issue 15 (measured).
HEIGHT_BEFORE = 3231


def test_editor_writes_a_patient_story_with_an_image_kept_across_an_error(
    page: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> None:
    for platform in ("facebook", "linkedin", "x"):
        account_factory(platform, handle=f"@klinikum_nord_{platform}")
    account_factory("instagram", name="Klinikum Nord", handle="@klinikum_nord")
    anna = subject_factory(display_name="Anna Müller", reference="FALL-2027-0042")
    consent = record_factory(anna)
    record_factory(subject_factory(display_name="Jörg Weiß"), all_platforms=False, platforms=["facebook"])
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, "editor")
    page.goto(reverse("posts:post_create") + f"?campaign={campaign.pk}")

    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"editor height at 1366 px: {HEIGHT_BEFORE} px before, {height} px now")
    assert height < HEIGHT_BEFORE * 0.7
    expect(page.get_by_text("@klinikum_nord", exact=True)).to_be_visible()
    expect(page.get_by_label("Reference of person 2")).to_be_hidden()
    expect(page.get_by_label("Image 2", exact=True)).to_be_hidden()

    page.get_by_label("Internal title").fill("Herzwoche: Annas Geschichte")
    page.get_by_label("Text", exact=True).fill(BODY)
    page.get_by_role("checkbox", name=re.compile("Klinikum Nord")).check()
    page.get_by_label("Date", exact=True).fill("2027-03-17")
    page.get_by_label("Image 1", exact=True).set_input_files(IMAGES / "square_1080_rgba.png")
    page.get_by_label("Alt text for image 1").fill("Anna Müller mit ihrem Arzt")
    page.get_by_role("button", name="Add an image").click()
    expect(page.get_by_label("Image 2", exact=True)).to_be_visible()

    # The consent picker lists nothing of the registry until the editor searches it (by name or
    # reference, as they type); it finds only consents valid for Instagram.
    picker = page.get_by_label("Consent of person 1")
    search = page.get_by_label("Search consents of person 1")
    expect(picker.locator("option", has_text="Anna Müller")).to_have_count(0)
    expect(page.get_by_role("button", name="Search", exact=True).first).to_be_hidden()
    search.fill("Weiß")
    expect(page.locator("#consent_status_0")).to_have_text("No usable consent found.")
    expect(picker.locator("option", has_text="Jörg Weiß")).to_have_count(0)
    search.fill("0042")
    expect(picker.locator("option", has_text="Anna Müller")).to_have_count(1)
    search.fill("")
    search.press_sequentially("mül", delay=50)
    expect(page.locator("#consent_status_0")).to_have_text("Consents found: 1.")
    expect(picker.locator("option", has_text="Anna Müller")).to_have_count(1)
    search.press("ArrowDown")
    expect(picker).to_be_focused()
    picker.select_option(str(consent.pk))
    expect(page.get_by_label("Reference of person 1")).to_have_value("FALL-2027-0042")
    page.get_by_role("group", name="What the post shows of person 1").get_by_label("Photo").check()
    page.get_by_role("button", name="Save draft").click()

    # Refused (no time): the image is kept, shown, and the person and consent are still chosen.
    expect(page.get_by_text("Give a time for this date.")).to_be_visible()
    kept = page.locator("[data-kept]")
    expect(kept).to_contain_text("kept")
    expect(kept).to_contain_text("square_1080_rgba.png")
    assert kept.locator("img").evaluate("img => img.naturalWidth") > 0
    expect(page.get_by_label("Consent of person 1")).to_have_value(str(consent.pk))
    assert not Post.objects.exists()

    page.get_by_label("Time", exact=True).fill("18:00")
    page.get_by_role("button", name="Save draft").click()

    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    post = Post.objects.get()
    assert post.body == BODY
    media = post.media.get()
    assert (media.width, media.alt_text) == (1080, "Anna Müller mit ihrem Arzt")
    person = FeaturedPerson.objects.get(post=post)
    assert (person.subject, person.consent, person.media_kinds) == (anna, consent, ["photo"])
    expect(page.get_by_text("The draft was saved.")).to_be_visible()
