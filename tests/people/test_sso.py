"""Single sign-on with OpenID Connect, against a real provider on 127.0.0.1 (tests/people/oidc_provider.py)."""

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from people import roles
from people.models import User
from people.sso import check_sso_settings, claim_values, role_map_parse
from tests.conftest import make_user
from tests.people.oidc_provider import Provider, oidc_provider

pytestmark = pytest.mark.django_db
_ = oidc_provider  # the fixture, imported for pytest

ANNA = {
    "sub": "00u1a2b3-anna",
    "preferred_username": "anna.mueller@klinikum-nord.de",
    "email": "anna.mueller@klinikum-nord.de",
    "email_verified": True,
    "name": "Anna Müller",
    "given_name": "Anna",
    "family_name": "Müller",
    "groups": ["rounds-editors", "/klinikum/kommunikation", "alle-mitarbeitenden"],
}


def sso_sign_in(client: Client, provider: Provider, claims: dict[str, Any], next_url: str = "") -> Any:
    """Walk one sign-in: Rounds' button, the provider's authorize endpoint over HTTP, Rounds' callback."""
    provider.claims = claims
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": "klinikum"}) + next_url)
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(f"{provider.issuer}/authorize?")
    approved = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    back = urlsplit(approved.headers["Location"])
    assert back.path == reverse("openid_connect_callback", kwargs={"provider_id": "klinikum"})
    return client.get(f"{back.path}?{back.query}")


def logged_in_as(client: Client) -> User | None:
    response = client.get(reverse("posts:calendar"))
    if response.status_code != 200:
        return None
    user: User = response.wsgi_request.user  # type: ignore[assignment]
    return user


def test_first_sign_in_creates_the_person_with_the_mapped_roles(client: Client, oidc_provider: Provider) -> None:
    response = sso_sign_in(client, oidc_provider, ANNA)

    assert response.status_code == 302 and response["Location"] == reverse("home:home")
    user = User.objects.get(username="anna.mueller@klinikum-nord.de")
    assert (user.first_name, user.last_name, user.email) == ("Anna", "Müller", "anna.mueller@klinikum-nord.de")
    assert sorted(user.groups.values_list("name", flat=True)) == [roles.COMMUNICATIONS_REVIEWER, roles.EDITOR]
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(user=user).uid == "00u1a2b3-anna"
    assert logged_in_as(client) == user
    events = list(AuditEvent.objects.for_object(user).order_by("seq"))
    assert [(event.action, event.actor_id, event.actor_repr) for event in events] == [
        ("user.created", None, "sso"),
        ("user.roles_changed", None, "sso"),
    ]
    assert events[1].changes == {"groups": [[], [roles.COMMUNICATIONS_REVIEWER, roles.EDITOR]]}
    # The nonce Rounds sent came back signed in the ID token.
    assert all(token.count(".") == 2 for token in oidc_provider.id_tokens)


def test_the_next_sign_in_follows_the_providers_groups_and_name(client: Client, oidc_provider: Provider) -> None:
    sso_sign_in(client, oidc_provider, ANNA)
    user = User.objects.get(username="anna.mueller@klinikum-nord.de")
    moved = {
        **ANNA,
        "family_name": "Müller-Şahin",
        "email": "anna.mueller-sahin@klinikum-nord.de",
        "groups": ["rounds-governance"],
    }

    response = sso_sign_in(Client(), oidc_provider, moved)

    assert response.status_code == 302
    user.refresh_from_db()
    assert User.objects.count() == 1
    assert (user.last_name, user.email) == ("Müller-Şahin", "anna.mueller-sahin@klinikum-nord.de")
    assert list(user.groups.values_list("name", flat=True)) == [roles.GOVERNANCE]
    changed = AuditEvent.objects.for_object(user).filter(action="user.roles_changed").order_by("seq").last()
    assert changed is not None and changed.actor_repr == "sso"
    assert changed.changes == {"groups": [[roles.COMMUNICATIONS_REVIEWER, roles.EDITOR], [roles.GOVERNANCE]]}
    updated = AuditEvent.objects.for_object(user).get(action="user.updated")
    assert updated.changes == {
        "email": ["anna.mueller@klinikum-nord.de", "anna.mueller-sahin@klinikum-nord.de"],
        "last_name": ["Müller", "Müller-Şahin"],
    }


