"""Repeated failed log-ins lock the username and the address (django-axes); Governance unlocks; both are audited."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from people import roles
from people.lockout import client_ip, login_username
from people.models import User
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WARD = "10.20.0.7"
HOME = "192.0.2.44"


def log_in(client: Client, username: str, password: str, *, ip: str, **extra: str) -> Any:
    return client.post(reverse("login"), {"login": username, "password": password}, REMOTE_ADDR=ip, **extra)


def logged_in_as(client: Client) -> str:
    """Return the username the client's session belongs to ("" if none)."""
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else ""


def fail(client: Client, username: str, times: int, *, ip: str) -> list[int]:
    return [log_in(client, username, f"wrong-{n}", ip=ip).status_code for n in range(times)]


def test_five_wrong_passwords_then_the_right_one_is_refused() -> None:
    make_user("anna.schmidt")
    make_user("jonas")
    client = Client()

    with time_machine.travel(NOW, tick=False):
        statuses = fail(client, "anna.schmidt", 5, ip=WARD)
        refused = log_in(client, "anna.schmidt", "pw", ip=WARD)
        from_elsewhere = log_in(Client(), "anna.schmidt", "pw", ip=HOME)
        other = Client()
        jonas = log_in(other, "jonas", "pw", ip=HOME)
        # Inside the travel: a session ends 12 hours after its log-in.
        who = logged_in_as(client), logged_in_as(other)

    assert statuses == [200, 200, 200, 200, 429]
    assert refused.status_code == 429
    assert from_elsewhere.status_code == 429  # the username is locked wherever it comes from
    assert jonas.status_code == 302
    assert who == ("", "jonas")


def test_four_wrong_passwords_then_the_right_one_logs_in() -> None:
    make_user("anna.schmidt")
    client = Client()

    statuses = fail(client, "anna.schmidt", 4, ip=WARD)
    response = log_in(client, "anna.schmidt", "pw", ip=WARD)

    assert statuses == [200] * 4
    assert response.status_code == 302
    assert logged_in_as(client) == "anna.schmidt"


def test_an_address_is_locked_across_usernames() -> None:
    make_user("jonas")
    client = Client()

    for name in ["anna", "ben", "carla", "dieter", "emil"]:
        log_in(client, name, "pw-guess", ip=WARD)
    same_address = log_in(client, "jonas", "pw", ip=WARD)
    other_address = log_in(Client(), "jonas", "pw", ip=HOME)

    assert same_address.status_code == 429
    assert logged_in_as(client) == ""
    assert other_address.status_code == 302


