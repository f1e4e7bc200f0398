"""In a real browser: an editor types a link into a Facebook post and the preview shows the page's card."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from posts.linkcards import linkcard_fetch, url_hash
from posts.models import LinkCard, LinkCardStatus
from tests.conftest import IMAGES, browser_login
from tests.posts.linkserver import LinkServer, Page, link_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAGE = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>Klinikum Nord</title>
<meta property="og:title" content="Tag der offenen Tür &ndash; Kardiologie &amp; Herzchirurgie">
<meta property="og:site_name" content="Klinikum Nord">
<meta property="og:image" content="/bilder/tag.webp">
</head><body></body></html>"""


@pytest.fixture
def server(settings: Any) -> Iterator[LinkServer]:
    settings.ROUNDS_LINKCARDS_FETCH = True
    with link_server() as running:
        yield running


# The image's width once it has loaded: visible comes first, the bytes may still be on their way.
LOADED_WIDTH = (
    "img => img.complete ? img.naturalWidth"
    " : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth), {once: true}))"
)


def test_editor_types_a_link_and_the_facebook_preview_shows_the_pages_card(
    page: Any, server: LinkServer, editor: Any, campaign: Any, account_factory: Any
) -> None:
    server.pages["/tag-der-offenen-tuer"] = Page(PAGE.encode("utf-8"))
    image = (IMAGES / "landscape_1200x628.webp").read_bytes()
    server.pages["/bilder/tag.webp"] = Page(image, content_type="image/webp")
    account_factory("facebook", name="Klinikum Nord", handle="klinikum.nord")
    browser_login(page, "editor")
    page.goto(reverse("posts:post_create") + f"?campaign={campaign.pk}")

    page.get_by_role("checkbox", name=re.compile("Klinikum Nord")).check()
    page.get_by_label("Text", exact=True).fill(
        f"Am Samstag öffnen Kardiologie und Herzchirurgie ihre Türen. Alle Termine: {server.url}/tag-der-offenen-tuer"
    )
    page.get_by_role("button", name="Preview").click()

    card = page.locator('#editor-findings [data-preview][data-platform="facebook"] [data-pv-card]')
    expect(card.locator(".pv-card-title")).to_have_text("Tag der offenen Tür – Kardiologie & Herzchirurgie")
    expect(card.locator(".pv-card-domain")).to_have_text("127.0.0.1")
    shown = card.locator("img.pv-card-img")
    expect(shown).to_be_visible()
    assert shown.evaluate(LOADED_WIDTH) == 400  # the stored thumbnail
    expect(card.locator(".pv-card-status")).to_have_count(0)

    # Fetched once by the background task, not once per keystroke.
    assert server.paths() == ["/tag-der-offenen-tuer", "/bilder/tag.webp"]
    assert LinkCard.objects.get().status == LinkCardStatus.OK


def test_a_card_fetched_while_the_editor_waits_replaces_fetching_without_typing(
    page: Any, server: LinkServer, editor: Any, campaign: Any, account_factory: Any
) -> None:
    url = f"{server.url}/spaeter"
    server.pages["/spaeter"] = Page("<title>Sprechstunde für Angehörige</title>".encode())
    # A worker has the fetch queued but has not run it yet (as with a real queue).
    LinkCard.objects.create(url_hash=url_hash(url), url=url, requested_at=timezone.now())
    account_factory("linkedin", name="Klinikum Nord LinkedIn", handle="klinikum-nord")
    browser_login(page, "editor")
    page.goto(reverse("posts:post_create") + f"?campaign={campaign.pk}")
    page.get_by_role("checkbox", name=re.compile("Klinikum Nord LinkedIn")).check()
    page.get_by_label("Text", exact=True).fill(f"Neu ab März: {url}")
    page.get_by_role("button", name="Preview").click()

    card = page.locator('#editor-findings [data-preview][data-platform="linkedin"] [data-pv-card]')
    expect(card.locator(".pv-card-status")).to_have_text("fetching…")
    expect(card.locator(".pv-card-title")).to_have_text("127.0.0.1")
    assert server.received == []

    linkcard_fetch(card=LinkCard.objects.get())

    expect(card.locator(".pv-card-title")).to_have_text("Sprechstunde für Angehörige", timeout=10_000)
    expect(card.locator(".pv-card-status")).to_have_count(0)
