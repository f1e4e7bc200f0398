"""A user's rights are read once per request, kept until the next state change (people.rights),
and never outlive a change of them."""

import re
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import event_record
from evidence.policy import EvidencePolicy
from people import rights, roles
from people.models import Notice, User
from people.services import user_roles_set
from posts.policy import PostPolicy
from posts.selectors import CHANGE_CAMPAIGN, campaign_ids_for_user, campaign_ids_of_team
from posts.services import campaign_update

pytestmark = pytest.mark.django_db


def _tables(client: Client, url: str) -> Counter[str]:
    """Return how many queries a GET of ``url`` made, by the table each reads FROM."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return Counter(
        match.group(1) for query in captured for match in [re.search(r'FROM "(\w+)"', query["sql"])] if match
    )


def test_the_post_page_reads_the_users_groups_and_campaign_rights_once(
    editor: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    campaign_update(campaign=campaign, actor=editor, data={}, team=[editor, other_editor])
    post = post_factory(editor, campaign)
    client = Client()
    client.force_login(other_editor)
    url = reverse("posts:post_detail", args=[post.pk])
    client.get(url)  # warm the per-process caches (content types, session)
    tables = _tables(client, url)
    # Two-factor middleware and the evidence panel ask for roles; post, crisis, publishing and
    # evidence policies for the campaigns the editor sees or changes: one read each.
    assert tables["auth_group"] == 1 and tables["guardian_userobjectpermission"] == 1
    assert tables["posts_campaign"] == 0  # one read of the user's and their groups' campaign grants (a UNION)


def test_a_member_taken_off_the_team_no_longer_sees_the_post_at_the_next_request(
    editor: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    campaign_update(campaign=campaign, actor=editor, data={}, team=[editor, other_editor])
    post = post_factory(editor, campaign)
    client = Client()
    client.force_login(other_editor)
    url = reverse("posts:post_detail", args=[post.pk])
    assert client.get(url).status_code == 200
    campaign_update(campaign=campaign, actor=editor, data={}, team=[editor])
    assert client.get(url).status_code == 404


def test_rights_changed_through_another_instance_are_seen_by_a_user_object_that_asked_before(
    editor: Any, other_editor: Any, campaign: Any
) -> None:
    assert campaign.pk not in campaign_ids_for_user(user=other_editor, perm=CHANGE_CAMPAIGN)
    assert not EvidencePolicy(other_editor).by_role

    owner = User.objects.get(pk=editor.pk)
    campaign_update(campaign=campaign, actor=owner, data={}, team=[owner, User.objects.get(pk=other_editor.pk)])
    assert campaign.pk in campaign_ids_for_user(user=other_editor, perm=CHANGE_CAMPAIGN)
    assert campaign.pk in campaign_ids_of_team(user=other_editor)
    assert campaign.pk in PostPolicy(other_editor).editable_campaign_ids

    governance = Group.objects.get(name=roles.GOVERNANCE)
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    user_roles_set(user=User.objects.get(pk=other_editor.pk), actor=root, groups=[governance])
    assert rights.in_any_group(other_editor, [roles.GOVERNANCE])
    assert rights.group_ids(other_editor) == {governance.pk}
    assert EvidencePolicy(other_editor).by_role
    # Django's own permission cache on the object is dropped with the memo: Governance changes every campaign.
    assert other_editor.has_perm(CHANGE_CAMPAIGN)


def test_the_memo_lives_on_the_user_object_only(editor: Any, campaign: Any) -> None:
    assert campaign.pk in campaign_ids_for_user(user=editor, perm=CHANGE_CAMPAIGN)
    with CaptureQueriesContext(connection) as captured:
        campaign_ids_for_user(user=editor, perm=CHANGE_CAMPAIGN)
        rights.group_ids(editor)
        rights.group_ids(editor)
    assert len(captured) == 0, [
        q["sql"][:150] for q in captured
    ]  # the campaigns were read above, and the groups with them
    fresh = User.objects.get(pk=editor.pk)
    with CaptureQueriesContext(connection) as captured:
        assert campaign.pk in campaign_ids_for_user(user=fresh, perm=CHANGE_CAMPAIGN)
    assert len(captured) >= 1


# Kept across requests until the next state change ---------------------------------------------
# Outside a transaction only (nothing is kept from one that may roll back), so these tests commit.


@pytest.fixture
def _kept(settings: Any) -> Any:
    from django.core.cache import cache

    settings.ROUNDS_STATE_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def _next_request_sees(user: User) -> tuple[frozenset[int], bool, frozenset[int]]:
    """Return the roles, a Django permission and the campaign grants a new request's user object reads."""
    fresh = User.objects.get(pk=user.pk)  # as Django's authentication middleware loads it for each request
    return rights.group_ids(fresh), fresh.has_perm("posts.add_post"), campaign_ids_of_team(user=fresh)


