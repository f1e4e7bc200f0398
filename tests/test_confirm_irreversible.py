"""Irreversible acts need the ticked "I understand …" box: without it the POST changes nothing and says why.

Revoke consent, Withdraw (a post, or a live post at re-certification), Delete on platform and
Declare crisis. Confirmed, each works as before (their own tests cover what it then does).
"""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.versions import version_of
from consent.models import ConsentRecord, ConsentState
from posts.models import ContentType, PostStatus

pytestmark = pytest.mark.django_db

CONFIRMED = {"confirm_irreversible": "yes"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response: Any) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


@pytest.fixture
def record(subject_factory: Any, record_factory: Any) -> ConsentRecord:
    return record_factory(subject_factory(display_name="Anna Example", reference="CASE-0042"))


@pytest.mark.parametrize("box", [{}, {"confirm_irreversible": ""}, {"confirm_irreversible": "on"}])
def test_unconfirmed_revocation_changes_nothing_and_says_why(
    officer2: Any, record: ConsentRecord, box: dict[str, str]
) -> None:
    events = AuditEvent.objects.count()
    data = {"received_via": "letter", "reason": "Rief an", "version": version_of(model=ConsentRecord, pk=record.pk)}

    response = client_for(officer2).post(reverse("consent:record_revoke", args=[record.pk]), {**data, **box})

    assert response.status_code == 400
    assert "tick this box" in str(response.context["revoke_form"].errors["confirm_irreversible"])
    assert "tick this box" in response.text
    record.refresh_from_db()
    assert record.state == ConsentState.ACTIVE and record.revoked_at is None
    assert AuditEvent.objects.count() == events


def test_confirmed_revocation_revokes(officer2: Any, record: ConsentRecord) -> None:
    page = client_for(officer2).get(reverse("consent:record_detail", args=[record.pk])).text
    assert 'name="confirm_irreversible"' in page and "required" in page.split('name="confirm_irreversible"')[1][:80]
    data = {"received_via": "letter", "version": version_of(model=ConsentRecord, pk=record.pk), **CONFIRMED}

    response = client_for(officer2).post(reverse("consent:record_revoke", args=[record.pk]), data)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == ConsentState.REVOKED
    assert AuditEvent.objects.filter(action="consent.revoked", object_id=str(record.pk)).exists()


def test_unconfirmed_withdrawal_changes_nothing_and_says_why(
    editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1])
    events = AuditEvent.objects.count()
    client = client_for(editor)
    assert 'id="withdraw-confirm"' in client.get(reverse("posts:post_detail", args=[post.pk])).text

    response = client.post(reverse("posts:post_withdraw", args=[post.pk]), {"reason": "Termin abgesagt"})

    assert response.status_code == 302
    assert "Nothing was changed" in said(response) and "“Withdraw” cannot be undone" in said(response)
    post.refresh_from_db()
    assert post.status != PostStatus.WITHDRAWN
    assert AuditEvent.objects.count() == events

    confirmed = client.post(reverse("posts:post_withdraw", args=[post.pk]), {"reason": "Termin abgesagt", **CONFIRMED})

    assert confirmed.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.WITHDRAWN


def test_unconfirmed_crisis_declaration_changes_nothing(
    governance: Any, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    post = post_factory(editor, campaign, targets=accounts[:1])
    events = AuditEvent.objects.count()
    client = client_for(governance)

    response = client.post(reverse("posts:post_crisis_declare", args=[post.pk]))

    assert "“Declare crisis” cannot be undone" in said(response)
    post.refresh_from_db()
    assert post.content_type != ContentType.CRISIS and post.crisis_declared_at is None
    assert AuditEvent.objects.count() == events

    client.post(reverse("posts:post_crisis_declare", args=[post.pk]), CONFIRMED)
    post.refresh_from_db()
    assert post.content_type == ContentType.CRISIS


def test_a_strangers_unconfirmed_withdrawal_is_still_not_found(
    other_editor: Any, editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)

    assert client_for(other_editor).post(reverse("posts:post_withdraw", args=[post.pk])).status_code == 404
