"""Sign-in with a second factor, who must have one, and "confirm it's you" before sensitive acts."""

import base64
import datetime as dt
import re
import secrets
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from approvals.models import PostChain, ReviewChain
from audit.models import AuditEvent
from people import roles
from people.models import User
from tests.conftest import make_user
from tests.people.totp import totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _strong_auth(settings: Any) -> None:
    # The test settings switch both off for the tests that sign in with force_login.
    settings.ROUNDS_TWO_FACTOR_REQUIRED = True
    settings.ROUNDS_REAUTHENTICATION_REQUIRED = True


def with_totp(user: User) -> str:
    """Give ``user`` an authenticator app; return its base32 secret."""
    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    TOTP.activate(user, secret)
    return secret


def sign_in(client: Client, user: User, *, secret: str | None = None) -> Any:
    """Sign in through the login page (and the code page when ``secret`` is given); return the last answer."""
    response = client.post(reverse("login"), {"login": user.username, "password": "pw"})
    assert response.status_code == 302, response.content
    if secret is None:
        return response
    assert response["Location"] == reverse("mfa_authenticate")
    return client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})


def later() -> Any:
    """Travel past the grace window in which a sign-in counts as a confirmation."""
    return time_machine.travel(
        timezone.now() + dt.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 5), tick=True
    )


def sent_to(page: str, then: str) -> str:
    return f"{reverse(page)}?{urlencode({'next': then})}"


