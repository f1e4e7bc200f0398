"""The editor's live findings endpoint: post-wide checks on unsaved input, for editors only, writing nothing."""

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from posts.models import POST_TEXT_MAX, Post
from posts.views import live
from tests.posts.test_editor_views import edit_data, form_data

URL = reverse("posts:findings")


@pytest.fixture(autouse=True)
def _fresh_rate_window() -> None:
    cache.clear()


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_patient_data_is_found_while_typing_and_nothing_is_written(
    client: Client, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    client.force_login(editor)
    body = "Danke an Frau K., geboren am 03.04.1961! Rückfragen gern unter +49 40 1234 5678. 💓"
    events, posts = AuditEvent.objects.count(), Post.objects.count()

    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, form_data(campaign, accounts[1:2], body=body))

    assert response.status_code == 200
    assert 'data-finding="patient_data_birth_date"' in response.text
    assert "The text contains what may be a date of birth (03.04.1961)." in response.text
    assert 'data-finding="patient_data_phone"' in response.text
    assert "+49 40 1234 5678" in response.text
    assert _writes(queries) == []
    assert (AuditEvent.objects.count(), Post.objects.count()) == (events, posts)
    # A platform with nothing of its own to say (Facebook, no image needed) does not say "no
    # problems" under the patient data found in the whole post.
    on_facebook = client.post(URL, form_data(campaign, accounts[:1], body=body)).text
    assert "No problems found." not in on_facebook
    assert "Nothing more for this platform: see the findings for the whole post above." in on_facebook

    clean = client.post(URL, form_data(campaign, accounts[:1], body="Tag der offenen Tür am Samstag, 10–16 Uhr."))
    assert "No problems found." in clean.text and "Nothing more for this platform" not in clean.text


