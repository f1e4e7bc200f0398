"""A session ends after ROUNDS_SESSION_IDLE_MINUTES without a request and ROUNDS_SESSION_MAX_HOURS after log-in."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from people.middleware import SESSION_ACTIVITY, SESSION_STARTED
from people.models import User
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# Ahead of the real clock: a session made at a travelled time must not have ended by the real one.
START = dt.datetime(2031, 5, 6, 7, 30, tzinfo=dt.UTC)
CALENDAR = "posts:calendar"


def at(minutes: float) -> Any:
    return time_machine.travel(START + dt.timedelta(minutes=minutes), tick=False)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def production_limits(settings: Any) -> None:
    # The test settings lift the limits for every other test (they jump the clock with people logged in).
    settings.ROUNDS_SESSION_IDLE_MINUTES = 30
    settings.ROUNDS_SESSION_MAX_HOURS = 12
    settings.SESSION_COOKIE_AGE = 12 * 3600


@pytest.fixture
def nurse_client(db: None) -> Client:
    make_user("nurse.pia")
    client = Client()
    with at(0):
        response = client.post(reverse("login"), {"login": "nurse.pia", "password": "pw"})
    assert response.status_code == 302
    return client


def test_a_request_after_31_idle_minutes_logs_out_and_says_why(nurse_client: Client) -> None:
    with at(31):
        response = nurse_client.get(reverse(CALENDAR))
        still = logged_in(nurse_client)
        login_page = nurse_client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse(CALENDAR)}"
    assert still is False
    assert "logged out after 30 minutes without activity" in login_page.content.decode()


def test_activity_keeps_the_session_alive(nurse_client: Client) -> None:
    for minutes in (20, 45, 70, 99):
        with at(minutes):
            response = nurse_client.get(reverse(CALENDAR))
            assert response.status_code == 200, minutes


def test_a_session_ends_twelve_hours_after_log_in_however_active(nurse_client: Client) -> None:
    minutes = 0.0
    while minutes < 12 * 60 - 20:
        minutes += 20
        with at(minutes):
            assert nurse_client.get(reverse(CALENDAR)).status_code == 200, minutes
    with at(12 * 60 + 1):
        response = nurse_client.get(reverse(CALENDAR))
        still = logged_in(nurse_client)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert still is False


def test_a_session_begun_over_twelve_hours_ago_is_ended_with_a_message(nurse_client: Client) -> None:
    # A session whose stored end lies later (one from before these limits, or a changed setting)
    # is still ended by the middleware, which says why.
    with at(0):
        session = nurse_client.session
        session.set_expiry(dt.timedelta(days=14))
        session[SESSION_STARTED] = (START - dt.timedelta(hours=12)).timestamp()
        session.save()
    with at(1):
        response = nurse_client.get(reverse(CALENDAR))
        still = logged_in(nurse_client)
        login_page = nurse_client.get(response["Location"])

    assert response.status_code == 302
    assert still is False
    assert "a session lasts at most 12 hours" in login_page.content.decode()


def test_the_stored_session_expires_twelve_hours_after_log_in(nurse_client: Client) -> None:
    with at(25):
        nurse_client.get(reverse(CALENDAR))  # activity writes the session; its end must not move

    stored = Session.objects.get(session_key=nurse_client.session.session_key)
    assert stored.expire_date == START + dt.timedelta(hours=12)


def test_the_activity_time_is_written_at_most_once_a_minute(nurse_client: Client) -> None:
    with at(5):
        nurse_client.get(reverse(CALENDAR))
        first = nurse_client.session[SESSION_ACTIVITY]
    with at(5.5):
        nurse_client.get(reverse(CALENDAR))
        unchanged = nurse_client.session[SESSION_ACTIVITY]
    with at(6.1):
        nurse_client.get(reverse(CALENDAR))
        moved = nurse_client.session[SESSION_ACTIVITY]

    assert first == (START + dt.timedelta(minutes=5)).timestamp()
    assert unchanged == first
    assert moved == (START + dt.timedelta(minutes=6.1)).timestamp()


def test_the_limits_are_settings(nurse_client: Client, settings: Any) -> None:
    settings.ROUNDS_SESSION_IDLE_MINUTES = 5

    with at(6):
        response = nurse_client.get(reverse(CALENDAR))

    assert response.status_code == 302


def test_an_idle_post_is_sent_to_the_login_page_without_next(nurse_client: Client) -> None:
    zone = User.objects.get(username="nurse.pia").time_zone
    assert zone != "America/Lima"
    with at(40):
        response = nurse_client.post(reverse("people:preferences"), {"time_zone": "America/Lima", "language": "en"})

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert User.objects.get(username="nurse.pia").time_zone == zone  # not saved
