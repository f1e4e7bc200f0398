"""A reviewer switches the language: the switch names each language in its own words, the seeded
stage and role names follow, and Japanese post text wraps by Japanese rules on a 390 px phone."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import ReviewChain
from approvals.services import round_submit
from people.models import User
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

JAPANESE_TITLE = "心臓週間のお知らせ：循環器内科の医師が高血圧と減塩の工夫についてお話しします"


@pytest.fixture(autouse=True)
def default_chains(transactional_db: None) -> None:
    """Put back the seeded chains if an earlier transactional test flushed them."""
    from django.apps import apps

    seed = importlib.import_module("approvals.migrations.0002_default_chains")
    if not ReviewChain.objects.filter(is_default=True).exists():
        seed.create_chains(apps, None)


def test_a_reviewer_switches_to_german_and_japanese_and_reads_the_review_in_each(
    page: Any, editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(
        editor,
        review_campaign,
        title=JAPANESE_TITLE,
        body="12月4日（金）20時から。ご予約は不要です。",
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=6),
    )
    post.language = "ja"
    post.save(update_fields=["language"])
    round_submit(post=post, actor=editor)
    browser_login(page, "medical")
    page.goto(f"/posts/{post.pk}/")

    switch = page.locator("#language-select")
    assert switch.locator("option").all_inner_texts() == ["English", "Deutsch", "Türkçe", "日本語"]
    switch.select_option(label="Deutsch")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    stages = page.locator(".review-stages")
    assert "Medizinische Prüfung" in stages.inner_text()
    assert "Medizin ·" in stages.inner_text()
    assert page.get_by_label("Sprache").is_visible()
    assert User.objects.get(username="medical").language == "de"

    page.locator("#language-select").select_option(label="日本語")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.set_viewport_size({"width": 390, "height": 844})
    body = page.locator(".post-body")
    assert body.get_attribute("lang") == "ja"
    style = body.evaluate("e => { const s = getComputedStyle(e); return [s.lineBreak, s.overflowWrap, s.wordBreak]; }")
    assert style == ["strict", "anywhere", "normal"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

    # On a phone the language switch is in the menu.
    page.locator("[data-menu-toggle]").click()
    page.locator("#language-select").select_option(label="Türkçe")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    # With lang="tr" the browser uppercases as Turkish does: i → İ.
    uppercased = page.locator("h1").evaluate(
        "h => { const s = document.createElement('span'); s.lang = document.documentElement.lang;"
        " s.style.textTransform = 'uppercase'; s.textContent = 'istanbul'; h.append(s);"
        " const shown = s.innerText; s.remove(); return shown; }"
    )
    assert uppercased == "İSTANBUL"
