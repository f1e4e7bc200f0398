"""Every journey by keyboard alone (issue 15, item 7): Tab, Shift+Tab, Enter, Space, Escape, arrows and typing.

No element is clicked, tapped or filled: ``tab_to`` presses Tab until the wanted control has the focus
(failing after a number of presses), and on every stop it checks that the focused control can be seen
and shows a focus indicator. Every page the journeys reach is checked with axe-core too.
"""

import datetime as dt
import importlib
import re
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import Confirmation, Decision, ReviewChain, ReviewComment, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, round_submit
from consent.models import ConsentRecord
from people import roles
from posts.models import FeaturedPerson, Post, PostStatus
from posts.services import post_update
from tests.a11y import axe_violations
from tests.conftest import browser_context, make_user
from tests.home.conftest import move

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# What has the focus, whether it is ``target``, and whether a sighted keyboard user can see where it is.
_FOCUS = """(target) => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {on: false, here: false, describe: "the page itself"};
  }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  const box = el.getBoundingClientRect();
  const label = (el.getAttribute("aria-label") || (el.labels && el.labels[0] && el.labels[0].textContent)
    || el.textContent || el.value || "").replace(/\\s+/g, " ").trim().slice(0, 60);
  // Inside a date or time field, Tab also stops on the browser's own picker button, which the browser
  // rings itself: the field is then the active element without matching :focus.
  const pickerButton = !el.matches(":focus") && ["date", "time", "datetime-local"].includes(el.type);
  return {
    on: el === target,
    here: true,
    ring: pickerButton || (el.matches(":focus-visible") && (outline || shadow)),
    shown: el.checkVisibility({visibilityProperty: true, opacityProperty: true}) && box.width > 1 && box.height > 1,
    describe: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.name ? "[name=" + el.name + "]" : "")
      + " “" + label + "”",
  };
}"""


def focus_state(page: Any, target: Any = None) -> dict[str, Any]:
    """Return what has the focus on ``page`` and whether it is ``target`` (an element handle) and visible."""
    return dict(page.evaluate(_FOCUS, target))


def assert_focus_visible(page: Any, state: dict[str, Any]) -> None:
    if not state["here"]:
        return
    assert state["shown"], f"{page.url}: the focus is on something that cannot be seen: {state['describe']}"
    assert state["ring"], f"{page.url}: the focused {state['describe']} shows no focus indicator"


def tab_to(page: Any, locator: Any, *, limit: int = 40, back: bool = False) -> None:
    """Press Tab (Shift+Tab with ``back``) until ``locator``'s element has the focus; fail after ``limit`` presses.

    Every control the focus stops on on the way must be visible and show a focus indicator.
    """
    target = locator.element_handle()
    state = focus_state(page, target)
    if state["on"]:
        assert_focus_visible(page, state)
        return
    visited = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        state = focus_state(page, target)
        visited.append(state["describe"])
        assert_focus_visible(page, state)
        if state["on"]:
            return
    raise AssertionError(f"{page.url}: {limit} presses of Tab never reached {locator}; went through {visited}")


def enter_and_wait(page: Any, url: Any, key: str = "Enter") -> None:
    """Press ``key`` on the focused control and wait for the page it leads to."""
    with page.expect_navigation(url=url):
        page.keyboard.press(key)


def type_date(page: Any, field: Any, day: dt.date) -> None:
    """Type ``day`` into the focused date ``field`` in the order its segments show (month first in
    Chromium under the C locale, day first under a European one)."""
    page.keyboard.type(day.strftime("%m%d%Y"))
    if field.input_value() != day.isoformat():
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.type(day.strftime("%d%m%Y"))
    expect(field).to_have_value(day.isoformat())


def page_is_accessible(page: Any) -> None:
    assert axe_violations(page) == [], f"{page.url}: axe-core violations"


@contextmanager
def keyboard_page(browser: Any, live_server: Any, viewport: dict[str, int]) -> Iterator[Any]:
    with browser_context(browser, live_server) as context:
        page = context.new_page()
        page.set_viewport_size(viewport)
        yield page


