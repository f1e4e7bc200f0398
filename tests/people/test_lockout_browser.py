"""Locked out in a real Chromium after five wrong passwords; Governance unlocks in the admin; the person logs in."""

from typing import Any

import pytest

from audit.models import AuditEvent
from tests.conftest import browser_login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def try_password(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_five_wrong_passwords_lock_until_governance_unlocks(page: Any, browser: Any, live_server: Any) -> None:
    make_user("anna.schmidt")
    make_user("governance", "Governance", is_staff=True)
    # Logged in before: here every browser shares 127.0.0.1, which the failures below lock too.
    staff = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
    browser_login(staff, "governance")

    for n in range(4):
        try_password(page, "anna.schmidt", f"Herbst-{n}")
        page.get_by_role("alert").wait_for()
    try_password(page, "anna.schmidt", "Herbst-5")
    page.get_by_role("heading", name="Log-in locked").wait_for()
    try_password(page, "anna.schmidt", "pw")
    page.get_by_role("heading", name="Log-in locked").wait_for()
    assert "Try again in 30 minutes" in page.content()

    staff.goto("/admin/axes/accessattempt/")
    staff.get_by_role("checkbox", name="Select all objects on this page").check()
    staff.get_by_label("Action:").select_option(label="Unlock: delete the selected attempts")
    staff.get_by_role("button", name="Go").click()
    staff.get_by_text("attempts deleted: unlocked.").wait_for()

    browser_login(page, "anna.schmidt")
    assert "/accounts/login/" not in page.url
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "login.locked_out",
        "login.unlocked",
    ]