@pytest.mark.django_db(transaction=True)
def test_rights_are_kept_across_requests_until_an_audit_event_says_something_changed(
    _kept: None, editor: Any, campaign: Any
) -> None:
    """What another process changes reaches this one with its audit event (invariant 4), not by signal."""
    editor_role = Group.objects.get(name=roles.EDITOR)
    assert _next_request_sees(editor) == (frozenset({editor_role.pk}), True, frozenset({campaign.pk}))
    with CaptureQueriesContext(connection) as captured:
        assert _next_request_sees(editor) == (frozenset({editor_role.pk}), True, frozenset({campaign.pk}))
    # The user's row and the state version: no roles, permissions or grants read again.
    assert [re.search(r'FROM "(\w+)"', query["sql"]).group(1) for query in captured] == [  # type: ignore[union-attr]
        "people_user",
        "audit_auditevent",
    ]

    # Another process takes every right away in one transaction: no signal reaches this one.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM people_user_groups WHERE user_id = %s", [editor.pk])
        cursor.execute("DELETE FROM guardian_userobjectpermission WHERE user_id = %s", [editor.pk])
    assert _next_request_sees(editor) == (frozenset({editor_role.pk}), True, frozenset({campaign.pk}))
    # ... and writes its audit event, as every service that changes rights does.
    event_record(actor=editor, action="user.roles_changed", obj=editor)
    assert _next_request_sees(editor) == (frozenset(), False, frozenset())


@pytest.mark.django_db(transaction=True)
def test_rights_read_inside_a_transaction_are_not_kept_for_other_requests(
    _kept: None, editor: Any, campaign: Any
) -> None:
    with transaction.atomic():
        _next_request_sees(editor)
    with CaptureQueriesContext(connection) as captured:
        _next_request_sees(editor)
    tables = {match.group(1) for query in captured for match in [re.search(r'FROM "(\w+)"', query["sql"])] if match}
    assert {"auth_group", "auth_permission", "guardian_userobjectpermission"} <= tables


@pytest.mark.django_db(transaction=True)
def test_a_page_reads_the_state_version_and_the_unread_notices_once_for_rights_and_navigation(
    _kept: None, editor: Any, other_editor: Any, campaign: Any, post_factory: Any
) -> None:
    post = post_factory(editor, campaign)
    Notice.objects.create(user=editor, key="n1", subject="Ein Kommentar wartet auf Sie.")
    Notice.objects.create(user=editor, key="n2", subject="Beitrag veröffentlicht.", read_at=timezone.now())
    Notice.objects.create(user=other_editor, key="n3", subject="Nicht für Sie.")  # someone else's: not counted
    client = Client()
    client.force_login(editor)
    url = reverse("posts:post_detail", args=[post.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    newest_event = [q["sql"] for q in captured if re.search(r'FROM "audit_auditevent"( U0)? ORDER BY 1 DESC', q["sql"])]
    assert len(newest_event) == 1, newest_event  # one read, with the unread count beside it
    assert 'FROM "people_notice"' in newest_event[0]
    assert rights.request_state(response.wsgi_request.user) == (AuditEvent.objects.order_by("-pk")[0].pk, 1)
    assert b"data-notice-count>1<" in response.content