def sign_in(page: Any, username: str) -> None:
    """Sign in through the login form, typing and pressing Enter; land on "Needs attention"."""
    page.goto("/")
    page.wait_for_url("**/accounts/login/**")
    page_is_accessible(page)
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(username)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type("pw")
    enter_and_wait(page, re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Needs attention", level=1)).to_be_visible()


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


# 1. A medical reviewer: sign in, open the due review from "Needs attention", read the diff, sign the approval.


def test_reviewer_approves_a_due_review_by_keyboard(
    browser: Any,
    live_server: Any,
    editor: Any,
    campaign_factory: Any,
    account_factory: Any,
    post_factory: Any,
    settings: Any,
) -> None:
    settings.ROUNDS_REAUTHENTICATION_REQUIRED = True
    medical = make_user("medical", roles.MEDICAL_REVIEWER, first_name="Zoë", last_name="Müller")
    legal = make_user("legal", roles.LEGAL_REVIEWER)
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    campaign = campaign_factory(editor, name="Grippe-Saison", reviewers=[medical, legal, comms])
    post = post_factory(
        editor,
        campaign,
        title="Grippeimpfung für Mitarbeitende",
        body="Grippeimpfung: Montag bis Freitag, 8–12 Uhr, Haupthalle. Fragen: 040 1234-0.",
        targets=[account_factory("instagram")],
        when=timezone.now() + dt.timedelta(days=8),
    )
    # Medical approved, Legal sent it back, the editor changed the hours: Medical is due again.
    round_submit(post=post, actor=editor)
    decision_record(stage_run=current_stage_run(post=post), reviewer=medical, verdict=Verdict.APPROVE)  # type: ignore[arg-type]
    decision_record(
        stage_run=current_stage_run(post=post),  # type: ignore[arg-type]
        reviewer=legal,
        verdict=Verdict.REQUEST_CHANGES,
        comment="Bitte die neuen Zeiten übernehmen.",
    )
    post.refresh_from_db()
    post = post_update(
        post=post,
        actor=editor,
        data={"body": "Grippeimpfung: Montag bis Donnerstag, 7–11 Uhr, Haus B. Fragen: 040 1234-0."},
    )
    round_submit(post=post, actor=editor)

    with keyboard_page(browser, live_server, WIDE) as page:
        sign_in(page, "medical")
        page_is_accessible(page)
        reviews = page.locator('[data-section="reviews"]')
        tab_to(page, reviews.get_by_role("link", name=post.title))
        enter_and_wait(page, re.compile(rf"/reviews/posts/{post.pk}/$"))
        page_is_accessible(page)
        # What changed since this reviewer approved, in words a screen reader says too.
        diff = page.locator(".review-diff")
        expect(diff).to_contain_text("removed: Freitag")
        expect(diff).to_contain_text("added: Donnerstag")
        expect(page.locator("[data-comment-source]").first).to_contain_text("040 1234-0")

        # A comment on a passage, typed rather than selected with a mouse.
        tab_to(page, page.get_by_label("Passage", exact=True), limit=60)
        page.keyboard.type("040 1234-0")
        tab_to(page, page.get_by_label("Note", exact=True))
        page.keyboard.type("Bitte die Durchwahl der Betriebsärztin prüfen.")
        tab_to(page, page.get_by_role("button", name="Add comment"))
        enter_and_wait(page, re.compile(rf"/reviews/posts/{post.pk}/"))
        comment = ReviewComment.objects.get(post=post)
        assert (comment.quote, comment.author) == ("040 1234-0", medical)
        page_is_accessible(page)

        tab_to(page, page.get_by_label("Comment", exact=True), limit=60)
        page.keyboard.type("Dosierung geprüft, Telefonnummer stimmt.")
        # The sign-in is older than the re-authentication window: signing asks for the password again.
        later = timezone.now() + dt.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 5)
        with time_machine.travel(later, tick=True):
            tab_to(page, page.get_by_role("button", name="Approve"))
            enter_and_wait(page, re.compile(r"/accounts/reauthenticate/"))
            page_is_accessible(page)
            assert Decision.objects.count() == 2
            tab_to(page, page.get_by_label("Password"))
            page.keyboard.type("pw")
            enter_and_wait(page, re.compile(rf"/reviews/posts/{post.pk}/$"))
        expect(page.get_by_text("You approved “Medical review”.")).to_be_visible()
        page_is_accessible(page)
        decision = Decision.objects.filter(reviewer=medical).latest("created_at")
        assert (decision.verdict, decision.reviewer, decision.confirmation) == (
            Verdict.APPROVE,
            medical,
            Confirmation.PASSWORD,
        )
        assert decision.comment == "Dosierung geprüft, Telefonnummer stimmt."

        nav = page.get_by_role("navigation", name="Main")
        tab_to(page, nav.get_by_role("link", name="Needs attention"), back=True, limit=60)
        enter_and_wait(page, re.compile(r"/$"))
        expect(page.locator('[data-section="reviews"]')).to_have_count(0)
        assert post.title not in page.locator("main").inner_text()
        run = current_stage_run(post=Post.objects.get(pk=post.pk))
        assert run is not None and run.stage.display_name != "Medical review"


