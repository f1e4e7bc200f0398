"""Where things live: the demo data in its own app, which may use every other app."""

from django.core.management import get_commands


def test_seed_demo_belongs_to_the_demo_app() -> None:
    assert get_commands()["seed_demo"] == "demo"
