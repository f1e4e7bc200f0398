"""What each audit action code means, in words, for the people who read the trail.

The codes (``post.revision_created``) stay in the database and the hash chain; only their display
is translated. A code missing here (a new one, or a test's) is shown as it is, never hidden.
"""

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    # Posts
    "post.created": _("Post created"),
    "media.checked": _("Image checked for text and faces"),
    "post.revision_created": _("Post: new revision"),
    "post.status_changed": _("Post: status changed"),
    "post.title_changed": _("Post: title changed"),
    "post.moved": _("Post: schedule changed"),
    "post.retracted": _("Post: retracted"),
    "post.crisis_requested": _("Post: crisis handling requested"),
    "post.crisis_declared": _("Post: crisis declared"),
    "post.edit_approved_after_publication": _("Post: edit approved after publication"),
    "post.claim_added": _("Claim added"),
    "post.claim_removed": _("Claim removed"),
    "post.claim_source_set": _("Claim: source given"),
    "campaign.created": _("Campaign created"),
    "campaign.updated": _("Campaign changed"),
    "account.created": _("Account added"),
    "plan.imported": _("Plan imported"),
    # Review
    "review.round_opened": _("Review: submitted"),
    "review.approve": _("Review: approved"),
    "review.request_changes": _("Review: changes requested"),
    "review.reject": _("Review: rejected"),
    "review.round_approved": _("Review: chain complete"),
    "review.round_changes_requested": _("Review: sent back to the author"),
    "review.round_rejected": _("Review: ended, rejected"),
    "review.round_superseded": _("Review: superseded by a new revision"),
    "review.round_cancelled": _("Review: cancelled"),
    "review.stage_status_changed": _("Review: stage status changed"),
    "review.stage_reminded": _("Review: overdue stage reminded"),
    "review.stage_escalated": _("Review: overdue stage escalated"),
    "review.deadline_changed": _("Review: deadline changed"),
    "review.comment_added": _("Review: comment added"),
    "review.comment_replied": _("Review: comment answered"),
    "review.comment_resolved": _("Review: comment resolved"),
    "review.comment_reopened": _("Review: comment reopened"),
    "review.comment_blocking_set": _("Review: comment marked blocking"),
    "review.claim_source_checked": _("Review: claim source checked"),
    "review.approval_expired": _("Review: approval expired"),
    "review.recertification_keep": _("Re-certification: kept"),
    "review.recertification_revise": _("Re-certification: revision asked for"),
    "review.recertification_withdraw": _("Re-certification: withdrawn"),
    "review.chain_created": _("Review chain created"),
    "review.chain_changed": _("Review chain changed"),
    "review.chain_deleted": _("Review chain deleted"),
    "review.campaign_chain_set": _("Chain chosen for a campaign"),
    "review.post_chain_set": _("Chain overridden for a post"),
    # Publishing
    "publication.created": _("Publication planned"),
    "publication.retimed": _("Publication: time changed"),
    "publication.status_changed": _("Publication: status changed"),
    "takedown.created": _("Takedown listed"),
    "takedown.confirmed": _("Takedown confirmed"),
    "takedown.deleted": _("Takedown: deleted on the platform"),
    "takedown.delete_refused": _("Takedown: platform refused deletion"),
    "takedown.delete_failed": _("Takedown: deletion failed"),
    # Consent
    "subject.created": _("Person registered"),
    "subject.changed": _("Person changed"),
    "consent.recorded": _("Consent recorded"),
    "consent.verified": _("Consent verified"),
    "consent.revoked": _("Consent revoked"),
    "consent.expired": _("Consent expired"),
    "consent.expiry_reminded": _("Consent: expiry reminder sent"),
    "consent.document_viewed": _("Consent: signed form opened"),
    "consent.fhir_exported": _("Consent: FHIR export"),
    "consent.copy_given": _("Consent: copy given to the signer"),
    "consent.reconsent_due": _("Consent: re-consent needed (turns 18)"),
    "consent.withdrawal_requested": _("Consent: online withdrawal requested"),
    "consent.withdrawal_unverifiable": _("Consent: online withdrawal not possible (no check on file)"),
    "consent.document_purged": _("Consent: signed form purged (retention)"),
    "subject.erased": _("Person erased (personal data)"),
    "subject.exported": _("Person: personal data exported (Art. 15)"),
    "post.person_redacted": _("Post: erased person's name redacted"),
    "post.media_purged": _("Post: media purged (retention)"),
    # Evidence, archive and retention
    "evidence.pack_created": _("Evidence pack created"),
    "evidence.pack_downloaded": _("Evidence pack downloaded"),
    "archive.requested": _("Archive requested"),
    "archive.completed": _("Archive completed"),
    "archive.failed": _("Archive failed"),
    "archive.downloaded": _("Archive downloaded"),
    "archive.file_purged": _("Archive file purged (retention)"),
    "retention.purged": _("Retention purge run"),
    "retention.rule_changed": _("Retention rule changed"),
    "legal_hold.placed": _("Legal hold placed"),
    "legal_hold.released": _("Legal hold released"),
    # People and sign-in
    "user.created": _("User created"),
    "user.updated": _("User changed"),
    "user.roles_changed": _("User: roles changed"),
    "user.permissions_changed": _("User: permissions changed"),
    "user.preferences_changed": _("User: preferences changed"),
    "user.password_changed": _("User: password changed"),
    "user.password_reset": _("User: password reset"),
    "user.two_factor_added": _("User: second factor added"),
    "user.two_factor_removed": _("User: second factor removed"),
    "user.two_factor_reset": _("User: second factor reset"),
    "group.permissions_changed": _("Role: permissions changed"),
    "deputy.created": _("Deputy named"),
    "deputy.deleted": _("Deputy removed"),
    "login.locked_out": _("Sign-in locked out"),
    "login.unlocked": _("Sign-in unlocked"),
}


def action_label(code: str) -> str:
    """Return the action's words in the active language, or the code itself when it has none."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def object_type_label(object_type: str) -> str:
    """Return a model's name for an ``app_label.model`` object type ("posts.post" → "Post"), else the type."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name).capitalize()
