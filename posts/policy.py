"""The one answer to "what may this user do with this post (or campaign)?" for views, templates, admin and tests."""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from people.models import User
from posts.models import Campaign, Post
from posts.selectors import CHANGE_CAMPAIGN, VIEW_CAMPAIGN, CardPost, campaign_ids_for_user
from posts.states import EDITABLE, MOVABLE

VIEW = "view"
EDIT = "edit"
MOVE = "move"
SCHEDULE = "schedule"
UNSCHEDULE = "unschedule"
WITHDRAW = "withdraw"
# Crisis handling: editors ask for it, Communications or Governance declare it (SPEC section 1).
REQUEST_CRISIS = "request_crisis"
DECLARE_CRISIS = "declare_crisis"
# Campaign actions: SET_TEAM chooses the team and the assigned reviewers, who then see the posts.
SET_TEAM = "set_team"


class PostPolicy:
    """Answers per user; caches the user's campaign rights so a calendar asks cheaply."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def is_editor(self) -> bool:
        return bool(self.user.is_authenticated and self.user.has_perm("posts.change_post"))

    def refusal(self, post: Post | CardPost, action: str, *, in_state: str) -> str:
        """Return why this user may not take ``action`` on ``post``, "" if they may.

        The role or the campaign's team, where that is the reason: saying "current state" would
        mislead a viewer. Otherwise ``in_state``, the action's own words for a post in the wrong state.
        """
        if action in self.actions(post):
            return ""
        if post.campaign_id not in self.editable_campaign_ids:
            return _("You may not change posts of this campaign.")
        return in_state

    @cached_property
    def editable_campaign_ids(self) -> frozenset[int]:
        if not self.is_editor:
            return frozenset()
        return campaign_ids_for_user(user=self.user, perm=CHANGE_CAMPAIGN)

    def may_create_in(self, campaign: Campaign) -> bool:
        return campaign.pk in self.editable_campaign_ids

    def actions(self, post: Post | CardPost) -> frozenset[str]:
        """Return the actions this user may take on ``post`` (which they can already see; a calendar's card will do)."""
        actions = {VIEW}
        if post.campaign_id not in self.editable_campaign_ids:
            return frozenset(actions)
        if post.status in EDITABLE:
            actions.add(EDIT)
        if post.status in MOVABLE:
            actions.add(MOVE)
        if post.status == "approved" and post.is_approved_as_is:
            actions.add(SCHEDULE)
        if post.status == "scheduled":
            actions.add(UNSCHEDULE)
        if post.status not in {"published", "partially_published", "rejected", "withdrawn"}:
            actions.add(WITHDRAW)
        return frozenset(actions)


def may_declare_crisis(user: User | AnonymousUser) -> bool:
    """Whether ``user`` may make a post a crisis post (and so choose the expedited chain)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("posts.declare_crisis"))


def crisis_actions(user: User | AnonymousUser, post: Post, *, post_actions: frozenset[str]) -> frozenset[str]:
    """Return ``request_crisis`` and/or ``declare_crisis`` for a post the user sees (with its ``post_actions``)."""
    if post.content_type == "crisis" or post.status not in EDITABLE or VIEW not in post_actions:
        return frozenset()
    actions = set()
    if may_declare_crisis(user):
        actions.add(DECLARE_CRISIS)
    elif EDIT in post_actions and post.crisis_requested_at is None:
        actions.add(REQUEST_CRISIS)
    return frozenset(actions)


class CampaignPolicy:
    """Who sees a campaign, changes its fields, and sets its team and reviewers.

    The team and the reviewers decide who sees a campaign's posts (and, while they decide, the
    consent forms those posts rely on), so they are set by Governance (who may change every
    campaign) or by the campaign's owner, never by any editor of its team.
    """

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def signed_in(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_active)

    @property
    def may_create(self) -> bool:
        """Whether this user may create a campaign (owning it, they also set its team and reviewers)."""
        return self.signed_in and self.user.has_perm("posts.add_campaign")

    @cached_property
    def changes_every_campaign(self) -> bool:
        return self.signed_in and self.user.has_perm(CHANGE_CAMPAIGN)

    def actions(self, campaign: Campaign) -> frozenset[str]:
        """Return what this user may do with ``campaign``: view, edit, set_team."""
        user = self.user
        if not self.signed_in:
            return frozenset()
        actions = set()
        if user.has_perm(VIEW_CAMPAIGN) or user.has_perm(VIEW_CAMPAIGN, campaign):
            actions.add(VIEW)
        if self.changes_every_campaign or user.has_perm(CHANGE_CAMPAIGN, campaign):
            actions |= {VIEW, EDIT}
        if self.changes_every_campaign or (EDIT in actions and campaign.owner_id == user.pk):
            actions.add(SET_TEAM)
        return frozenset(actions)
