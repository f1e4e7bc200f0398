"""The one answer to "what may this user do with this post?" for views, templates, admin and tests."""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser

from people.models import User
from posts.models import Campaign, Post
from posts.selectors import CHANGE_CAMPAIGN, campaigns_for_user
from posts.states import EDITABLE, MOVABLE

VIEW = "view"
EDIT = "edit"
MOVE = "move"
SCHEDULE = "schedule"
UNSCHEDULE = "unschedule"
WITHDRAW = "withdraw"


class PostPolicy:
    """Answers per user; caches the user's campaign rights so a calendar asks cheaply."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def is_editor(self) -> bool:
        return bool(self.user.is_authenticated and self.user.has_perm("posts.change_post"))

    @cached_property
    def editable_campaign_ids(self) -> frozenset[int]:
        if not self.is_editor:
            return frozenset()
        return frozenset(campaigns_for_user(user=self.user, perm=CHANGE_CAMPAIGN).values_list("pk", flat=True))

    def may_create_in(self, campaign: Campaign) -> bool:
        return campaign.pk in self.editable_campaign_ids

    def actions(self, post: Post) -> frozenset[str]:
        """Return the actions this user may take on ``post`` (which they can already see)."""
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