def test_case_and_a_forwarded_header_do_not_escape_the_lock() -> None:
    make_user("anna.schmidt")
    client = Client()

    for n, name in enumerate(["Anna.Schmidt", "ANNA.SCHMIDT", "anna.schmidt", "Anna.schmidt", "anna.Schmidt"]):
        log_in(client, name, "wrong", ip=WARD, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = log_in(Client(), "anna.schmidt", "pw", ip=HOME)

    assert response.status_code == 429
    # No proxy header is trusted unless one is named: every attempt counted under REMOTE_ADDR.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {WARD, HOME}


def test_the_lock_ends_after_the_cool_off() -> None:
    make_user("anna.schmidt")
    client = Client()

    with time_machine.travel(NOW, tick=False):
        fail(client, "anna.schmidt", 5, ip=WARD)
    with time_machine.travel(NOW + dt.timedelta(minutes=settings.ROUNDS_LOGIN_COOLOFF_MINUTES - 1), tick=False):
        still_locked = log_in(client, "anna.schmidt", "pw", ip=WARD)
    # The refused attempt above started the wait again.
    with time_machine.travel(NOW + dt.timedelta(minutes=2 * settings.ROUNDS_LOGIN_COOLOFF_MINUTES), tick=False):
        later = log_in(client, "anna.schmidt", "pw", ip=WARD)
        who = logged_in_as(client)

    assert still_locked.status_code == 429
    assert later.status_code == 302
    assert who == "anna.schmidt"


def test_limit_and_cool_off_are_settings(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    make_user("anna.schmidt")

    assert fail(Client(), "anna.schmidt", 2, ip=WARD) == [200, 429]


def test_the_lockout_page_is_in_the_site_layout_and_says_what_to_do() -> None:
    make_user("anna.schmidt")
    client = Client()

    fail(client, "anna.schmidt", 5, ip=WARD)
    page = log_in(client, "anna.schmidt", "pw", ip=WARD).content.decode()

    assert "Log-in locked" in page
    assert "Try again in 30 minutes" in page
    assert "ask Governance" in page
    assert 'class="topbar"' in page  # base.html


def test_a_lock_is_audited_once_when_it_begins() -> None:
    anna = make_user("Anna.Schmidt")
    client = Client()

    fail(client, "anna.schmidt", 7, ip=WARD)

    events = list(AuditEvent.objects.filter(action="login.locked_out"))
    assert len(events) == 1
    event = events[0]
    assert (event.object_type, event.object_id) == ("people.user", str(anna.pk))
    assert event.changes["username"] == "Anna.Schmidt"
    assert event.changes["ip_address"] == WARD
    assert sorted(event.changes["locked"]) == ["ip_address", "username"]
    assert event.actor_repr == "system"


def test_a_lock_of_an_unknown_name_keeps_the_name_out_of_the_trail() -> None:
    client = Client()
    typed = "Summer2026!Password"  # a password typed into the username field

    fail(client, typed, 5, ip=WARD)

    event = AuditEvent.objects.get(action="login.locked_out")
    assert event.object_type == "axes.accessattempt"
    assert event.changes["username"] == ""
    assert typed.lower() not in str(event.changes) + event.object_repr


def test_governance_unlocks_in_the_admin_and_the_unlock_is_audited(governance: User) -> None:
    anna = make_user("anna.schmidt")
    fail(Client(), "anna.schmidt", 5, ip=WARD)
    staff = Client()
    staff.force_login(governance)
    changelist = reverse("admin:axes_accessattempt_changelist")

    page = staff.get(changelist)
    response = staff.post(
        changelist,
        {"action": "unlock", "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)), "index": 0},
    )
    client = Client()
    after = log_in(client, "anna.schmidt", "pw", ip=WARD)

    assert page.status_code == 200
    assert b"anna.schmidt" in page.content
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert after.status_code == 302
    assert logged_in_as(client) == "anna.schmidt"
    event = AuditEvent.objects.get(action="login.unlocked")
    assert event.actor == governance
    assert (event.object_type, event.object_id) == ("people.user", str(anna.pk))
    assert event.changes["failures"] == 5


def test_deleting_an_attempt_in_the_admin_unlocks_through_the_service(governance: User) -> None:
    make_user("anna.schmidt")
    fail(Client(), "anna.schmidt", 5, ip=WARD)
    attempt = AccessAttempt.objects.get()
    staff = Client()
    staff.force_login(governance)

    response = staff.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(action="login.unlocked", actor=governance).count() == 1


def test_only_governance_may_unlock(editor: User) -> None:
    fail(Client(), "anna.schmidt", 5, ip=WARD)
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    staff = Client()
    staff.force_login(editor)

    page = staff.get(reverse("admin:axes_accessattempt_changelist"))

    assert page.status_code == 403
    assert AccessAttempt.objects.count() == 1
    assert User.objects.get(pk=editor.pk).has_perm("axes.delete_accessattempt") is False
    assert "axes.delete_accessattempt" in roles.ROLE_PERMISSIONS[roles.GOVERNANCE]


def test_the_username_is_read_from_django_and_allauth_forms() -> None:
    make_user("anna.schmidt")
    factory = RequestFactory()

    assert login_username(factory.post("/", {"username": "Anna.Schmidt"})) == "anna.schmidt"
    assert login_username(factory.post("/", {"login": "Anna.Schmidt"})) == "anna.schmidt"
    # django-allauth authenticates by address as email=...: it counts as the person's username.
    assert login_username(factory.post("/"), {"username": None, "email": "ANNA.SCHMIDT@example.org"}) == "anna.schmidt"
    assert login_username(factory.post("/"), {"email": "nobody@example.org"}) == "nobody@example.org"
    assert login_username(factory.post("/", {"login": "  "})) is None


def test_the_address_is_remote_addr_unless_a_proxy_header_is_named(settings: Any) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.3")

    assert client_ip(request) == "10.0.0.2"
    settings.ROUNDS_CLIENT_IP_HEADER = "X-Forwarded-For"
    assert client_ip(request) == "198.51.100.3"  # the right-most: what the proxy saw
    garbled = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(garbled) == "10.0.0.2"


def test_behind_a_named_proxy_header_each_client_is_counted_apart(settings: Any) -> None:
    settings.ROUNDS_CLIENT_IP_HEADER = "X-Forwarded-For"
    make_user("jonas")
    proxy = "10.0.0.2"

    for name in ["anna", "ben", "carla", "dieter", "emil"]:
        log_in(Client(), name, "guess", ip=proxy, HTTP_X_FORWARDED_FOR=WARD)
    locked = log_in(Client(), "jonas", "pw", ip=proxy, HTTP_X_FORWARDED_FOR=WARD)
    fine = log_in(Client(), "jonas", "pw", ip=proxy, HTTP_X_FORWARDED_FOR=f"{WARD.rsplit('.', 1)[0]}.8")

    assert locked.status_code == 429
    assert fine.status_code == 302


def test_a_ward_behind_one_address_logs_in_together_at_shift_change() -> None:
    nurses = [make_user(f"nurse.{n}") for n in range(40)]
    with time_machine.travel(NOW, tick=False):
        answers = [log_in(Client(), nurse.username, "pw", ip=WARD).status_code for nurse in nurses]
    assert answers == [302] * 40  # no throttle on log-ins as such; only failures count (axes)
