"""The takedown list: publications whose consent ended, until a person confirms they are gone."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from consent.services import consent_revoke
from people import roles
from posts.models import Post, PostStatus
from posts.services import FeatureSpec, campaign_update, post_transition, post_update
from publishing.models import Publication, TakedownCause, TakedownItem
from publishing.services import publications_for_user
from publishing.takedowns import takedown_confirm
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def takedown(
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
) -> TakedownItem:
    anna = subject_factory(display_name="Anna Berger")
    record = record_factory(anna)
    post = post_factory(editor, campaign, targets=[account_factory("facebook")], title="Anna's story")
    post_update(post=post, actor=editor, featured=[FeatureSpec(subject=anna, consent=record, media_kinds=("story",))])
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED):
            post_transition(post=locked, to=status, actor=editor, reason="history for the test")
    consent_revoke(record=record, actor=officer, received_via="letter")
    return TakedownItem.objects.get()


def test_communications_not_assigned_to_the_campaign_neither_sees_nor_confirms_its_takedown(
    client: Any, takedown: TakedownItem, editor: Any, campaign_factory: Any
) -> None:
    """Issue 13: Communications saw and acted on every campaign's takedowns and publications."""
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    campaign_factory(editor, name="Andere Kampagne", reviewers=[comms])  # on another campaign only
    client.force_login(comms)

    page = client.get(reverse("publishing:publishing")).content.decode()
    assert "Anna Berger" not in page and "Anna" not in page
    response = client.post(reverse("publishing:takedown_confirm", args=[takedown.pk]))

    assert response.status_code in {403, 404}
    takedown.refresh_from_db()
    assert takedown.confirmed_at is None
    with pytest.raises(PermissionDenied):
        takedown_confirm(item=takedown, actor=comms)
    publication = Publication.objects.filter(post=takedown.post).first()
    assert publication is None or not publications_for_user(user=comms).filter(pk=publication.pk).exists()


def test_communications_sees_and_confirms_a_takedown(client: Any, takedown: TakedownItem, editor: Any) -> None:
    comms = make_user("comms", roles.COMMUNICATIONS_REVIEWER)
    campaign_update(campaign=takedown.post.campaign, actor=editor, data={}, reviewers=[comms])
    client.force_login(comms)

    page = client.get(reverse("publishing:publishing")).content.decode()
    assert "Anna&#x27;s story" in page or "Anna's story" in page
    assert "Anna Berger" in page

    response = client.post(reverse("publishing:takedown_confirm", args=[takedown.pk]))

    assert response.status_code == 302
    takedown.refresh_from_db()
    assert takedown.confirmed_by == comms
    assert AuditEvent.objects.filter(action="takedown.confirmed", object_id=str(takedown.pk)).count() == 1
    assert "Nothing to take down." in client.get(reverse("publishing:publishing")).content.decode()
    again = client.post(reverse("publishing:takedown_confirm", args=[takedown.pk]))
    assert again.status_code == 404


def test_editor_of_another_campaign_cannot_confirm(client: Any, takedown: TakedownItem, other_editor: Any) -> None:
    client.force_login(other_editor)

    response = client.post(reverse("publishing:takedown_confirm", args=[takedown.pk]))

    assert response.status_code == 404
    takedown.refresh_from_db()
    assert takedown.confirmed_at is None


def test_a_takedown_names_a_consent_exactly_when_its_cause_is_an_ended_consent(takedown: TakedownItem) -> None:
    assert (takedown.cause, takedown.reason) == (TakedownCause.CONSENT_ENDED, "consent revoked")
    common = {"post": takedown.post, "account": takedown.account, "reason": "rejected by Legal after publication"}
    with pytest.raises(IntegrityError), transaction.atomic():
        TakedownItem.objects.create(cause=TakedownCause.REVIEW_REJECTED, consent=takedown.consent, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        TakedownItem.objects.create(cause=TakedownCause.CONSENT_ENDED, consent=None, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        TakedownItem.objects.create(cause="bogus", consent=None, **common)
    first = TakedownItem.objects.create(cause=TakedownCause.REVIEW_REJECTED, consent=None, **common)
    with pytest.raises(IntegrityError), transaction.atomic():  # one open review takedown per target
        TakedownItem.objects.create(cause=TakedownCause.REVIEW_REJECTED, consent=None, **common)
    TakedownItem.objects.filter(pk=first.pk).update(confirmed_at=takedown.created_at)
    TakedownItem.objects.create(cause=TakedownCause.REVIEW_REJECTED, consent=None, **common)  # live again later
