"""The one answer to "what may this user do with this consent record?"."""

from collections.abc import Callable
from functools import cached_property

from django.contrib.auth.models import AnonymousUser

from consent.models import ConsentRecord
from people.models import User

VIEW = "view"
VIEW_DOCUMENT = "view_document"
VERIFY = "verify"
REVOKE = "revoke"

# Apps above consent (posts) add who else may read a form, e.g. the reviewers of a post using it.
DocumentAccessRule = Callable[[User | AnonymousUser, ConsentRecord], bool]
_document_rules: dict[str, DocumentAccessRule] = {}


def document_access_register(key: str, rule: DocumentAccessRule) -> None:
    _document_rules[key] = rule


# Editors may view consent records (to link them to posts) but not open the registry of every
# person and form; reading signed forms is what marks a Consent officer (and Governance).
REGISTRY_PERMISSIONS = ("consent.view_consentrecord", "consent.view_consent_document")


class ConsentPolicy:
    """Answers per user, for the registry's pages, the admin and the signed-form download."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def signed_in(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_active)

    @cached_property
    def may_open_registry(self) -> bool:
        """Whether this user may use the consent registry pages (Consent officers and Governance)."""
        return self.signed_in and self.user.has_perms(REGISTRY_PERMISSIONS)

    def actions(self, record: ConsentRecord) -> frozenset[str]:
        """Return the actions this user may take on ``record``."""
        user = self.user
        if not self.signed_in:
            return frozenset()
        actions = set()
        if user.has_perm("consent.view_consentrecord"):
            actions.add(VIEW)
        if user.has_perm("consent.view_consent_document") or any(
            rule(user, record) for rule in _document_rules.values()
        ):
            actions.add(VIEW_DOCUMENT)
        if (
            user.has_perm("consent.verify_consentrecord")
            and record.verified_at is None
            and record.revoked_at is None
            and record.recorded_by_id != user.pk
        ):
            actions.add(VERIFY)
        if user.has_perm("consent.revoke_consentrecord") and record.revoked_at is None:
            actions.add(REVOKE)
        return frozenset(actions)
