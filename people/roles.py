"""The roles of SPEC section 1 and the model permissions each one holds.

Groups are created by a data migration; their permissions are synced after every migrate
(permissions only exist once all apps have migrated), so this table is the one truth.
Object permissions per campaign (django-guardian) narrow what Editors and reviewers see.
"""

from django.utils.translation import gettext_noop

from core.i18n import default_names_register

# The group names are data (their rows are looked up by these English names); marked for the
# catalogues and shown translated by core.i18n.display_name while a group keeps its name.
EDITOR = gettext_noop("Editor")
MEDICAL_REVIEWER = gettext_noop("Medical reviewer")
LEGAL_REVIEWER = gettext_noop("Legal reviewer")
COMMUNICATIONS_REVIEWER = gettext_noop("Communications reviewer")
CONSENT_OFFICER = gettext_noop("Consent officer")
GOVERNANCE = gettext_noop("Governance")
VIEWER = gettext_noop("Viewer")

ROLES = [
    EDITOR,
    MEDICAL_REVIEWER,
    LEGAL_REVIEWER,
    COMMUNICATIONS_REVIEWER,
    CONSENT_OFFICER,
    GOVERNANCE,
    VIEWER,
]
REVIEWER_ROLES = [MEDICAL_REVIEWER, LEGAL_REVIEWER, COMMUNICATIONS_REVIEWER]
default_names_register(ROLES)

# Roles that see every campaign without being on its team.
SEE_ALL_ROLES = [GOVERNANCE, VIEWER]

# "app_label.codename" or "app_label.*" for every permission of an app's models.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    EDITOR: [
        "posts.add_campaign",
        "posts.add_post",
        "posts.change_post",
        "posts.add_media",
        "posts.change_media",
        "posts.delete_media",
        "posts.import_plan",
        # No consent permission: the editor's consent picker offers valid consents by name, scope
        # and validity (posts.selectors.consents_offered); the registry, signed forms and FHIR
        # exports are the Consent officers'.
    ],
    MEDICAL_REVIEWER: ["approvals.view_reviewchain"],
    LEGAL_REVIEWER: ["approvals.view_reviewchain"],
    # Communications acts on failed and blocked publications and on takedowns (the Publishing
    # page), of the campaigns it is assigned to only: PublishingPolicy narrows these per campaign.
    COMMUNICATIONS_REVIEWER: [
        "approvals.view_reviewchain",
        # Crisis posts take the expedited chain: Communications declares them, editors ask (SPEC section 1).
        "posts.declare_crisis",
        "publishing.view_publication",
        "publishing.change_publication",
        "publishing.view_takedownitem",
        "publishing.change_takedownitem",
    ],
    CONSENT_OFFICER: [
        "consent.add_subject",
        "consent.change_subject",
        "consent.view_subject",
        "consent.add_consentrecord",
        "consent.view_consentrecord",
        "consent.verify_consentrecord",
        "consent.revoke_consentrecord",
        "consent.view_consent_document",
        "consent.view_consentsigner",
        "consent.erase_subject",
        "consent.export_subject",
    ],
    GOVERNANCE: [
        "people.*",
        "audit.view_auditevent",
        "audit.view_notification",
        "audit.view_erasurekey",
        # Campaigns (and so their teams and reviewers, posts.policy.CampaignPolicy) and platform
        # accounts with their credentials; posts, media and revisions to look at only: creating,
        # editing, submitting, scheduling, withdrawing posts and importing plans are an Editor's.
        "posts.view_campaign",
        "posts.add_campaign",
        "posts.change_campaign",
        "posts.view_account",
        "posts.add_account",
        "posts.change_account",
        "posts.view_post",
        "posts.view_posttarget",
        "posts.view_media",
        "posts.view_revision",
        "posts.view_featuredperson",
        "posts.view_claim",
        "posts.view_linkcard",
        "posts.view_mediascan",
        "posts.declare_crisis",
        # Oversight of what went out, read-only: Communications and the campaign's editors act.
        "publishing.view_publication",
        "publishing.view_publicationattempt",
        "publishing.view_takedownitem",
        # No consent permission: the registry, signed forms and FHIR exports, verifying and
        # revoking are a Consent officer's (SPEC section 1); Governance gets them only as one.
        "approvals.*",
        "auth.view_group",
        "auth.change_group",
        # Who is linked to which subject at the single sign-on provider (people.sso).
        "socialaccount.view_socialaccount",
        # Failed log-ins and log-ins (django-axes); deleting an attempt unlocks (docs/security.md).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
        # To remove a lost second factor (people.admin.AuthenticatorAdmin); never to read or add one.
        "mfa.view_authenticator",
        "mfa.delete_authenticator",
        # The task queue is read-only (SPEC section 1): whoever may add or change a schedule
        # chooses the function the cluster runs, and so runs code.
        "django_q.view_schedule",
        "django_q.view_task",
        "django_q.view_success",
        "django_q.view_failure",
        "django_q.view_ormq",
        # The compliance archive, retention rules, legal holds and purge reports (docs/retention.md).
        # The archive holds no signed consent forms, so it needs no consent permission.
        "evidence.add_archivejob",
        "evidence.view_archivejob",
        "evidence.view_retentionrule",
        "evidence.change_retentionrule",
        "evidence.view_legalhold",
        "evidence.add_legalhold",
        "evidence.change_legalhold",
        "evidence.view_purgereport",
    ],
    VIEWER: ["posts.view_campaign", "posts.view_post"],
}