def test_a_person_without_a_mapped_group_is_refused(client: Client, oidc_provider: Provider) -> None:
    response = sso_sign_in(client, oidc_provider, {**ANNA, "groups": ["pflege", "alle-mitarbeitenden"]})

    assert response.status_code == 403
    assert "no role in Rounds" in response.content.decode()
    assert not User.objects.exists() and not SocialAccount.objects.exists()
    assert logged_in_as(client) is None


def test_a_person_who_lost_every_mapped_group_loses_the_roles_and_is_refused(
    client: Client, oidc_provider: Provider
) -> None:
    sso_sign_in(client, oidc_provider, ANNA)
    user = User.objects.get()

    second = Client()
    response = sso_sign_in(second, oidc_provider, {**ANNA, "groups": []})

    assert response.status_code == 403
    assert not user.groups.exists()
    assert logged_in_as(second) is None
    last = AuditEvent.objects.for_object(user).filter(action="user.roles_changed").order_by("seq").last()
    assert last is not None and last.changes["groups"][1] == []


def test_without_require_role_an_unmapped_person_gets_an_account_without_roles(
    client: Client, oidc_provider: Provider, settings: Any
) -> None:
    settings.ROUNDS_OIDC_REQUIRE_ROLE = False
    response = sso_sign_in(client, oidc_provider, {**ANNA, "groups": "pflege"})
    assert response.status_code == 302
    assert not User.objects.get().groups.exists()


@pytest.mark.parametrize("tamper", ["signature", "issuer", "audience", "nonce", "no-nonce", "expired"])
def test_an_id_token_that_fails_a_check_signs_nobody_in(client: Client, oidc_provider: Provider, tamper: str) -> None:
    oidc_provider.tamper = tamper

    response = sso_sign_in(client, oidc_provider, ANNA)

    assert response.status_code == 403
    assert "could not be verified" in response.content.decode()
    assert not User.objects.exists() and not SocialAccount.objects.exists()
    assert logged_in_as(client) is None
    assert len(oidc_provider.id_tokens) == 1  # the token endpoint was reached: the ID token itself was refused


def test_an_existing_local_username_is_not_taken_over(client: Client, oidc_provider: Provider) -> None:
    local = make_user("anna.mueller@klinikum-nord.de", roles.VIEWER)

    response = sso_sign_in(client, oidc_provider, ANNA)

    assert response.status_code == 403
    assert "already exists" in response.content.decode()
    assert not SocialAccount.objects.exists()
    assert list(local.groups.values_list("name", flat=True)) == [roles.VIEWER]
    assert logged_in_as(client) is None


def test_a_deactivated_person_is_refused(client: Client, oidc_provider: Provider) -> None:
    sso_sign_in(client, oidc_provider, ANNA)
    User.objects.update(is_active=False)
    second = Client()
    assert sso_sign_in(second, oidc_provider, ANNA).status_code == 403
    assert logged_in_as(second) is None


def test_the_login_page_offers_the_provider_and_the_button_starts_a_sign_in(
    client: Client, oidc_provider: Provider
) -> None:
    page = client.get(reverse("login") + "?next=/plans/").content.decode()
    assert "Sign in with Klinikum Nord ID" in page
    response = sso_sign_in(client, oidc_provider, ANNA, next_url="?next=/plans/")
    assert response["Location"] == "/plans/"


def test_with_local_passwords_off_the_password_login_is_refused(
    client: Client, oidc_provider: Provider, settings: Any
) -> None:
    make_user("editor", roles.EDITOR)
    assert client.post(reverse("login"), {"login": "editor", "password": "pw"}).status_code == 302
    client.logout()
    settings.ROUNDS_LOCAL_PASSWORDS = False

    page = client.get(reverse("login")).content.decode()
    refused = client.post(reverse("login"), {"login": "editor", "password": "pw"})

    assert 'name="password"' not in page and "Sign in with Klinikum Nord ID" in page
    assert refused.status_code == 200 and logged_in_as(client) is None
    # Single sign-on still signs people in.
    assert sso_sign_in(client, oidc_provider, ANNA).status_code == 302
    assert logged_in_as(client) == User.objects.get(username=ANNA["preferred_username"])


