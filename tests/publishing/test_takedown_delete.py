"""Takedowns through the platforms' APIs: published through a fake platform, consent revoked, deleted with proof."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from consent.services import consent_revoke
from people import roles
from posts.models import Account
from posts.services import FeatureSpec, account_save, campaign_update
from publishing.models import DeletionStatus, Publication, PublicationStatus, TakedownItem
from publishing.takedowns import takedown_confirm, takedown_delete
from tests.conftest import make_user
from tests.posts.fakeplatforms import FakeFacebook, FakeInstagram, FakeTikTok, FakeX
from tests.publishing import test_platform_publishing as platform_tests
from tests.publishing import test_takedowns
from tests.test_admin import account_form

pytestmark = pytest.mark.django_db

# Publishing through fake platforms, as test_platform_publishing sets it up (fixtures and helpers).
_settings, platform_account, scheduled_with = (
    platform_tests._settings,
    platform_tests.platform_account,
    platform_tests.scheduled_with,
)
flu, reviewers, run_pass, at = platform_tests.flu, platform_tests.reviewers, platform_tests.run_pass, platform_tests.at
takedown = test_takedowns.takedown  # a story published by hand, its consent revoked

CONFIRMED = {"confirm_irreversible": "yes"}  # the ticked "I understand …" box of an irreversible act


@pytest.fixture
def comms(editor: Any, flu: Any) -> Any:
    """A Communications reviewer assigned to the campaign (issue 13: only those act on its takedowns)."""
    user = make_user("comms2", roles.COMMUNICATIONS_REVIEWER, is_staff=True)
    campaign_update(campaign=flu, actor=editor, data={}, reviewers=[*flu.reviewers.all(), user])
    return user


@pytest.fixture
def published_story(
    platform_account: Any,
    scheduled_with: Any,
    subject_factory: Any,
    record_factory: Any,
    officer: Any,
    time_machine: Any,
    run_pass: Any,
) -> Callable[..., TakedownItem]:
    """Return a maker: a story featuring Anna published on ``account``, then her consent revoked."""

    def make(account: Account, *, media: str = "") -> TakedownItem:
        anna = subject_factory(display_name="Anna Berger")
        record = record_factory(anna)
        feature = FeatureSpec(subject=anna, consent=record, media_kinds=("story",))
        post = scheduled_with(account, media=media, featured=[feature], title="Anna's story")
        time_machine.move_to(at(post), tick=False)
        run_pass()
        assert Publication.objects.get(post=post).status == PublicationStatus.CONFIRMED
        consent_revoke(record=record, actor=officer, received_via="letter")
        return TakedownItem.objects.get(post=post, account=account)

    return make


@pytest.fixture
def facebook() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


def test_delete_on_platform_deletes_the_post_and_closes_the_item_with_proof(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, editor: Any
) -> None:
    item = published_story(platform_account("facebook", facebook))
    publication = Publication.objects.get(post=item.post)

    item = takedown_delete(item=item, actor=editor)

    assert facebook.deleted == [publication.external_id] and facebook.live == {}
    assert item.deletion_status == DeletionStatus.DELETED
    assert item.deletion_by == editor and item.deletion_at is not None
    assert json.loads(item.deletion_response) == {"success": True}
    assert item.confirmed_at == item.deletion_at and item.confirmed_by == editor
    assert item.url == publication.url
    event = AuditEvent.objects.get(action="takedown.deleted")
    assert event.object_id == str(item.pk) and event.actor == editor
    assert event.changes["external_id"] == publication.external_id
    assert "success" in event.changes["response"]
    with pytest.raises(ValidationError, match="already confirmed"):
        takedown_delete(item=item, actor=editor)


def test_a_platform_that_cannot_delete_leaves_the_item_open_with_a_note(
    platform_account: Any, published_story: Any, editor: Any
) -> None:
    with FakeInstagram() as instagram:
        item = published_story(platform_account("instagram", instagram), media="photo")

        item = takedown_delete(item=item, actor=editor)

        assert len(instagram.live) == 1  # nothing was asked of Instagram: its API cannot delete
        assert instagram.calls("DELETE", ".*") == []
    assert item.confirmed_at is None
    assert item.deletion_status == DeletionStatus.NOT_ALLOWED
    assert "Instagram does not let Rounds delete posts" in item.deletion_note
    assert "no way to delete" in item.deletion_response
    assert AuditEvent.objects.filter(action="takedown.delete_refused", object_id=str(item.pk)).count() == 1


def test_tiktok_cannot_delete_either(platform_account: Any, published_story: Any, editor: Any) -> None:
    with FakeTikTok() as tiktok:
        item = takedown_delete(item=published_story(platform_account("tiktok", tiktok), media="photo"), actor=editor)
    assert (item.deletion_status, item.confirmed_at) == (DeletionStatus.NOT_ALLOWED, None)
    assert "TikTok" in item.deletion_note


def test_an_outbox_publication_is_not_the_platforms_to_delete(
    account_factory: Any, published_story: Any, editor: Any, settings: Any, tmp_path: Path
) -> None:
    settings.ROUNDS_OUTBOX_DIR = tmp_path / "outbox"
    item = published_story(account_factory("facebook", name="Clinic Facebook"))

    item = takedown_delete(item=item, actor=editor)

    assert item.deletion_status == DeletionStatus.NOT_ALLOWED and item.confirmed_at is None
    assert "outbox folder" in item.deletion_note
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 1  # the hand-off file stays as it was


def test_a_failed_call_leaves_the_item_open_and_it_can_be_tried_again(
    platform_account: Any, published_story: Any, editor: Any
) -> None:
    with FakeX() as x:
        item = published_story(platform_account("x", x))
        x.fail_next("delete", "500")

        item = takedown_delete(item=item, actor=editor)
        assert item.deletion_status == DeletionStatus.FAILED and item.confirmed_at is None
        assert "HTTP 503" in item.deletion_note and "Try again later" in item.deletion_note
        assert len(x.live) == 1

        item = takedown_delete(item=item, actor=editor)
        assert item.deletion_status == DeletionStatus.DELETED and item.confirmed_at is not None
        assert x.live == {}
    actions = list(AuditEvent.objects.filter(object_id=str(item.pk)).values_list("action", flat=True))
    assert actions.count("takedown.delete_failed") == 1 and actions.count("takedown.deleted") == 1


def test_a_refusal_echoing_the_access_token_is_kept_without_it(
    platform_account: Any, published_story: Any, editor: Any
) -> None:
    from tests.posts.fakeplatforms import TOKEN

    with FakeX() as x:
        item = published_story(platform_account("x", x))
        x.fail_next("delete", "echo")
        item = takedown_delete(item=item, actor=editor)
    assert item.deletion_status == DeletionStatus.FAILED
    assert "Invalid request" in item.deletion_response and "[redacted]" in item.deletion_response
    event = AuditEvent.objects.get(action="takedown.delete_failed")
    for kept in (item.deletion_response, item.deletion_note, json.dumps(event.changes)):
        assert TOKEN not in kept


def test_nothing_to_delete_when_rounds_never_published_it(takedown: TakedownItem, editor: Any) -> None:
    # test_takedowns' story went out by hand: no publication, no id on the platform.
    Account.objects.filter(pk=takedown.account_id).update(connector="platform")

    item = takedown_delete(item=takedown, actor=editor)

    assert item.deletion_status == DeletionStatus.NO_RECORD and item.confirmed_at is None
    assert "no record of this post" in item.deletion_note


def test_only_who_may_confirm_may_delete(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, other_editor: Any, client: Any
) -> None:
    item = published_story(platform_account("facebook", facebook))

    with pytest.raises(PermissionDenied):
        takedown_delete(item=item, actor=other_editor)
    client.force_login(other_editor)
    assert client.post(reverse("publishing:takedown_delete", args=[item.pk])).status_code == 404
    assert facebook.deleted == []
    item.refresh_from_db()
    assert item.deletion_status == ""


def test_the_publishing_page_offers_delete_on_platform_and_shows_the_proof(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, comms: Any, client: Any
) -> None:
    item = published_story(platform_account("facebook", facebook))
    client.force_login(comms)
    page = client.get(reverse("publishing:publishing")).content.decode()
    assert f'action="{reverse("publishing:takedown_delete", args=[item.pk])}"' in page
    assert "Delete on platform" in page

    response = client.post(reverse("publishing:takedown_delete", args=[item.pk]), CONFIRMED, follow=True)

    page = response.content.decode()
    assert "Deleted on the platform; its answer is kept as proof." in page
    assert "Nothing to take down." in page
    assert f'data-taken-down="{item.pk}"' in page
    assert "{&quot;success&quot;: true}" in page
    item.refresh_from_db()
    assert item.confirmed_by == comms


def test_an_unconfirmed_delete_on_platform_calls_no_platform_and_says_why(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, comms: Any, client: Any
) -> None:
    item = published_story(platform_account("facebook", facebook))
    client.force_login(comms)
    page = client.get(reverse("publishing:publishing")).content.decode()
    assert f'id="takedown-delete-confirm-{item.pk}"' in page
    events = AuditEvent.objects.count()

    page = client.post(reverse("publishing:takedown_delete", args=[item.pk]), follow=True).content.decode()

    assert "Nothing was changed: “Delete on platform” cannot be undone" in page
    assert facebook.deleted == []
    item.refresh_from_db()
    assert item.deletion_status == "" and item.confirmed_at is None
    assert AuditEvent.objects.count() == events


def test_a_refusal_shows_its_note_and_keeps_the_item_listed(
    platform_account: Any, published_story: Any, comms: Any, client: Any
) -> None:
    with FakeInstagram() as instagram:
        item = published_story(platform_account("instagram", instagram), media="photo")
    client.force_login(comms)

    page = client.post(reverse("publishing:takedown_delete", args=[item.pk]), CONFIRMED, follow=True).content.decode()

    assert "Instagram does not let Rounds delete posts" in page
    assert f'data-takedown="{item.pk}"' in page
    assert "The platform does not allow deletion" in page


def test_confirming_by_hand_still_works_and_shows_as_confirmed_by_a_person(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, comms: Any, client: Any
) -> None:
    item = published_story(platform_account("facebook", facebook))
    takedown_confirm(item=item, actor=comms)
    client.force_login(comms)

    page = client.get(reverse("publishing:publishing")).content.decode()

    assert f'data-taken-down="{item.pk}"' in page and "Confirmed by a person" in page
    assert facebook.deleted == []


def test_the_takedown_lists_cost_the_same_queries_for_one_and_many(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, comms: Any, client: Any
) -> None:
    account = platform_account("facebook", facebook)

    def queries() -> int:
        client.force_login(comms)  # each story moves the clock days ahead, past the session's age
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("publishing:publishing")).status_code == 200
        return len(captured)

    published_story(account)  # one open
    takedown_delete(item=published_story(account), actor=comms)  # one taken down, with proof
    one_each = queries()
    for _ in range(3):
        published_story(account)
        takedown_delete(item=published_story(account), actor=comms)
    assert TakedownItem.objects.filter(confirmed_at__isnull=True).count() == 4
    assert TakedownItem.objects.filter(deletion_status=DeletionStatus.DELETED).count() == 4
    assert queries() == one_each


def test_the_admin_action_deletes_on_the_platform(
    facebook: FakeFacebook, platform_account: Any, published_story: Any, comms: Any, governance: Any, client: Any
) -> None:
    item = published_story(platform_account("facebook", facebook))
    action = {"action": "delete_on_platform", "_selected_action": [item.pk], "index": 0}
    # Governance oversees takedowns and does not act on them (issue 13).
    client.force_login(governance)
    refused = client.post(reverse("admin:publishing_takedownitem_changelist"), action, follow=True)
    assert "You may not act on takedowns for this campaign." in refused.content.decode()
    item.refresh_from_db()
    assert item.deletion_status != DeletionStatus.DELETED

    client.force_login(comms)
    response = client.post(reverse("admin:publishing_takedownitem_changelist"), action, follow=True)

    assert response.status_code == 200
    assert "1 post deleted on its platform." in response.content.decode()
    item.refresh_from_db()
    assert item.deletion_status == DeletionStatus.DELETED and item.confirmed_by == comms


# Account credentials in the admin ------------------------------------------------------------


def test_the_account_form_lists_the_keys_its_connector_needs(
    account_factory: Any, governance: Any, client: Any
) -> None:
    account = account_factory("linkedin", connector="platform")
    client.force_login(governance)

    change = client.get(reverse("admin:posts_account_change", args=[account.pk])).content.decode()
    add = client.get(reverse("admin:posts_account_add")).content.decode()

    assert "<code>author_urn</code> (required)" in change and "<code>linkedin_version</code> (optional)" in change
    assert "page_id" not in change
    for key in ("page_id", "ig_user_id", "author_urn", "media_base_url", "privacy_status", "secret"):
        assert f"<code>{key}</code>" in add


def test_typed_credentials_must_hold_every_required_key_and_no_strangers(
    account_factory: Any, governance: Any, client: Any
) -> None:
    account = account_save(
        account=account_factory("facebook", connector="platform"),
        actor=governance,
        credentials={"page_id": "1", "access_token": "old"},
    )
    url = reverse("admin:posts_account_change", args=[account.pk])
    client.force_login(governance)

    lacking = client.post(url, account_form(account, new_credentials=json.dumps({"page_id": "1"})))
    typo = client.post(
        url,
        account_form(account, new_credentials=json.dumps({"page_id": "1", "acess_token": "x", "access_token": "y"})),
    )
    good = client.post(url, account_form(account, new_credentials=json.dumps({"page_id": "2", "access_token": "new"})))

    assert lacking.status_code == 200 and "These credentials lack: access_token." in lacking.content.decode()
    assert typo.status_code == 200 and "acess_token" in typo.content.decode()
    assert good.status_code == 302
    account.refresh_from_db()
    assert account.credentials == {"page_id": "2", "access_token": "new"}
