"""The consent's default recipients: offered in the officer's language, stored in English, shown in each reader's."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from consent.models import DEFAULT_RECIPIENTS, ConsentRecord, Subject
from tests.consent.test_views import record_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(subject_factory: Any) -> Subject:
    return subject_factory(display_name="Ayşe Yılmaz")


GERMAN_DEFAULT = "Die Öffentlichkeit, über die aufgeführten Social-Media-Konten"


def german_client(user: Any) -> Client:
    user.language = "de"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_a_german_officer_gets_the_default_in_german_and_it_is_stored_in_english(
    officer: Any, officer2: Any, subject: Subject
) -> None:
    client = german_client(officer)
    form = client.get(reverse("consent:record_create", args=[subject.pk])).content.decode()
    assert f'value="{GERMAN_DEFAULT}"' in form
    response = client.post(reverse("consent:record_create", args=[subject.pk]), record_post(recipients=GERMAN_DEFAULT))
    assert response.status_code == 302
    record = ConsentRecord.objects.get()
    assert record.recipients == DEFAULT_RECIPIENTS == "The public, through the listed social media accounts"
    assert (
        GERMAN_DEFAULT
        in german_client(officer2).get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    )
    english = Client()
    english.force_login(officer)
    officer.language = "en"
    officer.save(update_fields=["language"])
    page = english.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
    assert DEFAULT_RECIPIENTS in page
    assert GERMAN_DEFAULT not in page


def test_recipients_typed_by_the_officer_are_stored_and_shown_as_typed(officer: Any, subject: Subject) -> None:
    typed = "Die Öffentlichkeit und die Mitarbeiterzeitung „Nordlicht“"
    client = german_client(officer)
    client.post(reverse("consent:record_create", args=[subject.pk]), record_post(recipients=typed))
    record = ConsentRecord.objects.get()
    assert record.recipients == typed
    assert typed in client.get(reverse("consent:record_detail", args=[record.pk])).content.decode()
