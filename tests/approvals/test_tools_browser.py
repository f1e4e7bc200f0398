"""Reviewers' tools in a real browser: a notice leads to the decision; the review page on a 390 px phone."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import Decision, ReviewChain, Verdict
from approvals.services import round_submit
from people.models import Notice
from tests.conftest import browser_context, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LONG_BODY = (
    "Grippeimpfung für alle Mitarbeitenden der Kinderklinik 💉🏥: Montag bis Freitag, 8–12 Uhr, Hörsaal 2. "
    "Bitte Impfpass mitbringen. Fragen: https://klinikum-nord.example/impfung/grippe/2026/mitarbeitende/faq "
    "東京からのゲストも歓迎します。Überweisungsscheinnummerverwaltungsstelle. " * 6
)


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


@pytest.fixture
def waiting_post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    post = post_factory(
        editor,
        review_campaign,
        title="Grippeimpfung 2026",
        body=LONG_BODY,
        hashtags=["Grippe", "Impfung", "Kinderklinik"],
        targets=[account_factory("facebook"), account_factory("x")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    round_submit(post=post, actor=editor)  # committed: the stage's mail and notices go out
    return post


def test_journey_a_reviewer_follows_a_notice_to_the_decision_and_decides(
    browser: Any, live_server: Any, waiting_post: Any, reviewers: dict[str, Any]
) -> None:
    notice = Notice.objects.get(user=reviewers["medical"])
    assert notice.url == f"/reviews/posts/{waiting_post.pk}/#decision"
    with browser_context(browser, live_server) as context:
        page = context.new_page()
        browser_login(page, "medical")
        assert page.locator("[data-notice-count]").inner_text().startswith("1")
        page.get_by_role("link", name="Notices").click()
        page.wait_for_url("**/me/notices/")
        page.get_by_role("link", name=notice.subject).click()
        page.wait_for_url(f"**/reviews/posts/{waiting_post.pk}/#decision")
        assert page.locator("#decision").is_visible()
        assert page.locator("[data-notice-count]").count() == 0  # read now
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("You approved “Medical review”.").wait_for()
    assert Decision.objects.filter(reviewer=reviewers["medical"], verdict=Verdict.APPROVE).exists()


def test_the_review_page_fits_a_390_px_phone_and_decides_there(
    browser: Any, live_server: Any, waiting_post: Any, reviewers: dict[str, Any]
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        browser_login(page, "medical")
        page.goto(f"/reviews/posts/{waiting_post.pk}/")
        page.wait_for_load_state()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways: {width} px wide"
        for name in ("Approve", "Request changes", "Reject"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, (name, box)
        page.get_by_label("Comment").fill("Passt so – danke! 👍")
        page.get_by_role("button", name="Approve").tap()
        page.get_by_text("You approved “Medical review”.").wait_for()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    finally:
        context.close()
    assert Decision.objects.filter(reviewer=reviewers["medical"], verdict=Verdict.APPROVE).exists()
