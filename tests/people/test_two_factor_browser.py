"""In Chromium: set up and sign in with an authenticator app (TOTP), and with a passkey (a virtual authenticator)."""

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator

from audit.models import AuditEvent
from people import roles
from tests.conftest import browser_login, make_user
from tests.people.totp import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _strong_auth(settings: Any) -> None:
    settings.ROUNDS_TWO_FACTOR_REQUIRED = True
    settings.ROUNDS_REAUTHENTICATION_REQUIRED = True


def confirm_password(page: Any) -> None:
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Confirm").click()


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")


def test_governance_sets_up_an_authenticator_app_and_signs_in_with_a_code(page: Any, settings: Any) -> None:
    # The code that activated the app may not sign in again; the next one (30 s on) may, a step early.
    settings.MFA_TOTP_TOLERANCE = 1
    make_user("gov", roles.GOVERNANCE, is_staff=True)
    browser_login(page, "gov")
    page.wait_for_url("**/accounts/2fa/**")
    assert "Set up two-factor authentication first" in page.locator(".messages").inner_text()

    page.get_by_role("link", name="Activate").click()
    confirm_password(page)
    page.wait_for_url("**/accounts/2fa/totp/activate/**")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda url: "/totp/activate/" not in url)
    assert Authenticator.objects.filter(user__username="gov", type=Authenticator.Type.TOTP).exists()
    assert AuditEvent.objects.filter(action="user.two_factor_added", actor__username="gov").exists()

    log_out(page)
    browser_login(page, "gov")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(totp_code(secret, at=time.time() + 30))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")  # the home page "Needs attention"
    page.goto("/admin/")
    assert page.get_by_role("link", name="Users").count() >= 1


def test_a_consent_officer_adds_a_passkey_and_signs_in_with_it_alone_and_after_a_password(page: Any) -> None:
    make_user("officer", roles.CONSENT_OFFICER)
    # Chromium's virtual authenticator stands in for the phone or the laptop's fingerprint reader.
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    browser_login(page, "officer")
    page.wait_for_url("**/accounts/2fa/**")
    page.get_by_role("link", name="Add").click()
    confirm_password(page)
    page.wait_for_url("**/accounts/2fa/webauthn/add/**")
    page.get_by_label("Name").fill("Stationslaptop 3 🔑")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    key = Authenticator.objects.get(user__username="officer", type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Stationslaptop 3 🔑"

    log_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")  # the home page "Needs attention"
    assert page.locator(".user-menu").inner_text().startswith("officer")
    key.refresh_from_db()
    assert key.last_used_at is not None

    # The same key is the second factor after a password.
    log_out(page)
    browser_login(page, "officer")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")  # the home page "Needs attention"
    assert page.locator(".user-menu").inner_text().startswith("officer")
