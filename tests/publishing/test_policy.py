"""PublishingPolicy: who sees and retries publications, who acts on takedowns, and the page's buttons.

Issue 13: Communications sees and acts only on the campaigns it is assigned to; Governance reads
every campaign's for oversight and acts on none; a bare model permission reaches no campaign.
"""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import transaction
from django.urls import reverse

from consent.services import consent_revoke
from people import roles
from people.models import User
from posts.models import Post, PostStatus
from posts.services import FeatureSpec, campaign_update, post_transition, post_update
from publishing.models import Publication, TakedownItem
from publishing.models import PublicationStatus as P
from publishing.policy import CONFIRM_TAKEDOWN, DELETE_ON_PLATFORM, RETRY, VIEW, PublishingPolicy
from publishing.services import publication_transition
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

NOTHING: frozenset[str] = frozenset()
SEE = frozenset({VIEW})
SEE_RETRY = frozenset({VIEW, RETRY})
ACT = frozenset({CONFIRM_TAKEDOWN, DELETE_ON_PLATFORM})


def with_perm(username: str, codename: str) -> User:
    user = make_user(username)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="publishing", codename=codename))
    return user


@pytest.fixture
def people(editor: Any, other_editor: Any, governance: Any, viewer: Any, campaign: Any) -> dict[str, Any]:
    assigned = make_user("comms_on", roles.COMMUNICATIONS_REVIEWER)
    campaign_update(campaign=campaign, actor=editor, data={}, reviewers=[assigned])
    return {
        "editor": editor,  # on the campaign's team
        "other_editor": other_editor,  # an editor of other campaigns
        "comms": make_user("comms", roles.COMMUNICATIONS_REVIEWER),  # assigned to other campaigns
        "comms_on": assigned,  # the campaign's Communications reviewer
        "governance": governance,
        "viewer": viewer,
        "medical": make_user("medical", roles.MEDICAL_REVIEWER),
        "watcher": with_perm("watcher", "view_publication"),
        "clerk": with_perm("clerk", "change_takedownitem"),
        "anonymous": AnonymousUser(),
    }


def actions_of(people: dict[str, Any], obj: Any) -> dict[str, frozenset[str]]:
    def fresh(user: Any) -> Any:
        return User.objects.get(pk=user.pk) if user.is_authenticated else user

    return {name: PublishingPolicy(fresh(user)).actions(obj) for name, user in people.items()}


def history(post: Any, actor: Any, *states: str) -> None:
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        for status in states:
            post_transition(post=locked, to=status, actor=actor, reason="history for the test")


@pytest.fixture
def publications(editor: Any, campaign: Any, account_factory: Any, post_factory: Any) -> dict[str, Publication]:
    """One scheduled post's four publications: waiting, overdue, failed and cancelled."""
    targets = [account_factory(platform) for platform in ("facebook", "instagram", "linkedin", "x")]
    post = post_factory(editor, campaign, targets=targets, body="Tag der offenen Tür am Samstag, 10–14 Uhr 🏥")
    history(post, editor, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED)
    waiting, overdue, failed, cancelled = Publication.objects.filter(post=post).select_related("post").order_by("pk")
    with transaction.atomic():
        publication_transition(publication=overdue, to=P.OVERDUE, reason="test")
        publication_transition(publication=failed, to=P.CLAIMED, reason="test")
        publication_transition(publication=failed, to=P.FAILED, reason="test")
        publication_transition(publication=cancelled, to=P.CANCELLED, reason="test")
    return {"waiting": waiting, "overdue": overdue, "failed": failed, "cancelled": cancelled}


def test_a_waiting_or_cancelled_publication_is_only_seen(
    people: dict[str, Any], publications: dict[str, Publication]
) -> None:
    for name in ("waiting", "cancelled"):
        assert actions_of(people, publications[name]) == {
            "editor": SEE,
            "other_editor": NOTHING,
            "comms": NOTHING,
            "comms_on": SEE,
            "governance": SEE,
            "viewer": NOTHING,
            "medical": NOTHING,
            "watcher": NOTHING,  # the permission alone reaches no campaign
            "clerk": NOTHING,
            "anonymous": NOTHING,
        }, name


def test_a_failed_or_overdue_publication_is_retried_by_the_campaigns_editors_and_communications(
    people: dict[str, Any], publications: dict[str, Publication]
) -> None:
    for name in ("overdue", "failed"):
        assert actions_of(people, publications[name]) == {
            "editor": SEE_RETRY,
            "other_editor": NOTHING,
            "comms": NOTHING,
            "comms_on": SEE_RETRY,
            "governance": SEE,  # oversight: reads, does not act
            "viewer": NOTHING,
            "medical": NOTHING,
            "watcher": NOTHING,
            "clerk": NOTHING,
            "anonymous": NOTHING,
        }, name


def test_the_publishing_page_opens_for_who_sees_publications_or_edits_a_campaign(
    people: dict[str, Any], campaign: Any
) -> None:
    opens = {name for name, user in people.items() if PublishingPolicy(user).may_open_page}
    assert opens == {"editor", "comms", "comms_on", "governance", "watcher"}


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
    jonas = subject_factory(display_name="Jonas Ağaoğlu")
    record = record_factory(jonas)
    post = post_factory(editor, campaign, targets=[account_factory("facebook")], title="Jonas' Genesung")
    post_update(post=post, actor=editor, featured=[FeatureSpec(subject=jonas, consent=record, media_kinds=("story",))])
    history(post, editor, PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED)
    consent_revoke(record=record, actor=officer, received_via="letter")
    return TakedownItem.objects.select_related("post").get()


def test_a_takedown_is_acted_on_by_the_campaigns_editors_and_its_communications_reviewer(
    people: dict[str, Any], takedown: TakedownItem
) -> None:
    assert actions_of(people, takedown) == {
        "editor": SEE | ACT,
        "other_editor": NOTHING,
        "comms": NOTHING,  # issue 13: acted on every campaign's takedowns
        "comms_on": SEE | ACT,
        "governance": SEE,
        "viewer": NOTHING,
        "medical": NOTHING,
        "watcher": NOTHING,
        "clerk": NOTHING,  # the permission alone reaches no campaign
        "anonymous": NOTHING,
    }


def test_the_takedown_buttons_follow_the_policy(client: Any, people: dict[str, Any], takedown: TakedownItem) -> None:
    delete_url = reverse("publishing:takedown_delete", args=[takedown.pk])
    confirm_url = reverse("publishing:takedown_confirm", args=[takedown.pk])
    for name, shows_buttons in (("comms_on", True), ("editor", True), ("governance", False)):
        client.force_login(people[name])
        page = client.get(reverse("publishing:publishing")).content.decode()
        assert f'data-takedown="{takedown.pk}"' in page, name
        assert (delete_url in page, confirm_url in page) == (shows_buttons, shows_buttons), name
