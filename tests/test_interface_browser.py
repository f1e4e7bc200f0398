"""Every page of the demo, as the people who use it see it: accessible, fitting the screen, in their language.

Over the demo data (``seed_demo``), each role's demo user's pages are found by following links (one
page of each shape: /posts/N/edit/ once, not per post), then opened in Chromium on a 1366 px screen
and on a 390 px phone. On each: axe-core (WCAG 2.1 A/AA and best practices) finds no violation and
the page does not scroll sideways. The main pages are then opened in German, Turkish and Japanese at
both widths: no overflow, no violation, and no text left in English where the catalogue has the
translation. Screenshots of the main pages are written to var/screenshots/<language>/<width>/ for
people to look at (CI keeps them as artifacts).
"""

import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from people.models import User
from tests.a11y import axe_violations, overflow, untranslated
from tests.demo_data import demo_seed_committed, state_cache_as_in_production
from tests.test_page_sweep import links_of, same_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.interface,
    pytest.mark.once,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ROLES = ("editor", "medical", "legal", "comms", "consent", "governance", "viewer")
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# Pages per role found by following links, and admin pages for governance: enough for every shape.
MAX_PAGES = 120
MAX_ADMIN_PAGES = 14
NEVER = ("/accounts/logout/", "/static/", "/i18n/", "/media/", "/me/notices/read")
NOT_HTML = re.compile(r"(\.csv|\.json|/document/|/errors\.csv|/template\.csv|/export/)$")

# The pages people live in, per role (the first URL of the crawl that matches), in every language.
MAIN_PAGES = {
    "home": ("editor", r"/"),
    "calendar_month": ("editor", r"/calendar/"),
    "calendar_week": ("editor", r"/calendar/\?.*view=week.*"),
    "calendar_list": ("editor", r"/calendar/\?.*view=list.*"),
    "campaigns": ("editor", r"/campaigns/"),
    "campaign": ("editor", r"/campaigns/\d+/"),
    "post": ("editor", r"/posts/\d+/"),
    "editor": ("editor", r"/posts/\d+/edit/"),
    "new_post": ("editor", r"/posts/new/.*"),
    "my_posts": ("editor", r"/reviews/mine/"),
    "import": ("editor", r"/plans/import/"),
    "publishing": ("comms", r"/publishing/"),
    "inbox": ("medical", r"/reviews/"),
    "review": ("medical", r"/reviews/posts/\d+/"),
    "consent_registry": ("consent", r"/consent/"),
    "consent_person": ("consent", r"/consent/people/\d+/"),
    "consent_record": ("consent", r"/consent/\d+/"),
    "admin_audit": ("governance", r"/admin/audit/auditevent/"),
}

# Evidence on demand (issue 16): pages the crawl must reach (checked at both widths with the rest).
EVIDENCE_PAGES = {
    "archives": ("governance", r"/evidence/archives/"),
    "archive": ("governance", r"/evidence/archives/\d+/"),
    "purge_reports": ("governance", r"/evidence/purges/"),
    "purge_report": ("governance", r"/evidence/purges/\d+/"),
    "consent_print": ("consent", r"/consent/\d+/print/"),
}

# Long lists (issue 17): a second page, the list a month cell's "+N more" opens, the no-JS move page.
LIST_PAGES = {
    "calendar_list_page_2": ("editor", r"/calendar/\?(?=.*\bview=list\b)(?=.*\bpage=2\b).*"),
    "campaign_page_2": ("editor", r"/campaigns/\d+/\?page=2"),
    "move_page": ("editor", r"/posts/\d+/move/form/\?next=.+"),
}


def shape_of(url: str) -> str:
    """The URL with its numbers as N and its query sorted: /calendar/?view=week is another page than
    ?view=list, but ?date=2026-11-01 is the same as ?date=2026-12-01."""
    parts = urlsplit(url)
    query = sorted(pair for pair in parts.query.split("&") if pair)
    return re.sub(r"\d+", "N", parts.path + ("?" + "&".join(query) if query else ""))


def pages_of(client: Client, *, staff: bool) -> list[str]:
    """Return one URL of each page shape the client reaches by following links from "/"."""
    start = ["/", "/admin/"] if staff else ["/"]
    queue: deque[str] = deque(start)
    seen: set[str] = set(start)
    shapes: dict[str, str] = {}
    admin_pages = 0
    while queue and len(shapes) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code in {301, 302, 303, 307, 308}:
            hrefs = [response["Location"]]
        elif response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            hrefs = links_of(response.content.decode())
        else:
            continue
        if response.status_code != 200:
            for href in hrefs:
                target = same_site(url, href)
                if target is not None and target not in seen:
                    seen.add(target)
                    queue.append(target)
            continue
        if url.startswith("/admin/"):
            if admin_pages >= MAX_ADMIN_PAGES:
                continue
            admin_pages += 1
        shapes.setdefault(shape_of(url), url)
        for href in hrefs:
            target = same_site(url, href)
            if (
                target is None
                or target in seen
                or target.startswith(NEVER)
                or NOT_HTML.search(target.split("?")[0])
                or shape_of(target) in shapes
            ):
                continue
            seen.add(target)
            queue.append(target)
    return list(shapes.values())


@pytest.fixture
def demo(transactional_db: None, settings: Any, tmp_path: Path) -> Iterator[dict[str, list[str]]]:
    """Seed the demo; return each role's pages (the navigation's counts kept as in production,
    here and on the live server the browser asks)."""
    with state_cache_as_in_production():
        demo_seed_committed(settings, tmp_path)
        pages = {}
        for name in ROLES:
            client = Client()
            client.force_login(User.objects.get(username=name))
            pages[name] = pages_of(client, staff=User.objects.get(username=name).is_staff)
        yield pages


