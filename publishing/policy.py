"""The one answer to "what may this user do with this publication or takedown?"."""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser

from people.models import User
from posts.policy import PostPolicy
from posts.selectors import campaign_ids_for_user, campaign_ids_of_team
from publishing.models import Publication, TakedownItem
from publishing.models import PublicationStatus as P

VIEW = "view"
RETRY = "retry"
CONFIRM_TAKEDOWN = "confirm_takedown"
DELETE_ON_PLATFORM = "delete_on_platform"

# What "Retry publishing" may put back in line.
RETRYABLE = frozenset({P.FAILED, P.OVERDUE})


class PublishingPolicy:
    """Who sees publications and takedowns and acts on them, per campaign.

    The campaign's editors see and act; Communications sees and acts on the campaigns it is
    assigned to (team or reviewer); Governance, which sees every campaign, reads them for
    oversight and does not act. Seeing needs the role's view permission (or the editor's right
    on the campaign) *and* the campaign; acting needs the change permission and the campaign.
    """

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def signed_in(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_active)

    @cached_property
    def editor_campaign_ids(self) -> frozenset[int]:
        """The campaigns this user edits as a member of the team (Governance's global right does not count)."""
        if not PostPolicy(self.user).is_editor:
            return frozenset()
        return campaign_ids_of_team(user=self.user)

    @cached_property
    def campaign_ids(self) -> frozenset[int]:
        """The campaigns this user sees at all: all of them for Governance, else those they are on."""
        if not self.signed_in:
            return frozenset()
        return campaign_ids_for_user(user=self.user)

    def _ids_with(self, perm: str) -> frozenset[int]:
        if not self.signed_in or not self.user.has_perm(perm):
            return self.editor_campaign_ids
        return self.editor_campaign_ids | self.campaign_ids

    @cached_property
    def publication_campaign_ids(self) -> frozenset[int]:
        """The campaigns whose publications this user sees."""
        return self._ids_with("publishing.view_publication")

    @cached_property
    def retry_campaign_ids(self) -> frozenset[int]:
        return self._ids_with("publishing.change_publication")

    @cached_property
    def takedown_campaign_ids(self) -> frozenset[int]:
        """The campaigns whose takedowns this user sees."""
        return self._ids_with("publishing.view_takedownitem") | self.takedown_act_campaign_ids

    @cached_property
    def takedown_act_campaign_ids(self) -> frozenset[int]:
        return self._ids_with("publishing.change_takedownitem")

    @property
    def may_open_page(self) -> bool:
        """Whether the Publishing page opens (perhaps empty): the role that sees publications, or a team's editors."""
        return (self.signed_in and self.user.has_perm("publishing.view_publication")) or bool(self.editor_campaign_ids)

    def actions(self, obj: Publication | TakedownItem) -> frozenset[str]:
        """Return what this user may do with a publication or a takedown (whose post they can see)."""
        if isinstance(obj, TakedownItem):
            return self._takedown_actions(obj)
        campaign_id = obj.post.campaign_id
        if campaign_id not in self.publication_campaign_ids:
            return frozenset()
        if obj.status in RETRYABLE and campaign_id in self.retry_campaign_ids:
            return frozenset({VIEW, RETRY})
        return frozenset({VIEW})

    def _takedown_actions(self, item: TakedownItem) -> frozenset[str]:
        campaign_id = item.post.campaign_id
        actions = set()
        if campaign_id in self.takedown_campaign_ids:
            actions.add(VIEW)
        if campaign_id in self.takedown_act_campaign_ids:
            actions |= {CONFIRM_TAKEDOWN, DELETE_ON_PLATFORM}
        return frozenset(actions)
