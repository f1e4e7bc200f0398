"""A refused form names its errors to a screen reader: each aria-describedby points at an element of the page."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_page_sweep import dangling_references

pytestmark = pytest.mark.django_db


def refused(user: Any, url: str, data: dict[str, Any]) -> str:
    client = Client()
    client.force_login(user)
    response = client.post(url, data)
    assert response.status_code in {200, 400, 409}, (url, response.status_code)
    return response.content.decode()


def test_the_forms_refused_with_errors_name_their_messages_by_id(
    editor: Any, governance: Any, officer: Any, campaign: Any, subject_factory: Any, accounts: list[Any]
) -> None:
    subject = subject_factory()
    pages = {
        "new post": refused(editor, reverse("posts:post_create"), {"campaign": campaign.pk, "link": "klinikum nord"}),
        "new campaign": refused(governance, reverse("posts:campaign_create"), {"name": "", "colour": "rot"}),
        "plan import": refused(editor, reverse("plans:import"), {"kind": "hootsuite"}),
        "new person": refused(officer, reverse("consent:subject_create"), {"display_name": ""}),
        "consent record": refused(officer, reverse("consent:record_create", args=[subject.pk]), {"signed_on": "x"}),
    }
    for name, html in pages.items():
        assert "_error" in html and 'aria-invalid="true"' in html, name  # the form was refused with field errors
        assert dangling_references(html) == [], name


def test_the_lists_ignoring_a_filter_name_why_by_id(editor: Any, governance: Any, officer: Any, campaign: Any) -> None:
    pages = {
        "publishing": (governance, reverse("publishing:publishing") + "?state=verschickt"),
        "consent registry": (officer, reverse("consent:registry") + "?state=bald"),
        "campaign": (editor, reverse("posts:campaign_detail", args=[campaign.pk]) + "?month=2026-13"),
    }
    for name, (user, url) in pages.items():
        client = Client()
        client.force_login(user)
        html = client.get(url).content.decode()
        assert "Ignored:" in html and 'aria-invalid="true"' in html, name
        assert dangling_references(html) == [], name
