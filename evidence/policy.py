"""Who may take a post's evidence pack: people accountable for its record, among those who see the post.

The pack names signers, patients' references and consent scope, so seeing the post is not enough
(Viewers see posts and get no pack). Among those who see it: Governance (oversight of the whole
record), Consent officers (the consents it relied on), reviewers (a reviewer group's members see
only the campaigns they are assigned to) and the campaign's team (its editors and owner).
"""

from functools import cached_property

from django.contrib.auth.models import AnonymousUser

from people import rights, roles
from people.models import User
from posts.models import Post
from posts.selectors import campaign_ids_of_team

DOWNLOAD_PACK = "download_pack"
# Groups whose members may take the pack of any post they see.
PACK_ROLES = frozenset({roles.GOVERNANCE, roles.CONSENT_OFFICER, *roles.REVIEWER_ROLES})


class EvidencePolicy:
    """Answers per user what they may do with a post's evidence (which they can already see)."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def by_role(self) -> bool:
        user = self.user
        if not (user.is_authenticated and user.is_active):
            return False
        return user.is_superuser or rights.in_any_group(user, PACK_ROLES)

    @cached_property
    def team_campaign_ids(self) -> frozenset[int]:
        if not (self.user.is_authenticated and self.user.is_active):
            return frozenset()
        return campaign_ids_of_team(user=self.user)

    def actions(self, post: Post) -> frozenset[str]:
        """Return ``download_pack`` if this user may take ``post``'s evidence pack."""
        if self.by_role or post.campaign_id in self.team_campaign_ids:
            return frozenset({DOWNLOAD_PACK})
        return frozenset()