# 2. An editor: a new post with a person and consent, then a change to a scheduled post, confirmed.


def test_editor_writes_a_post_and_changes_a_scheduled_one_by_keyboard(
    browser: Any,
    live_server: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> None:
    facebook = account_factory("facebook", name="Klinikum Nord", handle="@klinikum_nord")
    instagram = account_factory("instagram", name="Klinikum Nord Instagram", handle="@klinikum_nord_ig")
    anna = subject_factory(display_name="Anna Müller", reference="FALL-2027-0042")
    consent = record_factory(anna)
    record_factory(subject_factory(display_name="Jörg Weiß", reference="FALL-2027-0043"))
    scheduled = post_factory(
        editor,
        campaign,
        title="Blutspende im Foyer",
        body="Blutspende am Mittwoch, 9–15 Uhr. Fragen: 040 1234-0.",
        link="https://klinikum-nord.example/blutspende",
        targets=[facebook],
        when=timezone.now() + dt.timedelta(days=12),
    )
    move(scheduled, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, actor=editor)
    day = timezone.localdate() + dt.timedelta(days=10)

    with keyboard_page(browser, live_server, WIDE) as page:
        sign_in(page, "editor")
        page.goto(reverse("posts:calendar"))
        page_is_accessible(page)
        tab_to(page, page.get_by_role("link", name="New post"))
        enter_and_wait(page, re.compile(r"/posts/new/"))
        page_is_accessible(page)

        # The campaign is a select: pick it with the arrow keys.
        tab_to(page, page.get_by_label("Campaign"))
        page.keyboard.press("ArrowDown")
        expect(page.get_by_label("Campaign")).to_have_value(str(campaign.pk))
        tab_to(page, page.get_by_label("Internal title"))
        page.keyboard.type("Herzwoche: Annas Geschichte über Grüße")
        tab_to(page, page.get_by_label("Text", exact=True))
        page.keyboard.type("Herzwoche im Klinikum Nord: Vorträge für Groß und Klein. Anmeldung unter 040 1234-5678.")
        tab_to(page, page.get_by_role("checkbox", name=re.compile("Klinikum Nord Instagram")))
        page.keyboard.press("Space")
        expect(page.get_by_role("checkbox", name=re.compile("Klinikum Nord Instagram"))).to_be_checked()
        tab_to(page, page.get_by_label("Date", exact=True))
        type_date(page, page.get_by_label("Date", exact=True), day)
        tab_to(page, page.get_by_label("Time", exact=True))
        page.keyboard.type("1800")
        expect(page.get_by_label("Date", exact=True)).to_have_value(day.isoformat())
        expect(page.get_by_label("Time", exact=True)).to_have_value("18:00")

        # "Add a person" shows the next slot and puts the focus in it; the picker searches as one types.
        tab_to(page, page.get_by_role("button", name="Add a person"))
        page.keyboard.press("Enter")
        expect(page.get_by_label("Reference of person 2")).to_be_focused()
        tab_to(page, page.get_by_label("Search consents of person 2"))
        page.keyboard.type("0042")
        picker = page.get_by_label("Consent of person 2")
        # The server's answer is announced (a polite live region) before the editor goes on to the list.
        expect(page.locator("#consent_status_1")).to_have_text("Consents found: 1.")
        expect(picker.locator("option", has_text="Jörg Weiß")).to_have_count(0)
        # Enter in the search box goes on to the list (it does not save the post).
        page.keyboard.press("Enter")
        expect(picker).to_be_focused()
        assert page.url.endswith("/posts/new/")
        page.keyboard.press("ArrowDown")
        expect(picker).to_have_value(str(consent.pk))
        expect(page.get_by_label("Reference of person 2")).to_have_value("FALL-2027-0042")
        photo = page.get_by_role("group", name="What the post shows of person 2").get_by_label("Photo")
        tab_to(page, photo)
        page.keyboard.press("Space")
        expect(photo).to_be_checked()
        tab_to(page, page.get_by_role("button", name="Save draft"))
        enter_and_wait(page, re.compile(r"/posts/\d+/$"))
        expect(page.get_by_text("The draft was saved.")).to_be_visible()
        page_is_accessible(page)

        post = Post.objects.exclude(pk=scheduled.pk).get()
        assert post.title == "Herzwoche: Annas Geschichte über Grüße"
        assert "040 1234-5678" in post.body and "Groß" in post.body
        assert list(post.targets.values_list("account", flat=True)) == [instagram.pk]
        local = post.scheduled_at.astimezone(zoneinfo.ZoneInfo(post.time_zone))
        assert (local.date(), local.hour, local.minute) == (day, 18, 0)
        person = FeaturedPerson.objects.get(post=post)
        assert (person.subject, person.consent, person.media_kinds) == (anna, consent, ["photo"])

        # A change to a scheduled post: the box that says what saving does is ticked by keyboard first.
        page.goto(reverse("posts:post_edit", args=[scheduled.pk]))
        page_is_accessible(page)
        tab_to(page, page.get_by_label("Text", exact=True))
        page.keyboard.press("End")
        page.keyboard.type(" Neu: Haus B, Raum 1.02.")
        findings = page.locator("#editor-findings")
        expect(findings).to_contain_text("Raum 1.02.")
        expect(findings).not_to_have_attribute("aria-busy", "true")

        # The Facebook preview's link card, reached by keyboard, keeps the focus when the findings
        # are redrawn after a change (the redraw is held until the focus is there).
        tab_to(page, page.get_by_role("button", name="Preview"))
        page.keyboard.press("Enter")
        card = findings.locator(".pv-card-title")
        expect(card).to_have_text("klinikum-nord.example")
        held: list[Any] = []

        def hold(route: Any) -> None:
            held.append(route)

        page.route("**/posts/findings/", hold)
        tab_to(page, page.get_by_label("Link", exact=True), back=True, limit=60)
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("https://blutspende.example/termine")
        tab_to(page, card, limit=60)
        while not held:
            page.wait_for_timeout(50)
        for route in held:
            route.continue_()
        page.unroute("**/posts/findings/")
        expect(card).to_have_text("blutspende.example")
        expect(card).to_be_focused()

        box = page.get_by_label("I understand, save the change")
        tab_to(page, box, back=True, limit=60)
        tab_to(page, box)
        page.keyboard.press("Space")
        expect(box).to_be_checked()
        tab_to(page, page.get_by_role("button", name="Save changes"))
        enter_and_wait(page, re.compile(rf"/posts/{scheduled.pk}/$"))
        expect(page.get_by_text("The post left the schedule and goes back to review")).to_be_visible()
        scheduled.refresh_from_db()
        assert scheduled.status == PostStatus.IN_REVIEW and scheduled.body.endswith("Neu: Haus B, Raum 1.02.")
        assert scheduled.link == "https://blutspende.example/termine"


# 3. A consent officer revokes a consent: the irreversible act is confirmed by keyboard.


def test_officer_revokes_a_consent_by_keyboard(
    browser: Any, live_server: Any, officer: Any, subject_factory: Any, record_factory: Any
) -> None:
    record = record_factory(subject_factory(display_name="Jürgen Weiß", reference="FALL-2026-0815"))
    record_factory(subject_factory(display_name="Ayşe Yılmaz"))

    with keyboard_page(browser, live_server, WIDE) as page:
        sign_in(page, "consent")
        nav = page.get_by_role("navigation", name="Main")
        tab_to(page, nav.get_by_role("link", name="Consent"))
        enter_and_wait(page, re.compile(r"/consent/$"))
        page_is_accessible(page)
        row = page.locator("tr", has_text="Jürgen Weiß")
        tab_to(page, row.get_by_role("link", name=re.compile("^signed")))
        enter_and_wait(page, re.compile(rf"/consent/{record.pk}/$"))
        page_is_accessible(page)

        via = page.get_by_label("Revocation received via")
        tab_to(page, via, limit=60)
        page.keyboard.press("ArrowDown")
        chosen = via.input_value()
        assert chosen
        tab_to(page, page.get_by_label("Reason (if the person gave one)"))
        page.keyboard.type("Möchte nicht mehr gezeigt werden.")
        revoke = page.get_by_role("button", name="Revoke consent")
        tab_to(page, revoke)
        # Unticked, the browser refuses the form and takes the focus to the box.
        page.keyboard.press("Enter")
        box = page.get_by_label(re.compile("I understand that a revocation cannot be undone"))
        expect(box).to_be_focused()
        record.refresh_from_db()
        assert record.revoked_at is None
        page.keyboard.press("Space")
        expect(box).to_be_checked()
        tab_to(page, revoke)
        enter_and_wait(page, re.compile(rf"/consent/{record.pk}/$"))
        page_is_accessible(page)
        record = ConsentRecord.objects.get(pk=record.pk)
        assert record.revoked_at is not None and record.revocation_received_via == chosen
        assert record.revocation_reason == "Möchte nicht mehr gezeigt werden."

        # The language list: arrows browse it without leaving the page, Enter switches.
        language = page.get_by_label("Language", exact=True)
        tab_to(page, language, limit=60)
        page.keyboard.press("ArrowDown")
        chosen_language = language.input_value()
        assert chosen_language != "en"
        page.wait_for_timeout(300)  # a page load would have started by now
        assert page.evaluate("document.documentElement.lang") == "en"
        enter_and_wait(page, re.compile(rf"/consent/{record.pk}/$"))
        assert page.evaluate("document.documentElement.lang") == chosen_language


# 4. On a 390 px phone: the menu by keyboard, then the calendar's Move dialog.


def test_phone_menu_and_calendar_move_by_keyboard(
    browser: Any, live_server: Any, editor: Any, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    when = timezone.now() + dt.timedelta(days=1)
    post = post_factory(editor, campaign, title="Tag der offenen Tür", targets=[account_factory("facebook")], when=when)

    with keyboard_page(browser, live_server, PHONE) as page:
        sign_in(page, "editor")
        page_is_accessible(page)
        toggle = page.get_by_role("button", name="Menu")
        calendar_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar")
        expect(calendar_link).to_be_hidden()
        tab_to(page, toggle)
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(calendar_link).to_be_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()
        expect(calendar_link).to_be_hidden()
        page.keyboard.press("Space")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        tab_to(page, calendar_link)
        enter_and_wait(page, re.compile(r"/calendar/"))
        page_is_accessible(page)
        # "Skip to content" is the first stop and leads past the top bar.
        tab_to(page, page.get_by_role("link", name="Skip to content"), limit=1)
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('main') !== null")

        move = page.locator(f'.cal-item[data-post-id="{post.pk}"] [data-cal-move]')
        tab_to(page, move, limit=60)
        page.keyboard.press("Enter")
        new_day = timezone.localdate() + dt.timedelta(days=3)
        dialog = page.get_by_role("dialog")
        date = dialog.get_by_label("New date")
        expect(date).to_be_focused()
        page_is_accessible(page)
        type_date(page, date, new_day)
        tab_to(page, dialog.get_by_role("button", name="Move"))
        enter_and_wait(page, re.compile(rf"/calendar/.*#cal-post-{post.pk}$"))
        expect(page.locator(".messages")).to_contain_text("Moved “Tag der offenen Tür”")
        page_is_accessible(page)
        post.refresh_from_db()
        assert timezone.localtime(post.scheduled_at).date() == new_day
        # The keyboard goes on from the moved card, now under its new day.
        card = page.locator(f'[data-date="{new_day.isoformat()}"] #cal-post-{post.pk}')
        tab_to(page, card.locator(".cal-card-link"), limit=1)
