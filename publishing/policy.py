"""The one answer to "what may this user do with this publication or takedown?"."""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser

from people.models import User
from people.roles import COMMUNICATIONS_REVIEWER, GOVERNANCE
from posts.policy import PostPolicy
from publishing.models import Publication, TakedownItem
from publishing.models import PublicationStatus as P

VIEW = "view"
RETRY = "retry"
CONFIRM_TAKEDOWN = "confirm_takedown"
DELETE_ON_PLATFORM = "delete_on_platform"

# What "Retry publishing" may put back in line.
RETRYABLE = frozenset({P.FAILED, P.OVERDUE})


class PublishingPolicy:
    """Who sees publications and may retry them: the campaign's editors, Communications, Governance."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def sees_all(self) -> bool:
        user = self.user
        if not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser or user.has_perm("publishing.view_publication"):
            return True
        return user.groups.filter(name__in=[COMMUNICATIONS_REVIEWER, GOVERNANCE]).exists()

    @cached_property
    def editor_campaign_ids(self) -> frozenset[int]:
        return PostPolicy(self.user).editable_campaign_ids

    @cached_property
    def acts_on_all_takedowns(self) -> bool:
        return bool(self.user.has_perm("publishing.change_takedownitem"))

    @property
    def may_open_page(self) -> bool:
        return self.sees_all or bool(self.editor_campaign_ids)

    def actions(self, obj: Publication | TakedownItem) -> frozenset[str]:
        """Return what this user may do with a publication or a takedown (whose post they can see)."""
        if isinstance(obj, TakedownItem):
            return self._takedown_actions(obj)
        publication = obj
        if not (self.sees_all or publication.post.campaign_id in self.editor_campaign_ids):
            return frozenset()
        if publication.status in RETRYABLE:
            return frozenset({VIEW, RETRY})
        return frozenset({VIEW})

    def _takedown_actions(self, item: TakedownItem) -> frozenset[str]:
        # The campaign's editors act on its takedowns, and whoever may change takedowns acts on all.
        actions = set()
        ours = item.post.campaign_id in self.editor_campaign_ids
        if self.sees_all or ours:
            actions.add(VIEW)
        if self.acts_on_all_takedowns or ours:
            actions |= {CONFIRM_TAKEDOWN, DELETE_ON_PLATFORM}
        return frozenset(actions)
