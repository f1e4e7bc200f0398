"""The one answer to "what may this user do with this consent record?"."""

from collections.abc import Callable
from typing import Any

from consent.models import ConsentRecord

VIEW = "view"
VIEW_DOCUMENT = "view_document"
VERIFY = "verify"
REVOKE = "revoke"

# Apps above consent (posts) add who else may read a form, e.g. the reviewers of a post using it.
DocumentAccessRule = Callable[[Any, ConsentRecord], bool]
_document_rules: dict[str, DocumentAccessRule] = {}


def document_access_register(key: str, rule: DocumentAccessRule) -> None:
    _document_rules[key] = rule


def consent_actions(*, user: Any, record: ConsentRecord) -> frozenset[str]:
    """Return the actions ``user`` may take on ``record``."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    actions = set()
    if user.has_perm("consent.view_consentrecord"):
        actions.add(VIEW)
    if user.has_perm("consent.view_consent_document") or any(rule(user, record) for rule in _document_rules.values()):
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


# Editors may view consent records (to link them to posts) but not open the registry of every
# person and form; reading signed forms is what marks a Consent officer (and Governance).
REGISTRY_PERMISSIONS = ("consent.view_consentrecord", "consent.view_consent_document")


def registry_allowed(*, user: Any) -> bool:
    """Return whether ``user`` may use the consent registry pages (Consent officers and Governance)."""
    return bool(user.is_authenticated and user.is_active and user.has_perms(REGISTRY_PERMISSIONS))