def test_superusers_keep_a_break_glass_password_unless_it_is_switched_off(client: Client, settings: Any) -> None:
    notfall = User.objects.create_superuser("notfall", "notfall@klinikum-nord.de", "Notfall-Zugang 2026!")
    settings.ROUNDS_LOCAL_PASSWORDS = False
    credentials = {"login": "notfall", "password": "Notfall-Zugang 2026!"}

    # The admin signs in through the login page too (allauth's secure_admin_login).
    assert client.get(reverse("admin:login")).url.startswith(reverse("login"))
    assert client.post(reverse("login"), credentials).status_code == 302
    assert logged_in_as(client) == notfall
    client.logout()
    settings.ROUNDS_SUPERUSER_PASSWORDS = False
    assert client.post(reverse("login"), credentials).status_code == 200
    assert logged_in_as(client) is None


def test_the_role_map_reads_pairs_and_json_and_refuses_unknown_roles() -> None:
    assert role_map_parse("rounds-editors=Editor; cn=leads,ou=groups=Governance;cn=leads,ou=groups=Editor") == {
        "rounds-editors": [roles.EDITOR],
        "cn=leads,ou=groups": [roles.GOVERNANCE, roles.EDITOR],
    }
    assert role_map_parse('{"8f3a-guid": "Viewer", "leads": ["Editor", "Governance"]}') == {
        "8f3a-guid": [roles.VIEWER],
        "leads": [roles.EDITOR, roles.GOVERNANCE],
    }
    assert role_map_parse("") == {}
    with pytest.raises(ImproperlyConfigured, match="Chefarzt"):
        role_map_parse("rounds-leads=Chefarzt")
    with pytest.raises(ImproperlyConfigured):
        role_map_parse("just-a-group")


def test_the_groups_claim_may_be_a_path_into_the_token() -> None:
    claims = {"realm_access": {"roles": ["rounds-editors", 7]}, "groups": "single"}
    assert claim_values(claims, "realm_access.roles") == ["rounds-editors", "7"]
    assert claim_values(claims, "groups") == ["single"]
    assert claim_values(claims, "resource_access.rounds.roles") == []


def test_checks_report_a_bad_role_map_and_passwords_off_without_a_provider(settings: Any) -> None:
    settings.ROUNDS_OIDC_ROLE_MAP = "x=Nobody"
    settings.ROUNDS_LOCAL_PASSWORDS = False
    settings.ROUNDS_OIDC_SERVER_URL = ""
    assert sorted(message.id for message in check_sso_settings()) == ["people.E101", "people.W101"]
    settings.ROUNDS_OIDC_SERVER_URL = "http://sso.klinikum-nord.de/realms/rounds"
    settings.ROUNDS_OIDC_CLIENT_ID = ""
    assert sorted(message.id for message in check_sso_settings()) == ["people.E101", "people.E102", "people.E103"]


@pytest.mark.parametrize(
    "backend", ["people.backends.LocalPasswordBackend", "people.backends.AllauthLocalPasswordBackend"]
)
def test_both_password_backends_refuse_passwords_when_they_are_off(settings: Any, backend: str) -> None:
    settings.AUTHENTICATION_BACKENDS = [backend]
    editor = make_user("jana.krüger", roles.EDITOR)
    root = User.objects.create_superuser("notfall", "notfall@klinikum-nord.de", "Notfall-Zugang 2026!")

    assert authenticate(username="jana.krüger", password="pw") == editor
    settings.ROUNDS_LOCAL_PASSWORDS = False
    assert authenticate(username="jana.krüger", password="pw") is None
    assert authenticate(username="notfall", password="Notfall-Zugang 2026!") == root
    settings.ROUNDS_SUPERUSER_PASSWORDS = False
    assert authenticate(username="notfall", password="Notfall-Zugang 2026!") is None


def test_nobody_links_a_provider_identity_or_signs_up_through_one_by_hand(client: Client) -> None:
    editor = User.objects.create_user("editor.linking", password="pw-Lang-genug-2026")
    client.force_login(editor)
    connections = client.get(reverse("socialaccount_connections"))
    assert (connections.status_code, connections.url) == (302, reverse("people:preferences"))
    connect = client.post(reverse("socialaccount_connections"), {"account": "1"})
    assert connect.status_code == 302 and not editor.socialaccount_set.exists()
    signup = Client().get(reverse("socialaccount_signup"))
    assert (signup.status_code, signup.url) == (302, reverse("login"))
