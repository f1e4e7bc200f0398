"""Rounds on a phone (issue 15, point 1): the calendar as an agenda, the folding menu, pages that fit.

At 390 px the month calendar reads as an agenda of this week's posts with their thumbnails, and
the "Menu" button opens the navigation; at 360 and 390 px the main pages, as the roles that use
them, neither scroll sideways nor offer tap targets under 44 px; at 1366 px the German top bar
keeps to one line.
"""

import datetime as dt
import importlib
import io
import zoneinfo
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import ReviewChain
from approvals.services import round_submit
from people import roles
from posts.media import image_process
from posts.models import Post
from posts.services import NewMedia, TargetSpec, post_create
from tests.conftest import IMAGES, browser_login, csp_guard, make_user
from tests.phone_layout import overflow_problems, phone_context, small_tap_targets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # the users' zone in these tests
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenverleihung"
LONG_URL = (
    "https://www.klinikum-nord.example/aktuelles/2026/grippeimpfung-fuer-beschaeftigte-und-besucher?utm_source=rounds"
)


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


def _this_week() -> list[dt.date]:
    today = timezone.localdate(timezone=BERLIN)
    monday = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(days=n) for n in range(7)]


def _post(editor: Any, campaign: Any, day: dt.date, at: dt.time, *, image: str = "", **data: Any) -> Post:
    accounts = data.pop("accounts", [])
    media = []
    if image:
        upload = io.BytesIO((IMAGES / image).read_bytes())
        media = [NewMedia(image=image_process(upload=upload), alt_text="Pflegerin impft im Foyer")]
    data.setdefault("body", "Grippeimpfung im Foyer, Fragen: 040 1234-0 💉")
    return post_create(
        actor=editor,
        campaign=campaign,
        data=data,
        targets=[TargetSpec(account=account) for account in accounts],
        media=media,
        scheduled_at=dt.datetime.combine(day, at, tzinfo=BERLIN),
    )


