"""English words stored as data are shown in the reader's language; the stored data stays English."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from consent.gate import PLATFORM_MESSAGE, REVOKED_MESSAGE
from core.i18n import StoredMessage, display_name, message_display
from people import roles
from posts.models import PostStatus
from posts.services import post_transition
from publishing.connectors.messages import HTTP_STATUS, NO_ANSWER_REPEATABLE, NO_VIDEOS_X, VIDEO_UNREADABLE
from publishing.models import Publication
from publishing.models import PublicationStatus as P
from publishing.services import LOOKUP_FAILED, NOT_SENT_LATE, publication_transition


@pytest.fixture
def german() -> Iterator[None]:
    with translation.override("de"):
        yield


@pytest.mark.usefixtures("german")
def test_a_default_name_is_translated_and_any_other_name_shown_as_typed() -> None:
    assert display_name(roles.MEDICAL_REVIEWER) == "Medizin"
    assert display_name("Medical review") == "Medizinische Prüfung"
    assert display_name("Ärztliche Freigabe (Kardiologie)") == "Ärztliche Freigabe (Kardiologie)"
    # A name that only happens to be a catalogue entry is not a registered default: as typed.
    assert display_name("Preview") == "Preview"


def test_a_registered_default_follows_the_active_language() -> None:
    with translation.override("en"):
        assert display_name("Expedited (crisis)") == "Expedited (crisis)"
    with translation.override("de"):
        assert display_name("Expedited (crisis)") == "Beschleunigt (Krise)"


def test_a_stored_message_is_stored_in_english_whatever_the_language() -> None:
    with translation.override("de"):
        stored = NOT_SENT_LATE.english(minutes=12)
    assert stored == "Not sent: 12 minutes late. Retry publishing, or withdraw the post."


@pytest.mark.usefixtures("german")
def test_a_stored_message_is_shown_translated_with_its_fields() -> None:
    stored = NOT_SENT_LATE.english(minutes=12)
    assert message_display(stored) == (
        "Nicht gesendet: 12 Minuten verspätet. Veröffentlichen Sie erneut oder ziehen Sie den Beitrag zurück."
    )
    # A platform's own words inside a message stay as the platform sent them.
    assert message_display(HTTP_STATUS.english(status=500, message="Internal error")) == (
        HTTP_STATUS.shown(status=500, message="Internal error")
    )
    unreadable = VIDEO_UNREADABLE.english(name="Visite (1).mp4", error="[Errno 2] No such file")
    assert message_display(unreadable) == "Das Video Visite (1).mp4 ist nicht lesbar: [Errno 2] No such file"


@pytest.mark.usefixtures("german")
def test_several_joined_messages_are_each_translated() -> None:
    """A blocked publication stores its reasons joined by spaces."""
    stored = " ".join([REVOKED_MESSAGE.english(), PLATFORM_MESSAGE.english(platform="tiktok")])
    assert message_display(stored) == (
        "Die Einwilligung wurde widerrufen. Die Einwilligung umfasst die Plattform tiktok nicht."
    )


@pytest.mark.usefixtures("german")
def test_unknown_text_and_a_message_ending_in_a_field_inside_other_text_stay_as_stored() -> None:
    assert message_display("Le serveur a répondu 503") == "Le serveur a répondu 503"
    assert message_display("") == ""
    assert message_display(None) == ""
    # "HTTP %(status)s: %(message)s" inside a longer text has no end to find: left alone.
    text = "Proxy said: HTTP 502: bad gateway, see log"
    assert message_display(text) == text


def test_a_template_field_never_matches_across_the_template_text() -> None:
    message = StoredMessage("Rounds test: %(a)s and %(b)s.")
    with translation.override("de"):
        assert message.translate_in("Rounds test: x and y and z.") == "Rounds test: x and y and z."


def test_every_stored_message_template_is_in_the_german_catalogue() -> None:
    """The translators' delta pass: a stored message without a translation would stay English."""
    catalogue = trans_real.translation("de")._catalog  # type: ignore[attr-defined]
    untranslated = [
        message.template
        for message in StoredMessage.registry
        if not message.template.startswith("Rounds test") and message.template not in catalogue
    ]
    assert not untranslated, untranslated
    assert NO_VIDEOS_X in StoredMessage.registry


@pytest.mark.django_db
def test_a_failed_publication_reads_german_and_stays_english_in_the_database(
    client: Any, editor: Any, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign, targets=[account_factory("instagram")], body="Gesundheitstag – İstanbul 🏥")
    with transaction.atomic():
        for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED):
            post_transition(post=post, to=status, actor=editor, reason="history for the test")
    publication = Publication.objects.get(post=post)
    with transaction.atomic(), translation.override("de"):
        publication_transition(
            publication=publication,
            to=P.OVERDUE,
            reason="test",
            fields={"last_error": NOT_SENT_LATE.english(minutes=7)},
        )
    editor.language = "de"
    editor.save(update_fields=["language"])
    client.force_login(editor)
    page = client.get(reverse("publishing:publishing")).content.decode()
    assert "Nicht gesendet: 7 Minuten verspätet." in page
    assert "Not sent: 7 minutes late." not in page
    publication.refresh_from_db()
    assert publication.last_error == "Not sent: 7 minutes late. Retry publishing, or withdraw the post."


@pytest.mark.usefixtures("german")
def test_a_stored_message_inside_another_ones_field_is_translated_too() -> None:
    stored = LOOKUP_FAILED.english(error=NO_ANSWER_REPEATABLE.english(error="TimeoutError()"))
    shown = message_display(stored)
    assert "Keine Antwort auf eine wiederholbare Anfrage: TimeoutError()" in shown
    assert shown == LOOKUP_FAILED.shown(error="Keine Antwort auf eine wiederholbare Anfrage: TimeoutError()")
    assert shown != LOOKUP_FAILED.shown(error=NO_ANSWER_REPEATABLE.english(error="TimeoutError()"))


def test_a_stored_message_read_again_follows_the_language_it_is_read_in() -> None:
    # Kept per text and language: the German reading of a text never answers an English reader.
    stored = NOT_SENT_LATE.english(minutes=12)
    readings = []
    for language in ["de", "en", "de", "ja", "en"]:
        with translation.override(language):
            readings.append((language, message_display(stored)))
    with translation.override("de"):
        german = NOT_SENT_LATE.shown(minutes=12)
    with translation.override("ja"):
        japanese = NOT_SENT_LATE.shown(minutes=12)
    assert readings == [("de", german), ("en", stored), ("de", german), ("ja", japanese), ("en", stored)]
    assert len({german, japanese, stored}) == 3