def where(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    return str(response["Location"]).split("?")[0]


@pytest.fixture
def subject(subject_factory: Any) -> Any:
    return subject_factory(display_name="Jürgen Özdemir 🫀", reference="KH-2026-0412")


# Sign-in ------------------------------------------------------------------------------------


def test_login_page_keeps_its_name_and_sends_anonymous_visitors_back_after(editor: User) -> None:
    client = Client()
    calendar = reverse("posts:calendar")
    response = client.get(calendar)
    assert response["Location"] == f"{reverse('login')}?next={calendar}"
    page = client.get(response["Location"]).content.decode()
    assert 'name="login"' in page and 'name="password"' in page and 'id="passkey_login"' in page
    response = client.post(
        f"{reverse('login')}?next={calendar}", {"login": "editor", "password": "pw", "next": calendar}
    )
    assert response["Location"] == calendar
    assert client.get(calendar).status_code == 200


def test_a_wrong_password_signs_nobody_in(editor: User) -> None:
    client = Client()
    response = client.post(reverse("login"), {"login": "editor", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_and_totp_code_sign_in_and_password_alone_does_not(officer: User) -> None:
    secret = with_totp(officer)
    client = Client()
    response = client.post(reverse("login"), {"login": "consent", "password": "pw"})
    assert where(response) == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # the password alone is not a sign-in
    assert where(client.get(reverse("posts:calendar"))) == reverse("login")
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    assert client.post(reverse("mfa_authenticate"), {"code": wrong}).status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert where(response) == reverse("home:home")
    assert client.get(reverse("posts:calendar")).status_code == 200


def test_the_authenticator_apps_key_is_stored_encrypted_and_still_signs_in(officer: User) -> None:
    from allauth.mfa.models import Authenticator

    secret = with_totp(officer)
    stored = Authenticator.objects.get(user=officer, type=Authenticator.Type.TOTP).data["secret"]
    assert stored.startswith("fernet:") and secret not in stored
    client = Client()
    client.post(reverse("login"), {"login": "consent", "password": "pw"})
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert where(response) == reverse("home:home")


def test_a_recovery_code_signs_in_once(officer: User) -> None:
    with_totp(officer)
    codes = RecoveryCodes.activate(officer).get_unused_codes()
    first = Client()
    sign_in(first, officer)
    assert where(first.post(reverse("mfa_authenticate"), {"code": codes[0]})) == reverse("home:home")
    second = Client()
    sign_in(second, officer)
    assert second.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in second.session


def test_nobody_signs_up(db: None) -> None:
    client = Client()
    data = {"username": "intruder", "email": "intruder@example.org", "password1": "a-Long-passw0rd!"}
    response = client.post(reverse("account_signup"), data)
    assert "closed" in response.content.decode().lower()
    assert not User.objects.filter(username="intruder").exists()


# Who must have a second factor ----------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.GOVERNANCE, roles.CONSENT_OFFICER])
def test_governance_and_consent_officers_without_a_second_factor_are_sent_to_set_one_up(role: str) -> None:
    user = make_user("someone", role)
    client = Client()
    sign_in(client, user)
    calendar = reverse("posts:calendar")
    response = client.get(calendar)
    assert response["Location"] == sent_to("mfa_index", calendar)
    assert any("two-factor" in str(message) for message in get_messages(response.wsgi_request))
    assert client.get(reverse("mfa_index")).status_code == 200
    assert where(client.get(reverse("admin:index"))) == reverse("mfa_index")
    # Once they have one they go on.
    with_totp(user)
    assert client.get(calendar).status_code == 200


def test_other_roles_go_on_without_a_second_factor(editor: User) -> None:
    client = Client()
    sign_in(client, editor)
    assert client.get(reverse("posts:calendar")).status_code == 200


def test_the_switch_off_lets_governance_go_on_without_one(governance: User, settings: Any) -> None:
    settings.ROUNDS_TWO_FACTOR_REQUIRED = False
    client = Client()
    sign_in(client, governance)
    assert client.get(reverse("posts:calendar")).status_code == 200


def test_a_consent_document_needs_a_second_factor_whatever_the_groups_say(
    governance: User, subject: Any, record_factory: Any, settings: Any
) -> None:
    settings.ROUNDS_TWO_FACTOR_GROUPS = []  # only the document's own check is left
    record = record_factory(subject)
    client = Client()
    sign_in(client, governance)
    assert client.get(reverse("posts:calendar")).status_code == 200
    exports = (("consent:document", record.pk), ("consent:fhir", record.pk), ("consent:subject_fhir", subject.pk))
    for name, pk in exports:
        url = reverse(name, args=[pk])
        assert client.get(url)["Location"] == sent_to("mfa_index", url)
    assert not AuditEvent.objects.filter(action__in=["consent.document_viewed", "consent.fhir_exported"]).exists()


# Confirm it's you ------------------------------------------------------------------------------


def test_document_opens_right_after_signing_in_and_asks_to_confirm_once_the_window_passed(
    officer: User, subject: Any, record_factory: Any
) -> None:
    record = record_factory(subject)
    secret = with_totp(officer)
    client = Client()
    sign_in(client, officer, secret=secret)
    url = reverse("consent:document", args=[record.pk])
    assert client.get(url).status_code == 200
    with later():
        response = client.get(url)
        assert response["Location"] == sent_to("account_reauthenticate", url)
        response = client.post(response["Location"], {"password": "wrong"})
        assert response.status_code == 200
        response = client.post(sent_to("account_reauthenticate", url), {"password": "pw", "next": url})
        assert response["Location"] == url
        assert client.get(url).status_code == 200
    viewed = AuditEvent.objects.filter(action="consent.document_viewed", object_id=str(record.pk))
    assert viewed.count() == 2


def test_fhir_export_asks_to_confirm_once_the_window_passed(officer: User, subject: Any, record_factory: Any) -> None:
    record = record_factory(subject)
    secret = with_totp(officer)
    client = Client()
    sign_in(client, officer, secret=secret)
    url = reverse("consent:fhir", args=[record.pk])
    assert client.get(url).status_code == 200
    with later():
        assert where(client.get(url)) == reverse("account_reauthenticate")


def test_a_forced_session_without_a_sign_in_time_must_confirm(officer: User, subject: Any, record_factory: Any) -> None:
    record = record_factory(subject)
    with_totp(officer)
    client = Client()
    client.force_login(officer)
    assert where(client.get(reverse("consent:document", args=[record.pk]))) == reverse("account_reauthenticate")


def test_changing_a_posts_chain_after_the_window_is_kept_and_done_after_confirming(
    editor: User, governance: User, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, targets=[account_factory("facebook")])
    expedited = ReviewChain.objects.get(is_expedited=True)
    secret = with_totp(governance)
    client = Client()
    sign_in(client, governance, secret=secret)
    url = reverse("approvals:chain", args=[post.pk])
    with later():
        response = client.post(url, {"chain": expedited.pk})
        assert response["Location"] == sent_to("account_reauthenticate", url)
        assert not PostChain.objects.exists()
        # The suspended form is sent again once the password is confirmed.
        client.post(sent_to("account_reauthenticate", url), {"password": "pw", "next": url})
    assert PostChain.objects.get(post=post).chain == expedited


@pytest.mark.parametrize("page", ["admin:people_user_change", "admin:auth_user_password_change"])
def test_admin_changes_to_a_person_ask_to_confirm_once_the_window_passed(governance: User, page: str) -> None:
    person = make_user("nurse", roles.EDITOR)
    secret = with_totp(governance)
    client = Client()
    sign_in(client, governance, secret=secret)
    # Django names the password page after auth.User whatever the user model.
    url = reverse(page, args=[person.pk])
    assert client.get(url).status_code == 200
    with later():
        assert where(client.get(url)) == reverse("account_reauthenticate")
        assert client.get(reverse("admin:people_user_changelist")).status_code == 200  # reading needs no confirmation


def test_admin_changes_to_roles_chains_and_credentials_ask_to_confirm(governance: User) -> None:
    secret = with_totp(governance)
    client = Client()
    sign_in(client, governance, secret=secret)
    group = governance.groups.get()
    chain = ReviewChain.objects.get(is_default=True)
    urls = [
        reverse("admin:auth_group_change", args=[group.pk]),
        reverse("admin:approvals_reviewchain_change", args=[chain.pk]),
        reverse("admin:posts_account_add"),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    with later():
        for url in urls:
            assert where(client.get(url)) == reverse("account_reauthenticate"), url


# Lost factors ----------------------------------------------------------------------------------


def test_governance_removes_a_lost_factor_in_the_admin_without_seeing_its_secret(governance: User) -> None:
    officer = make_user("officer", roles.CONSENT_OFFICER)
    lost = with_totp(officer)
    RecoveryCodes.activate(officer)
    totp = Authenticator.objects.get(user=officer, type=Authenticator.Type.TOTP)
    client = Client()
    sign_in(client, governance, secret=with_totp(governance))
    change = client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk])).content.decode()
    assert "officer" in change and lost not in change
    response = client.post(reverse("admin:mfa_authenticator_delete", args=[totp.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=officer).exists()  # the recovery codes went with it
    event = AuditEvent.objects.get(action="user.two_factor_removed", object_id=str(officer.pk))
    assert event.actor == governance
    assert event.changes == {"types": ["totp", "recovery_codes"]}


# Passwords and e-mail addresses ------------------------------------------------------------------


def test_password_reset_by_email_sets_a_new_password_and_is_audited(editor: User, mailoutbox: Any) -> None:
    client = Client()
    client.post(reverse("account_reset_password"), {"email": "editor@example.org"})
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})  # no hint, no mail
    assert [message.to for message in mailoutbox] == [["editor@example.org"]]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    new = "Kardiologie-2026-Herbst!"
    response = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.check_password(new)
    event = AuditEvent.objects.get(action="user.password_changed", object_id=str(editor.pk))
    assert (event.actor, event.changes) == (editor, {"password": "changed"})


def test_changing_ones_own_password_is_audited(editor: User) -> None:
    client = Client()
    sign_in(client, editor)
    new = "Kardiologie-2026-Herbst!"
    response = client.post(
        reverse("account_change_password"), {"oldpassword": "pw", "password1": new, "password2": new}
    )
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.check_password(new)
    assert AuditEvent.objects.filter(action="user.password_changed", actor=editor).count() == 1
    assert client.get(reverse("posts:calendar")).status_code == 200  # still signed in


def test_people_do_not_manage_their_own_email_addresses(editor: User) -> None:
    client = Client()
    sign_in(client, editor)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "me@elsewhere.example"})
    assert where(response) == reverse("people:preferences")
    editor.refresh_from_db()
    assert editor.email == "editor@example.org"