def test_the_calendar_is_an_agenda_of_this_weeks_posts_at_390_px_and_the_menu_opens_the_nav(
    browser: Any, live_server: Any, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    week = _this_week()
    with_image = _post(
        editor,
        campaign,
        week[1],
        dt.time(9, 15),
        image="landscape_1200x628.webp",
        title="Impftag im Foyer",
        accounts=accounts[:2],
    )
    plain = _post(editor, campaign, week[4], dt.time(14, 30), title=f"{LONG_WORD} 🩺", accounts=accounts[2:])
    context = phone_context(browser, live_server, 390)
    violations = csp_guard(context)
    try:
        page = context.new_page()
        browser_login(page, "editor")
        page.goto(reverse("posts:calendar"))
        page.wait_for_load_state("networkidle")
        assert overflow_problems(page, 390) == []

        # The grid reads as an agenda: no weekday row, only days with posts, each under its full date.
        assert not page.locator(".cal-grid thead").is_visible()
        days = page.locator(".cal-grid td.cal-day:visible")
        assert days.count() == 2
        first_day = days.nth(0)
        heading = first_day.locator(".cal-day-head").inner_text()
        assert week[1].strftime("%A") in heading and str(week[1].year) in heading, heading
        assert week[4].strftime("%A") in days.nth(1).locator(".cal-day-head").inner_text()

        card = first_day.locator("article.cal-card")
        assert card.locator("time").inner_text() == "09:15"
        assert "Impftag im Foyer" in card.inner_text() and campaign.name in card.inner_text()
        assert card.locator(".badge").inner_text() == "Draft"
        assert card.get_by_role("img", name=f"Facebook: {accounts[0].name}").is_visible()
        thumb = card.locator("img.cal-card-thumb")
        assert thumb.get_attribute("alt") == "Pflegerin impft im Foyer"
        assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
        box = card.bounding_box()
        assert box is not None and box["width"] > 300, box  # a readable card, not a 40 px grid cell
        link = card.locator(".cal-card-link").bounding_box()
        assert link is not None and link["height"] >= 44
        other = days.nth(1).locator("article.cal-card")
        assert LONG_WORD in other.inner_text() and other.locator("img").count() == 0
        assert small_tap_targets(page) == []

        # The week view is the same agenda.
        page.goto(reverse("posts:calendar") + "?view=week")
        assert page.locator(".cal-grid td.cal-day:visible").count() == 2
        assert overflow_problems(page, 390) == []

        # The navigation folds behind "Menu"; it opens, Escape closes it, a link in it is followed.
        toggle = page.get_by_role("button", name="Menu")
        nav_link = page.get_by_role("link", name="Campaigns")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not nav_link.is_visible()
        toggle.tap()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert nav_link.is_visible()
        assert page.get_by_role("button", name="Log out").is_visible()
        link_box = nav_link.bounding_box()
        assert link_box is not None and link_box["height"] >= 44
        page.keyboard.press("Escape")
        assert toggle.get_attribute("aria-expanded") == "false" and not nav_link.is_visible()
        assert page.evaluate("document.activeElement.hasAttribute('data-menu-toggle')")
        page.keyboard.press("Enter")  # the focused button, by keyboard
        assert nav_link.is_visible()
        nav_link.tap()
        page.wait_for_url("**/campaigns/")
        assert page.get_by_role("heading", level=1).is_visible()
        assert {with_image.pk, plain.pk} <= set(Post.objects.values_list("pk", flat=True))
    finally:
        context.close()
    assert violations == []


def test_without_script_the_phone_menu_stays_open_and_its_links_reachable(
    browser: Any, live_server: Any, editor: Any
) -> None:
    context = phone_context(browser, live_server, 360, java_script_enabled=False)
    try:
        page = context.new_page()
        browser_login(page, "editor")
        page.goto(reverse("posts:campaign_list"))
        assert not page.locator("[data-menu-toggle]").is_visible()
        calendar = page.get_by_role("link", name="Calendar")
        assert calendar.is_visible()
        assert overflow_problems(page, 360) == []
        calendar.click()
        page.wait_for_url("**/calendar/")
    finally:
        context.close()


def test_main_pages_fit_360_and_390_px_and_their_buttons_are_thumb_sized(
    browser: Any,
    live_server: Any,
    editor: Any,
    campaign_factory: Any,
    account_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> None:
    medical = make_user("medical", roles.MEDICAL_REVIEWER)
    legal = make_user("legal", roles.LEGAL_REVIEWER)
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    campaign = campaign_factory(editor, name=f"Grippe 2026/27 – {LONG_WORD}", reviewers=[medical, legal, comms])
    accounts = [account_factory("facebook"), account_factory("instagram"), account_factory("linkedin")]
    week = _this_week()
    post = _post(
        editor,
        campaign,
        week[2],
        dt.time(8, 0),
        image="square_1080_rgba.png",
        title=f"Impfen schützt: {LONG_WORD}",
        body=f"Alle Termine: {LONG_URL} – Fragen an die Zentrale 040 1234-0. {LONG_WORD}",
        link=LONG_URL,
        accounts=accounts,
    )
    reviewed = _post(
        editor,
        campaign,
        timezone.localdate(timezone=BERLIN) + dt.timedelta(days=8),
        dt.time(10, 0),
        title="Rückenschule für Pflegekräfte",
        body=f"Rückenschule {LONG_URL}",
        accounts=accounts[:1],
    )
    round_submit(post=reviewed, actor=editor)
    subject = subject_factory(display_name=f"Ümran Yıldız-{LONG_WORD}")
    record = record_factory(subject)

    pages = {
        "editor": [
            reverse("posts:calendar"),
            reverse("posts:calendar") + "?view=week",
            reverse("posts:calendar") + "?view=list",
            reverse("posts:campaign_list"),
            reverse("posts:campaign_detail", args=[campaign.pk]),
            reverse("posts:campaign_create"),
            reverse("posts:post_detail", args=[post.pk]),
            reverse("posts:post_create"),
            reverse("posts:post_edit", args=[post.pk]),
            reverse("approvals:my_posts"),
            reverse("publishing:publishing"),
            reverse("plans:import"),
            reverse("people:preferences"),
            reverse("people:notices"),
            reverse("mfa_index"),
        ],
        "medical": [reverse("approvals:inbox"), reverse("approvals:review", args=[reviewed.pk])],
        "consent": [
            reverse("consent:registry"),
            reverse("consent:record_detail", args=[record.pk]),
            reverse("consent:subject_detail", args=[subject.pk]),
            reverse("consent:subject_create"),
            reverse("consent:record_create", args=[subject.pk]),
        ],
    }
    problems: list[str] = []
    for width in (360, 390):
        for username, urls in pages.items():
            context = phone_context(browser, live_server, width)
            violations = csp_guard(context)
            try:
                page = context.new_page()
                page.goto(reverse("login"))
                problems += overflow_problems(page, width)
                browser_login(page, username)
                for url in urls:
                    response = page.goto(url)
                    assert response is not None and response.status == 200, f"{username} {url}: {response}"
                    page.wait_for_load_state()
                    problems += overflow_problems(page, width)
                    problems += small_tap_targets(page)
            finally:
                context.close()
            assert violations == [], violations
    assert problems == [], "\n".join(problems)

    # The review decision is in reach of a thumb: full-width buttons, held at the bottom of the screen.
    context = phone_context(browser, live_server, 390)
    try:
        page = context.new_page()
        browser_login(page, "medical")
        page.goto(reverse("approvals:review", args=[reviewed.pk]))
        approve = page.get_by_role("button", name="Approve")
        jump = page.get_by_role("link", name="Your decision")
        jump_box = jump.bounding_box()
        assert jump_box is not None and jump_box["y"] + jump_box["height"] > 800 - 60, jump_box  # at the bottom
        assert not _in_view(approve)  # the decision is further down the page
        jump.tap()
        page.wait_for_url("**#decision")
        assert _in_view(approve) and not jump.is_visible()
        box = approve.bounding_box()
        assert box is not None and box["width"] >= 300 and box["height"] >= 44, box
        assert page.locator(".review-buttons").evaluate("el => getComputedStyle(el).position") == "sticky"
    finally:
        context.close()


def _in_view(locator: Any) -> bool:
    """Return whether the element is wholly inside the window."""
    script = "el => { const b = el.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }"
    return bool(locator.evaluate(script))


TOP_BAR_ROWS = """() => [...document.querySelectorAll('.topbar > .brand, .topbar > .menu-toggle, .topbar nav a,'
    + ' .user-menu > a, .user-menu button, .language-switch select')]
  .filter((el) => el.getClientRects().length)
  .map((el) => { const box = el.getBoundingClientRect(); return [el.textContent.trim(), box.top, box.bottom]; })"""


def _one_line(page: Any) -> list[Any]:
    """Assert every visible item of the top bar shares one line and the page is not wider; return the items."""
    rows = page.evaluate(TOP_BAR_ROWS)
    lowest_top = max(top for _text, top, _bottom in rows)
    highest_bottom = min(bottom for _text, _top, bottom in rows)
    assert lowest_top < highest_bottom, f"the top bar wraps: {rows}"
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None and bar["height"] < 64, bar
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    return rows


def test_the_german_top_bar_keeps_to_one_line_at_1366_px(
    browser: Any, live_server: Any, editor: Any, campaign_factory: Any, account_factory: Any
) -> None:
    # A person in three roles with a review waiting: seven links, a count, every user tool.
    doctor = make_user("doctor", roles.EDITOR, roles.MEDICAL_REVIEWER, roles.CONSENT_OFFICER, language="de")
    legal = make_user("legal", roles.LEGAL_REVIEWER)
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    campaign = campaign_factory(editor, name="Herzwoche", reviewers=[doctor, legal, comms])
    waiting = _post(
        editor,
        campaign,
        timezone.localdate(timezone=BERLIN) + dt.timedelta(days=8),
        dt.time(10, 0),
        title="Herzsport",
        accounts=[account_factory("facebook")],
    )
    round_submit(post=waiting, actor=editor)
    # A superuser sees every link there is.
    make_user("root", is_staff=True, is_superuser=True, language="de")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 800}, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        browser_login(page, "doctor")
        page.goto(reverse("posts:calendar"))
        assert page.locator("html").get_attribute("lang") == "de"
        assert not page.locator("[data-menu-toggle]").is_visible()
        for name in ("Einwilligungen", "Plan importieren", "Veröffentlichung"):
            assert page.get_by_role("link", name=name).is_visible(), name
        assert page.locator("[data-review-count]").inner_text().startswith("1")
        assert len(_one_line(page)) >= 12
        # The icon-only tools keep their words for screen readers.
        assert page.get_by_role("button", name="Abmelden").is_visible()
        assert page.get_by_role("link", name="Zwei-Faktor-Anmeldung").is_visible()
        assert page.get_by_role("link", name="Benachrichtigungen").is_visible()
        page.get_by_role("button", name="Abmelden").click()
        page.wait_for_url("**/accounts/login/**")

        # However many links, the bar never wraps: what does not fit folds behind "Menu".
        browser_login(page, "root")
        page.goto(reverse("posts:calendar"))
        _one_line(page)
        toggle = page.locator("[data-menu-toggle]")
        if toggle.is_visible():
            toggle.click()
        assert page.get_by_role("link", name="Verwaltung").is_visible()
    finally:
        context.close()
