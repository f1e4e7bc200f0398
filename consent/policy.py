"""The one answer to "what may this user do with this consent record?".

The access model (docs/security.md, "Access model"): the registry, the signed forms and the FHIR
exports are the Consent officers'; besides them, only the reviewers of a stage that is deciding a
post relying on a consent read its form and export, while that stage decides (a rule the
approvals app registers here). Nobody else: not Governance, not Editors, unless they also hold
the Consent officer role.
"""

from collections.abc import Callable
from functools import cached_property

from django.contrib.auth.models import AnonymousUser

from consent.models import ConsentRecord
from people.models import User

VIEW = "view"
VIEW_DOCUMENT = "view_document"
EXPORT_FHIR = "export_fhir"
VERIFY = "verify"
REVOKE = "revoke"
COPY_GIVEN = "copy_given"
# Registry actions that concern no one record: asked with ``ConsentPolicy.may``.
REGISTER_SUBJECT = "register_subject"
CHANGE_SUBJECT = "change_subject"
RECORD = "record"
ERASE_SUBJECT = "erase_subject"
EXPORT_SUBJECT = "export_subject"

# Apps above consent (approvals) add who else may read a form, e.g. the reviewers deciding a post using it.
DocumentAccessRule = Callable[[User | AnonymousUser, ConsentRecord], bool]
_document_rules: dict[str, DocumentAccessRule] = {}


def document_access_register(key: str, rule: DocumentAccessRule) -> None:
    _document_rules[key] = rule


# Opening the registry of every person and form is what marks a Consent officer.
REGISTRY_PERMISSIONS = ("consent.view_consentrecord", "consent.view_consent_document")

# The model permission each registry-wide action needs (people.roles.ROLE_PERMISSIONS grants them).
ACTION_PERMISSIONS = {
    REGISTER_SUBJECT: "consent.add_subject",
    CHANGE_SUBJECT: "consent.change_subject",
    RECORD: "consent.add_consentrecord",
    VERIFY: "consent.verify_consentrecord",
    REVOKE: "consent.revoke_consentrecord",
    ERASE_SUBJECT: "consent.erase_subject",
    EXPORT_SUBJECT: "consent.export_subject",
}


class ConsentPolicy:
    """Answers per user, for the registry's pages, the admin, the signed-form download and the services."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user

    @cached_property
    def signed_in(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_active)

    @cached_property
    def may_open_registry(self) -> bool:
        """Whether this user may use the consent registry pages (Consent officers only)."""
        return self.signed_in and self.user.has_perms(REGISTRY_PERMISSIONS)

    def may(self, action: str) -> bool:
        """Whether this user's role allows ``action`` at all (register, record, verify, revoke, ...)."""
        return self.signed_in and self.user.has_perm(ACTION_PERMISSIONS[action])

    def may_read_document(self, record: ConsentRecord) -> bool:
        """Whether this user may read ``record``'s signed form and FHIR export: officers and the registered rules."""
        if not self.signed_in:
            return False
        return self.user.has_perm("consent.view_consent_document") or any(
            rule(self.user, record) for rule in _document_rules.values()
        )

    def actions(self, record: ConsentRecord) -> frozenset[str]:
        """Return the actions this user may take on ``record``."""
        user = self.user
        if not self.signed_in:
            return frozenset()
        actions = set()
        if user.has_perm("consent.view_consentrecord"):
            actions.add(VIEW)
        if self.may_read_document(record):
            actions |= {VIEW_DOCUMENT, EXPORT_FHIR}
        unverified = record.verified_at is None and record.revoked_at is None
        if self.may(VERIFY) and unverified and record.recorded_by_id != user.pk:
            actions.add(VERIFY)
        if self.may(REVOKE) and record.revoked_at is None:
            actions.add(REVOKE)
        if self.may(RECORD) and record.copy_given_on is None:
            actions.add(COPY_GIVEN)
        return frozenset(actions)