def signed_in(browser: Any, live_server: Any, username: str, width: str) -> Any:
    """A browser context at ``width`` with ``username`` signed in (a session made by the test client)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    screen_width, screen_height = WIDTHS[width]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": screen_width, "height": screen_height},
        is_mobile=width == "phone",
        has_touch=width == "phone",
        locale="en-GB",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def typed() -> frozenset[str]:
    """The texts people typed that pages show as typed: names of users, campaigns, accounts and people,
    post titles."""
    from consent.models import Subject
    from posts.models import Account, Campaign, Post

    return frozenset(
        [
            *User.objects.values_list("username", flat=True),
            *Campaign.objects.values_list("name", flat=True),
            *Account.objects.values_list("name", flat=True),
            *Post.objects.values_list("title", flat=True),
            *Subject.objects.values_list("display_name", flat=True),
        ]
    )


def check(page: Any, url: str, *, language: str, screenshot: Path | None = None) -> list[str]:
    """Open ``url``; return what is wrong with it (accessibility, overflow, untranslated text)."""
    response = page.goto(url)
    problems = []
    if response is None or response.status != 200:
        return [f"{url}: answered {response.status if response else 'nothing'}"]
    problems += [f"{url} [{language}] axe: {line}" for line in axe_violations(page)]
    problems += [f"{url} [{language}] overflow: {line}" for line in overflow(page)]
    problems += [f"{url} [{language}] untranslated: {text!r}" for text in untranslated(page, language, data=typed())]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    return problems


def every_page(demo: dict[str, list[str]], browser: Any, live_server: Any, width: str) -> tuple[int, list[str]]:
    """Check each page shape of every role at ``width`` in English; return how many and the problems."""
    problems: list[str] = []
    checked: set[str] = set()
    for username, urls in demo.items():
        context = signed_in(browser, live_server, username, width)
        try:
            page = context.new_page()
            for url in urls:
                # A page two roles share is checked once (as the first role that reached it).
                if shape_of(url) in checked:
                    continue
                checked.add(shape_of(url))
                problems += [f"{username} {width} {line}" for line in check(page, url, language="en")]
        finally:
            context.close()
    return len(checked), problems


def public_pages() -> list[str]:
    """The online withdrawal's pages, which no link of the app leads to: the start page a printed form's
    link opens, the page after the request, and a mailed link's confirmation (of a consent in force)
    and its answer when the consent is already withdrawn (the demo's consent withdrawn online)."""
    from consent.models import ConsentRecord
    from consent.withdrawal_check import WithdrawalLink, contact_digest, link_token

    def confirm(record: ConsentRecord) -> str:
        token = link_token(WithdrawalLink(reference=record.form_reference, contact=contact_digest("a@example.org")))
        return f"/withdraw/confirm/{token}/"

    in_force = ConsentRecord.objects.filter(revoked_at__isnull=True, verified_at__isnull=False).order_by("pk").first()
    withdrawn = ConsentRecord.objects.get(revocation_received_via="online")
    assert in_force is not None
    return ["/withdraw/", "/withdraw/sent/", confirm(in_force), confirm(withdrawn)]


def every_public_page(browser: Any, live_server: Any, width: str) -> list[str]:
    """Check the public pages at ``width`` in English, signed out; return the problems."""
    screen_width, screen_height = WIDTHS[width]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": screen_width, "height": screen_height},
        is_mobile=width == "phone",
        has_touch=width == "phone",
        locale="en-GB",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(15_000)
    problems: list[str] = []
    try:
        page = context.new_page()
        for url in public_pages():
            problems += [f"signed out {width} {line}" for line in check(page, url, language="en")]
    finally:
        context.close()
    return problems


def main_pages(
    demo: dict[str, list[str]], table: dict[str, tuple[str, str]] = MAIN_PAGES
) -> dict[str, tuple[str, str]]:
    found = {}
    for name, (username, pattern) in table.items():
        url = next((url for url in demo[username] if re.fullmatch(pattern, url)), None)
        assert url is not None, f"no {name} page ({pattern}) reached by {username}: {demo[username]}"
        found[name] = (username, url)
    return found


def in_language(demo: dict[str, list[str]], browser: Any, live_server: Any, language: str, width: str) -> list[str]:
    """Check the main pages in ``language`` at ``width``, with screenshots; return the problems."""
    pages = main_pages(demo)
    User.objects.filter(username__in=ROLES).update(language=language)
    problems: list[str] = []
    for username in sorted({username for username, _url in pages.values()}):
        context = signed_in(browser, live_server, username, width)
        try:
            page = context.new_page()
            for name, (owner, url) in pages.items():
                if owner != username:
                    continue
                shot = SCREENSHOTS / language / width / f"{name}.png"
                problems += [f"{width} {line}" for line in check(page, url, language=language, screenshot=shot)]
        finally:
            context.close()
    return problems


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_is_accessible_fits_the_screen_and_speaks_the_readers_language(
    width: str, demo: dict[str, list[str]], browser: Any, live_server: Any
) -> None:
    # One test per width, not per page or language: the demo is seeded and crawled once per test (it
    # takes a while), and the two widths run side by side on the two test workers.
    main_pages(demo)  # each main page was reached before the long checks start
    main_pages(demo, EVIDENCE_PAGES)
    main_pages(demo, LIST_PAGES)
    problems: list[str] = []
    count, found = every_page(demo, browser, live_server, width)
    assert count >= 40, f"only {count} pages reached at {width}"
    problems += found
    problems += every_public_page(browser, live_server, width)
    for language, _name in settings.LANGUAGES:
        problems += in_language(demo, browser, live_server, language, width)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
