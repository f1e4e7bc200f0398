"""The reviewer's inbox on a 390 px phone: the way to the review page does not scroll sideways."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import ReviewChain
from approvals.services import round_submit
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


def test_the_inbox_fits_a_390_px_phone_and_leads_to_the_review_page(
    browser: Any, live_server: Any, editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title="Tipp 3: Spazierengehen – täglich 30 Minuten zügiges Gehen senkt den Blutdruck 🚶‍♀️",
        body="Täglich 30 Minuten zügiges Gehen. Fragen an die Zentrale: 040 1234-0.",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=6),
    )
    round_submit(post=post, actor=editor)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        browser_login(page, "medical")
        page.goto("/reviews/")
        page.wait_for_load_state()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"the inbox scrolls sideways: {width} px wide"
        page.get_by_role("link", name=post.title).tap()
        page.wait_for_url(f"**/reviews/posts/{post.pk}/")
    finally:
        context.close()
