"""Link cards: a linked page's Open Graph card, fetched safely in the background, shown in the previews."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from core import netsafe
from posts import linkcards
from posts.content import content_hash, content_snapshot
from posts.linkcards import HTML_MAX_BYTES, USER_AGENT, http_get, linkcard_request, page_parse
from posts.models import LinkCard, LinkCardStatus
from tests.conftest import IMAGES
from tests.posts.linkserver import LinkServer, Page, link_server

pytestmark = pytest.mark.django_db

WEBP = (IMAGES / "landscape_1200x628.webp").read_bytes()

HERZWOCHE = """<!doctype html>
<html lang="de"><head>
<meta charset="utf-8">
<title>Klinikum Nord – Startseite</title>
<meta property="og:title" content="Herzwoche: Frau Berger läuft wieder &ndash; &quot;fünf Kilometer&quot; &amp; mehr">
<meta property="og:description" content="Die Kardiologie lädt zur Vorsorge ein: Blutdruck, EKG &amp; Beratung.">
<meta property="og:site_name" content="Klinikum Nord">
<meta property="og:image" content="../bilder/herzwoche.webp">
</head><body><p>Ärztinnen und Pfleger</p></body></html>
"""


@pytest.fixture(autouse=True)
def _fetching_on(settings: Any) -> None:
    settings.ROUNDS_LINKCARDS_FETCH = True


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with link_server() as running:
        yield running


def fetch(url: str, capture: Any) -> LinkCard:
    """Ask for the card and run the queued task as the worker would after commit; return the card."""
    with capture(execute=True):
        linkcard_request(url=url)
    return LinkCard.objects.get(url=url)


def test_open_graph_tags_are_read_with_umlauts_entities_and_a_relative_image(
    server: LinkServer, django_capture_on_commit_callbacks: Any
) -> None:
    server.pages["/aktuelles/herzwoche"] = Page(HERZWOCHE.encode("utf-8"))
    server.pages["/bilder/herzwoche.webp"] = Page(WEBP, content_type="image/webp")

    card = fetch(server.url + "/aktuelles/herzwoche", django_capture_on_commit_callbacks)

    assert card.status == LinkCardStatus.OK
    assert card.title == 'Herzwoche: Frau Berger läuft wieder – "fünf Kilometer" & mehr'
    assert card.description == "Die Kardiologie lädt zur Vorsorge ein: Blutdruck, EKG & Beratung."
    assert card.site_name == "Klinikum Nord"
    assert card.final_url == server.url + "/aktuelles/herzwoche"
    assert card.fetched_at is not None
    # The relative og:image was resolved against the page and stored through the image pipeline.
    assert server.paths() == ["/aktuelles/herzwoche", "/bilder/herzwoche.webp"]
    assert (card.image_width, card.image_height) == (1200, 628)
    stored = Path(card.image.path).read_bytes()
    assert stored.startswith(b"\xff\xd8\xff")  # the re-encoded JPEG thumbnail, not the page's bytes
    assert len(stored) < len(WEBP) * 2
    # A clear User-Agent, and nothing that could identify a user or an account.
    for request in server.received:
        assert request.headers["User-Agent"] == USER_AGENT
        assert not {"Cookie", "Authorization", "Proxy-Authorization"} & set(request.headers)


def test_twitter_tags_and_the_title_element_stand_in_for_missing_open_graph_tags() -> None:
    twitter = page_parse(
        '<meta name="twitter:title" content="Grippeimpfung ab Montag"><meta name="twitter:image" content="/i.png">'
        "<title>Ignored</title>",
        base_url="https://www.klinikum-nord.example/news/grippe",
    )
    assert twitter.title == "Grippeimpfung ab Montag"
    assert twitter.image_url == "https://www.klinikum-nord.example/i.png"

    plain = page_parse(
        "<html><head><title>\n  Notaufnahme &amp; Ambulanz  \n</title>"
        '<meta name="description" content="Tag und Nacht">',
        base_url="https://klinikum-nord.example/",
    )
    assert (plain.title, plain.description, plain.image_url) == ("Notaufnahme & Ambulanz", "Tag und Nacht", "")


def test_a_latin_1_page_is_read_in_its_own_charset(server: LinkServer, django_capture_on_commit_callbacks: Any) -> None:
    server.pages["/alt"] = Page(
        "<title>Öffnungszeiten der Geburtshilfe</title>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
    )
    card = fetch(server.url + "/alt", django_capture_on_commit_callbacks)
    assert card.title == "Öffnungszeiten der Geburtshilfe"


def test_html_past_512_kb_is_not_read(server: LinkServer, django_capture_on_commit_callbacks: Any) -> None:
    padding = b"<p>" + b"x" * (600 * 1024) + b"</p>"
    server.pages["/lang"] = Page(
        b"<html><head><title>Fr\xc3\xbch</title></head><body>"
        + padding
        + b'<meta property="og:title" content="Sp\xc3\xa4t"></body></html>'
    )

    answer = http_get(server.url + "/lang", accept="text/html", media_types=None, max_bytes=HTML_MAX_BYTES)
    assert answer.cut
    assert len(answer.body) == HTML_MAX_BYTES

    card = fetch(server.url + "/lang", django_capture_on_commit_callbacks)
    assert card.status == LinkCardStatus.OK
    assert card.title == "Früh"  # the og:title after the cut was never seen


def test_a_link_to_something_other_than_html_gets_no_card(
    server: LinkServer, django_capture_on_commit_callbacks: Any
) -> None:
    server.pages["/flyer.pdf"] = Page(b"%PDF-1.4\n", content_type="application/pdf")
    card = fetch(server.url + "/flyer.pdf", django_capture_on_commit_callbacks)
    assert card.status == LinkCardStatus.FAILED
    assert card.reason == "not HTML but application/pdf"
    assert card.title == ""


def test_redirects_are_followed_at_most_three_times(
    server: LinkServer, django_capture_on_commit_callbacks: Any
) -> None:
    server.pages["/kurz"] = Page(status=301, headers={"Location": "/lang-1"})
    server.pages["/lang-1"] = Page(status=302, headers={"Location": server.url + "/lang-2"})
    server.pages["/lang-2"] = Page(status=307, headers={"Location": "/ziel"})
    server.pages["/ziel"] = Page(b"<title>Das Ziel</title>")
    card = fetch(server.url + "/kurz", django_capture_on_commit_callbacks)
    assert (card.status, card.title, card.final_url) == (LinkCardStatus.OK, "Das Ziel", server.url + "/ziel")

    server.pages["/noch-einer"] = Page(status=301, headers={"Location": "/kurz"})
    card = fetch(server.url + "/noch-einer", django_capture_on_commit_callbacks)
    assert (card.status, card.reason) == (LinkCardStatus.FAILED, "more than 3 redirects")
    assert card.title == ""


def test_a_redirect_to_a_private_address_is_refused_when_private_addresses_are_not_allowed(
    server: LinkServer, django_capture_on_commit_callbacks: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ROUNDS_ALLOW_PRIVATE_URLS = False
    public = netsafe.address_public
    # The outside world: the test server on 127.0.0.1 plays a public web site.
    monkeypatch.setattr(netsafe, "address_public", lambda address: address == "127.0.0.1" or public(address))
    server.pages["/weiter"] = Page(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    card = fetch(server.url + "/weiter", django_capture_on_commit_callbacks)

    assert card.status == LinkCardStatus.FAILED
    assert "169.254.169.254" in card.reason
    assert "not a public address" in card.reason
    monkeypatch.setattr(netsafe, "address_public", public)
    # Without the stand-in, the loopback page itself is refused before any request is sent.
    before = len(server.received)
    with pytest.raises(linkcards.FetchRefused, match=r"127\.0\.0\.1"):
        http_get(server.url + "/weiter", accept="text/html", media_types=None, max_bytes=100)
    assert len(server.received) == before


def test_a_page_that_does_not_answer_in_time_fails_without_holding_the_worker(
    server: LinkServer, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkcards, "TOTAL_TIMEOUT", 0.5)
    server.pages["/langsam"] = Page("<title>Zu spät</title>".encode(), delay=3.0)
    started = time.monotonic()
    card = fetch(server.url + "/langsam", django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 2.0
    assert (card.status, card.reason) == (LinkCardStatus.FAILED, "timed out")


@pytest.mark.parametrize(
    ("image", "content_type"),
    [
        ((IMAGES / "not_an_image.jpg").read_bytes(), "image/jpeg"),
        ((IMAGES / "truncated.jpg").read_bytes(), "image/jpeg"),
        (b"\xff\xd8\xff" + b"\x00" * (linkcards.IMAGE_MAX_BYTES + 10), "image/jpeg"),
    ],
    ids=["not-an-image", "truncated", "over-5-mb"],
)
def test_a_bad_image_leaves_a_card_without_image(
    image: bytes, content_type: str, server: LinkServer, django_capture_on_commit_callbacks: Any
) -> None:
    server.pages["/seite"] = Page(
        b'<meta property="og:title" content="Tag der offenen T\xc3\xbcr"><meta property="og:image" content="/bild">'
    )
    server.pages["/bild"] = Page(image, content_type=content_type)
    card = fetch(server.url + "/seite", django_capture_on_commit_callbacks)
    assert card.status == LinkCardStatus.OK
    assert card.title == "Tag der offenen Tür"
    assert not card.image
    assert card.reason.startswith("image: ")


def test_a_card_is_fetched_once_while_fresh_and_editors_are_rate_limited(
    server: LinkServer, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    server.pages["/a"] = Page(b"<title>A</title>")
    fetch(server.url + "/a", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert not linkcard_request(url=server.url + "/a", user_id=1)
        assert not linkcard_request(url=server.url + "/a#anker")  # the same page
    assert callbacks == []
    assert server.paths() == ["/a"]

    settings.ROUNDS_LINKCARD_RATE = 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert linkcard_request(url=server.url + "/b", user_id=7)
        assert not linkcard_request(url=server.url + "/b", user_id=7)  # already queued: not counted again
        assert linkcard_request(url=server.url + "/c", user_id=7)
        assert not linkcard_request(url=server.url + "/d", user_id=7)  # over the editor's allowance
        assert linkcard_request(url=server.url + "/d", user_id=8)
    assert len(callbacks) == 3
    urls = {server.url + path for path in ("/a", "/b", "/c", "/d")}
    assert set(LinkCard.objects.values_list("url", flat=True)) == urls


def test_links_that_are_not_web_addresses_or_carry_credentials_get_no_card() -> None:
    for url in ("javascript:alert(1)", "ftp://klinikum.example/x", "https://user:pw@klinikum.example/", "x" * 3000):
        assert not linkcard_request(url=url)
    assert not LinkCard.objects.exists()


def test_with_fetching_off_no_card_is_asked_for(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.ROUNDS_LINKCARDS_FETCH = False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert not linkcard_request(url="https://www.klinikum-nord.example/herzwoche")
    assert callbacks == []
    assert not LinkCard.objects.exists()


def test_the_live_preview_only_queues_the_fetch(
    server: LinkServer,
    client: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    facebook = account_factory("facebook", name="Klinikum Nord")
    server.pages["/tag"] = Page(b"<title>Tag der offenen T\xc3\xbcr</title>")
    client.force_login(editor)
    data = {"campaign": campaign.pk, "body": f"Kommen Sie vorbei: {server.url}/tag.", "targets": [facebook.pk]}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        html = client.post(reverse("posts:findings"), data).text
    assert server.received == []  # nothing fetched while answering
    assert len(callbacks) == 1
    assert "fetching…" in html
    assert "data-pv-card-pending" in html

    callbacks[0]()
    html = client.post(reverse("posts:findings"), data).text
    assert "Tag der offenen Tür" in html
    assert "fetching…" not in html
    assert server.paths() == ["/tag"]


def test_the_post_page_shows_the_cards_title_and_image_after_the_task_ran(
    server: LinkServer,
    client: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    server.pages["/herzwoche"] = Page(HERZWOCHE.encode("utf-8"))
    server.pages["/bilder/herzwoche.webp"] = Page(WEBP, content_type="image/webp")
    facebook, linkedin = account_factory("facebook"), account_factory("linkedin")
    body = f"Herzwoche im Klinikum Nord 💓 Alle Termine: {server.url}/herzwoche"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post = post_factory(editor, campaign, targets=[facebook, linkedin], body=body)
    client.force_login(editor)
    detail = reverse("posts:post_detail", args=[post.pk])
    html = client.get(detail).text
    assert html.count("fetching…") == 2  # the card is queued, not fetched yet
    hash_before = content_hash(content_snapshot(post))

    for callback in callbacks:
        callback()

    card = LinkCard.objects.get()
    html = client.get(detail).text
    assert html.count("Herzwoche: Frau Berger läuft wieder – &quot;fünf Kilometer&quot; &amp; mehr") == 2
    image_url = reverse("posts:linkcard_image", args=[card.pk])
    assert html.count(f'<img class="pv-card-img" src="{image_url}" alt="">') == 2
    assert "fetching…" not in html
    image = client.get(image_url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content).startswith(b"\xff\xd8\xff")
    # The card is not content: what reviewers approve (the content hash) did not change.
    post.refresh_from_db()
    assert content_hash(content_snapshot(post)) == hash_before