def test_claims_and_the_patient_story_rule_are_found_before_saving(
    client: Client, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    client.force_login(editor)
    body = "Eine Studie zeigt: Bewegung senkt das Risiko eines Herzinfarkts um 30 %."

    response = client.post(URL, form_data(campaign, accounts[:1], body=body, content_type="patient_story"))

    assert 'data-finding="sources_missing"' in response.text
    assert 'data-finding="no_featured_person"' in response.text
    assert "A patient story must name the person it features, with their consent." in response.text


def test_a_featured_persons_consent_revoked_is_an_error_while_typing(
    client: Client,
    editor: Any,
    officer: Any,
    campaign: Any,
    accounts: list[Any],
    subject_factory: Any,
    record_factory: Any,
) -> None:
    from consent.services import consent_revoke

    anna = subject_factory(display_name="Anna Berger", reference="CASE-0815")
    record = record_factory(anna)
    client.force_login(editor)
    data = form_data(
        campaign,
        accounts[:1],
        body="Anna Berger erzählt von ihrer Reha.",
        featured_subject_0="CASE-0815",
        featured_consent_0=str(record.pk),
        featured_kinds_0=["name", "story"],
    )

    valid = client.post(URL, data)
    assert "patient_data_name" not in valid.text  # she is featured with consent
    assert "finding-error" not in valid.text

    consent_revoke(record=record, actor=officer, received_via="letter", reason="Changed her mind")
    revoked = client.post(URL, data)
    # The picker offers no revoked consent: for a new post it is as if none were linked.
    assert 'class="finding-error" data-finding="no_consent"' in revoked.text
    assert "No consent is linked for this person." in revoked.text


def test_a_saved_posts_claim_out_of_the_unsaved_text_is_found(
    client: Client, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    from posts.claims import claim_add

    post = post_factory(editor, campaign, targets=accounts[:1], body="Händewaschen senkt das Risiko. Danke!")
    claim_add(post=post, actor=editor, passage="Händewaschen senkt das Risiko.")
    client.force_login(editor)
    events = AuditEvent.objects.count()

    response = client.post(URL, {**edit_data(post, body="Danke!"), "post": post.pk})

    assert response.status_code == 200
    assert 'data-finding="claim_passage_missing"' in response.text
    assert AuditEvent.objects.count() == events
    post.refresh_from_db()
    assert post.body == "Händewaschen senkt das Risiko. Danke!"


def test_only_editors_of_the_campaign_or_post_are_answered(
    client: Client,
    editor: Any,
    viewer: Any,
    other_editor: Any,
    campaign: Any,
    campaign_factory: Any,
    accounts: list[Any],
    post_factory: Any,
) -> None:
    campaign_factory(other_editor, name="Other ward")
    post = post_factory(editor, campaign, targets=accounts[:1])
    body = "Ruf an: 0170/123 45 67"
    events = AuditEvent.objects.count()

    client.force_login(viewer)
    assert client.post(URL, form_data(campaign, accounts[:1], body=body)).status_code == 403
    assert client.post(URL, {**edit_data(post, body=body), "post": post.pk}).status_code in (403, 404)

    client.force_login(other_editor)  # an editor, but of another campaign
    refused = client.post(URL, form_data(campaign, accounts[:1], body=body))
    assert refused.status_code == 403
    assert "0170" not in refused.text
    assert client.post(URL, {**edit_data(post, body=body), "post": post.pk}).status_code == 404

    client.logout()
    assert client.post(URL, form_data(campaign, accounts[:1], body=body)).status_code == 302
    assert AuditEvent.objects.count() == events


def test_a_post_the_editor_may_no_longer_edit_is_refused(
    client: Client, editor: Any, campaign: Any, accounts: list[Any], post_factory: Any
) -> None:
    from posts.services import post_withdraw

    post = post_factory(editor, campaign, targets=accounts[:1])
    post_withdraw(post=post, actor=editor)
    client.force_login(editor)

    assert client.post(URL, {**edit_data(post), "post": post.pk}).status_code == 403


def test_the_endpoint_needs_the_csrf_token(editor: Any, campaign: Any, accounts: list[Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(URL, form_data(campaign, accounts[:1])).status_code == 403
    client.get(reverse("posts:post_create"))
    token = client.cookies["csrftoken"].value
    answered = client.post(URL, form_data(campaign, accounts[:1]), HTTP_X_CSRFTOKEN=token)
    assert answered.status_code == 200


def test_input_longer_than_the_form_allows_is_refused_unread(
    client: Client, editor: Any, campaign: Any, accounts: list[Any]
) -> None:
    client.force_login(editor)
    events = AuditEvent.objects.count()
    facebook = accounts[0]

    assert client.post(URL, form_data(campaign, [facebook], body="a" * (POST_TEXT_MAX + 1))).status_code == 413
    overlong_override = form_data(campaign, [facebook], **{f"override_{facebook.pk}": "ü" * (POST_TEXT_MAX + 1)})
    assert client.post(URL, overlong_override).status_code == 413
    assert client.post(URL, form_data(campaign, [facebook], title="t" * 201)).status_code == 413
    assert client.post(URL, form_data(campaign, [facebook], body="a" * POST_TEXT_MAX)).status_code == 200
    assert AuditEvent.objects.count() == events


def test_more_requests_than_anyone_types_are_refused_for_a_while(
    client: Client, editor: Any, campaign: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(live, "RATE_LIMIT", 3)
    client.force_login(editor)
    answers = [client.post(URL, form_data(campaign)).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]


@pytest.mark.parametrize(
    "hostile",
    [
        {"post": "abc"},
        {"post": "0"},
        {"post": "9" * 40},
        {"campaign": "-1"},
        {"campaign": "1 OR 1=1"},
        {"body": "Anruf\x00 0170 1234567 \u202egeb. 01.02.1960"},
        {"scheduled_date": "9999-12-31", "scheduled_time": "23:59", "time_zone": "Pacific/Kiritimati"},
        {"scheduled_date": "2026-03-29", "scheduled_time": "02:30", "time_zone": "../../etc/passwd"},
        {"featured_subject_0": "x" * 5000, "featured_consent_0": "9" * 40, "featured_kinds_0": ["<script>"]},
        {"featured_subject_19": "CASE-0001", "featured_consent_19": "１２"},
        {"new_media_0_format": "image/png", "new_media_0_width": "-5", "new_media_0_height": "1e9"},
        {"link": "javascript:alert(1)", "hashtags": "#" * 2000},
    ],
)
def test_hostile_input_is_answered_without_error_or_trace(
    client: Client, editor: Any, campaign: Any, accounts: list[Any], hostile: dict[str, Any]
) -> None:
    client.force_login(editor)
    events = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {**form_data(campaign, accounts), **hostile})

    assert response.status_code in (200, 403, 404, 413)
    assert "<script>" not in response.text
    assert "javascript:" not in response.text
    assert _writes(queries) == []
    assert AuditEvent.objects.count() == events
