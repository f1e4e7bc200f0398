"""Seeded stage, chain and role names are shown in the reader's language; renamed ones as typed."""

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from approvals.models import ReviewChain, ReviewStage
from people import roles


def german_client(user: Any) -> Client:
    user.language = "de"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_a_german_reviewer_reads_the_seeded_stage_and_role_names_in_german(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    client = german_client(reviewers["medical"])
    inbox = client.get(reverse("approvals:inbox")).content.decode()
    assert "Medizinische Prüfung" in inbox
    assert "Medical review" not in inbox
    page = client.get(reverse("posts:post_detail", args=[submitted_post.pk])).content.decode()
    for german in ("Medizinische Prüfung", "Rechtliche Prüfung", "Medizin ·", "Recht ·", "Kommunikation ·"):
        assert german in page, german
    assert 'data-stage="Medical review"' in page  # the hooks scripts and tests use keep the stored name
    assert "Medical reviewer ·" not in page
    # The data stays English: the group is still found by its name, the round's event names the stage as stored.
    assert Group.objects.filter(name=roles.MEDICAL_REVIEWER).exists()
    assert ReviewStage.objects.filter(name="Medical review").exists()


def test_a_renamed_stage_and_chain_are_shown_as_typed(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    stage = ReviewStage.objects.get(chain__is_default=True, position=1)
    stage.name = "Ärztliche Freigabe (Kardiologie)"
    stage.save(update_fields=["name"])
    ReviewChain.objects.filter(pk=stage.chain_id).update(name="Herzzentrum")
    client = german_client(reviewers["medical"])
    page = client.get(reverse("posts:post_detail", args=[submitted_post.pk])).content.decode()
    assert "Ärztliche Freigabe (Kardiologie)" in page
    assert "Herzzentrum" in page
    assert "Medizinische Prüfung" not in page


def test_an_english_reader_sees_the_english_names(submitted_post: Any, reviewers: dict[str, Any]) -> None:
    client = Client()
    client.force_login(reviewers["medical"])
    page = client.get(reverse("posts:post_detail", args=[submitted_post.pk])).content.decode()
    assert "Medical review" in page
    assert "Medical reviewer ·" in page
    assert "Medizinische Prüfung" not in page


def test_a_german_reader_sees_the_signers_role_in_german_and_the_decision_keeps_it_english(
    submitted_post: Any, reviewers: dict[str, Any]
) -> None:
    from approvals.models import Decision
    from tests.approvals.test_views import decide

    client = german_client(reviewers["medical"])
    response = decide(client, submitted_post, "approve")
    assert response.status_code == 302
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert "Sie haben „Medizinische Prüfung“ freigegeben." in messages, messages
    page = client.get(reverse("posts:post_detail", args=[submitted_post.pk])).content.decode()
    assert "Freigegeben als Medizin" in page
    assert "Approved as Medical reviewer" not in page
    assert Decision.objects.get().signer_role == "Medical reviewer"
