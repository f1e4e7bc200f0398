"""The demo data fills every role's "Needs attention" with what it seeds: failures, blocks, takedowns, reviews."""

from typing import Any

import pytest
from django.test import Client

from people.models import User
from tests.demo_data import _media_root, demo_data, demo_folders  # noqa: F401  (fixtures)
from tests.home.test_home_views import nav_total, publishing_badge, sections

# One worker runs the module: the demo (a module fixture) is seeded once, not on each worker.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data"), pytest.mark.xdist_group("home-demo")]


def home_of(username: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("editor", {"sent_back", "publications", "takedowns"}),
        ("medical", {"reviews"}),
        ("legal", {"reviews"}),
        ("comms", {"publications", "takedowns"}),
        ("consent", {"consents", "reconsents"}),
    ],
)
def test_each_demo_role_finds_what_waits_on_it(username: str, expected: set[str]) -> None:
    html = home_of(username)
    shown = sections(html)
    assert expected <= set(shown), shown
    assert nav_total(html) == sum(shown.values())
    if "publications" in expected:
        assert publishing_badge(html) == shown["publications"] + shown["takedowns"]
    assert "Nothing needs your attention" not in html


@pytest.mark.parametrize("username", ["viewer", "governance"])
def test_readers_of_the_demo_have_nothing_to_act_on_but_their_notices(username: str, settings: Any) -> None:
    assert set(sections(home_of(username))) <= {"notices"}
