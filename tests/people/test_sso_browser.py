"""Single sign-on in Chromium: the login page's button, the provider on 127.0.0.1, back on the home page."""

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from people import roles
from people.models import User
from tests.conftest import role_group
from tests.people.oidc_provider import Provider, oidc_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
_ = oidc_provider  # the fixture, imported for pytest


def test_signing_in_with_the_provider_ends_on_needs_attention_with_the_mapped_role(
    page: Any, oidc_provider: Provider
) -> None:
    role_group(roles.EDITOR)  # a serialized-rollback test before this one may have flushed the roles
    oidc_provider.claims = {
        "sub": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "preferred_username": "deniz.yilmaz",
        "email": "deniz.yilmaz@klinikum-nord.de",
        "name": "Deniz Yılmaz",
        "groups": ["rounds-editors"],
    }

    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Klinikum Nord ID").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")

    user = User.objects.get(username="deniz.yilmaz")
    assert (user.first_name, user.last_name) == ("Deniz", "Yılmaz")
    assert list(user.groups.values_list("name", flat=True)) == [roles.EDITOR]
    # Signed in as the person the provider vouched for, with an Editor's "New post" on the calendar.
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    expect(page.get_by_role("link", name="deniz.yilmaz")).to_be_visible()
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("link", name="New post")).to_be_visible()
