"""Who may open and post to every named URL: the permission matrix's expected answers, as data.

One line per URL name: ``row(default, role=outcome, ...)``. An outcome is the same for both objects,
or a pair ``(own, foreign)``: "own" is the user's campaign (their team, or the campaign they are
assigned to review), the record or person a post of that campaign relies on, their own plan
upload, their own pending consent; "foreign" is the same thing belonging to other people
(tests/permission_world.py builds both). URLs that act on no object have one outcome per role.
``anonymous`` is always LOGIN unless the row says otherwise.

Changing a rule is a one-line edit here. A new URL without a row fails
``test_every_named_url_has_an_expectation``.
"""

from tests.permission_world import OWN

Outcome = str

OK = "ok"  # GET: 200. POST: 2xx/3xx (not to a login page); a writing endpoint wrote an audit event.
REDIRECT = "redirect"  # 3xx to somewhere other than a login page, nothing written (e.g. to one's own plan).
SHOWN = "shown"  # a list page: 200 and the object is on it.
HIDDEN = "hidden"  # a list page: 200 and the object is not on it.
FORBIDDEN = "403"  # 403, nothing changed.
NOT_FOUND = "404"  # 404, nothing changed (no hint that the object exists).
DENIED = "denied"  # 403 or 404, nothing changed (where either answer is right).
REFUSED = "refused"  # 3xx back to a page that says no, nothing changed.
LOGIN = "login"  # 3xx to a login page, nothing changed.

DENIALS = frozenset({FORBIDDEN, NOT_FOUND, DENIED, REFUSED, LOGIN, HIDDEN})

# Every role of people.roles, as the world's users; then a superuser, a user without any group,
# and no user at all.
ROLES = (
    "editor",
    "medical",
    "legal",
    "comms",
    "consent",
    "governance",
    "viewer",
    "superuser",
    "nobody",
    "anonymous",
)

Cell = Outcome | tuple[Outcome, Outcome]


def row(default: Cell, **roles: Cell) -> dict[str, Cell]:
    """Return a URL's outcomes per role: ``default`` for every signed-in role not named, LOGIN for anonymous."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"not roles: {sorted(unknown)}"
    return {role: roles.get(role, LOGIN if role == "anonymous" else default) for role in ROLES}


# Campaign visibility today: the team and assigned reviewers see a campaign; Governance, Viewers
# and superusers see all; Consent officers and people without a role see none.
SEES_OWN = (OK, NOT_FOUND)
CAMPAIGN_PAGE = {"editor": SEES_OWN, "medical": SEES_OWN, "legal": SEES_OWN, "comms": SEES_OWN}
ALL_SEEING = {"governance": OK, "viewer": OK, "superuser": OK}
# The same on list pages: which campaigns' objects are listed.
CAMPAIGN_LIST = dict.fromkeys(CAMPAIGN_PAGE, (SHOWN, HIDDEN)) | dict.fromkeys(ALL_SEEING, SHOWN)
# Who acts on posts: the campaign's editors and superusers; Governance sees every post, acts on none.
POST_ACTION = {
    "editor": (OK, NOT_FOUND),
    "medical": (REFUSED, NOT_FOUND),
    "legal": (REFUSED, NOT_FOUND),
    "comms": (REFUSED, NOT_FOUND),
    "governance": REFUSED,
    "viewer": REFUSED,
    "superuser": OK,
}
# Review comments: who sees the post; reviewers comment, Governance, Viewers and superusers (no
# reviewer group) are refused.
COMMENTERS = {
    "medical": (OK, NOT_FOUND),
    "legal": (OK, NOT_FOUND),
    "comms": (OK, NOT_FOUND),
    "governance": REFUSED,
    "viewer": REFUSED,
    "superuser": REFUSED,
}
SETTLERS = {
    "editor": (OK, NOT_FOUND),
    "medical": (OK, NOT_FOUND),
    "legal": (REFUSED, NOT_FOUND),
    "comms": (REFUSED, NOT_FOUND),
    "governance": REFUSED,
    "viewer": REFUSED,
    "superuser": OK,
}
REGISTRY = {"consent": OK, "superuser": OK}
IMPORTERS = {"editor": OK, "superuser": OK}
OWN_PLAN = (OK, NOT_FOUND)

EXPECTATIONS: dict[str, dict[str, Cell]] = {
    # Signing in and out, language.
    "login": row(REDIRECT, anonymous=OK),
    "logout": row(LOGIN),  # logging out lands on the login page
    "people:language": row(REDIRECT, anonymous=REDIRECT),
    "people:preferences": row(OK),
    "people:deputies": row(OK),
    # Another person's deputy period answers as one that does not exist (tests/people/test_deputies.py).
    "people:deputy_end": row(NOT_FOUND),
    # Notices: each person their own; someone else's is not found (no hint that it exists).
    "people:notices": row(OK),
    "people:notices_read_all": row(OK),
    "people:notice_open": row((REDIRECT, NOT_FOUND)),
    "people:notice_read": row((OK, NOT_FOUND)),
    "admin:index": row(LOGIN, governance=OK, superuser=OK),
    # Calendar, campaigns and posts.
    "posts:calendar": row(OK),
    # Everyone signed in has a home page; what it lists is per role (tests/home/test_home_views.py).
    "home:home": row(OK),
    "posts:campaign_list": row(HIDDEN, **CAMPAIGN_LIST),
    "posts:campaign_create": row(FORBIDDEN, editor=OK, governance=OK, superuser=OK),
    "posts:campaign_detail": row(NOT_FOUND, **CAMPAIGN_PAGE, **ALL_SEEING),
    "posts:campaign_edit": row(
        NOT_FOUND,
        editor=(OK, NOT_FOUND),
        medical=(FORBIDDEN, NOT_FOUND),
        legal=(FORBIDDEN, NOT_FOUND),
        comms=(FORBIDDEN, NOT_FOUND),
        governance=OK,
        viewer=FORBIDDEN,
        superuser=OK,
    ),
    "posts:post_create": row(FORBIDDEN, editor=OK, superuser=OK),
    "posts:post_detail": row(NOT_FOUND, **CAMPAIGN_PAGE, **ALL_SEEING),
    # The state of a post's image checks: whoever may see the post (the editor and the post page ask it).
    "posts:media_checks": row(NOT_FOUND, **CAMPAIGN_PAGE, **ALL_SEEING),
    "posts:post_edit": row(
        NOT_FOUND,
        editor=(OK, NOT_FOUND),
        medical=(FORBIDDEN, NOT_FOUND),
        legal=(FORBIDDEN, NOT_FOUND),
        comms=(FORBIDDEN, NOT_FOUND),
        governance=FORBIDDEN,
        viewer=FORBIDDEN,
        superuser=OK,
    ),
    # The evidence pack (evidence/policy.py): who sees the post and answers for its record; Viewers see
    # the post but get no pack; Consent officers see no campaign here, so no post.
    "evidence:pack_download": row(
        NOT_FOUND,
        editor=(OK, NOT_FOUND),
        medical=(OK, NOT_FOUND),
        legal=(OK, NOT_FOUND),
        comms=(OK, NOT_FOUND),
        governance=OK,
        viewer=FORBIDDEN,
        superuser=OK,
    ),
    "posts:findings": row(FORBIDDEN, editor=(OK, NOT_FOUND), superuser=OK),
    "posts:consent_options": row(FORBIDDEN, editor=(OK, NOT_FOUND), superuser=OK),
    "posts:pending_thumbnail": row(NOT_FOUND),
    "posts:linkcard_image": row(NOT_FOUND),
    "posts:post_move": row(NOT_FOUND, **POST_ACTION),
    # The calendar's Move link without a script: the form of whoever may move the post.
    "posts:post_move_form": row(
        NOT_FOUND,
        editor=(OK, NOT_FOUND),
        medical=(FORBIDDEN, NOT_FOUND),
        legal=(FORBIDDEN, NOT_FOUND),
        comms=(FORBIDDEN, NOT_FOUND),
        governance=FORBIDDEN,
        viewer=FORBIDDEN,
        superuser=OK,
    ),
    "posts:post_schedule": row(NOT_FOUND, **POST_ACTION),
    "posts:post_unschedule": row(NOT_FOUND, **POST_ACTION),
    "posts:post_withdraw": row(NOT_FOUND, **POST_ACTION),
    # Claims are content: whoever edits the post marks them.
    "posts:claim_add": row(NOT_FOUND, **POST_ACTION),
    "posts:claim_source": row(NOT_FOUND, **POST_ACTION),
    "posts:claim_remove": row(NOT_FOUND, **POST_ACTION),
    # Editors ask for crisis handling; Communications (its campaigns) and Governance declare it instead.
    "posts:post_crisis_request": row(NOT_FOUND, **(POST_ACTION | {"superuser": REFUSED})),
    "posts:post_crisis_declare": row(
        NOT_FOUND,
        editor=(REFUSED, NOT_FOUND),
        medical=(REFUSED, NOT_FOUND),
        legal=(REFUSED, NOT_FOUND),
        comms=(OK, NOT_FOUND),
        governance=OK,
        viewer=REFUSED,
        superuser=OK,
    ),
    "media": row(NOT_FOUND, **CAMPAIGN_PAGE, **ALL_SEEING),
    # Review.
    "approvals:inbox": row(OK),
    "approvals:my_posts": row(OK),
    "approvals:review": row(NOT_FOUND, **CAMPAIGN_PAGE, **ALL_SEEING),
    "approvals:submit": row(NOT_FOUND, **POST_ACTION),
    # Each reviewer decides the post waiting at their own stage; the author and everyone else may not.
    "approvals:decide": row(
        NOT_FOUND,
        editor=(REFUSED, NOT_FOUND),
        medical=(OK, NOT_FOUND),
        legal=(OK, NOT_FOUND),
        comms=(OK, NOT_FOUND),
        governance=REFUSED,
        viewer=REFUSED,
        superuser=REFUSED,
    ),
    # Review comments: the campaign's reviewers start threads; its editors reply, and resolve those
    # that do not block (the one asked about); its author (the Medical reviewer) or their group too.
    "approvals:comment_add": row(NOT_FOUND, **COMMENTERS, editor=(REFUSED, NOT_FOUND)),
    "approvals:comment_reply": row(NOT_FOUND, **(COMMENTERS | {"editor": (OK, NOT_FOUND), "superuser": OK})),
    "approvals:comment_resolve": row(NOT_FOUND, **SETTLERS),
    "approvals:comment_reopen": row(NOT_FOUND, **SETTLERS),
    "approvals:comment_blocking": row(
        NOT_FOUND,
        **(COMMENTERS | {"legal": (REFUSED, NOT_FOUND), "comms": (REFUSED, NOT_FOUND), "editor": (REFUSED, NOT_FOUND)}),
    ),
    # Only who may decide the medical stage now marks a claim's source checked.
    "approvals:claim_check": row(
        NOT_FOUND,
        editor=(REFUSED, NOT_FOUND),
        medical=(OK, NOT_FOUND),
        legal=(REFUSED, NOT_FOUND),
        comms=(REFUSED, NOT_FOUND),
        governance=REFUSED,
        viewer=REFUSED,
        superuser=REFUSED,
    ),
    # Re-certification: the first stage's group (Medical in the default chain); never the author.
    "approvals:recertify": row(
        NOT_FOUND,
        editor=(REFUSED, NOT_FOUND),
        medical=(OK, NOT_FOUND),
        legal=(REFUSED, NOT_FOUND),
        comms=(REFUSED, NOT_FOUND),
        governance=REFUSED,
        viewer=REFUSED,
        superuser=REFUSED,
    ),
    "approvals:chain": row(
        NOT_FOUND,
        editor=(REFUSED, NOT_FOUND),
        medical=(REFUSED, NOT_FOUND),
        legal=(REFUSED, NOT_FOUND),
        comms=(REFUSED, NOT_FOUND),
        governance=OK,
        viewer=REFUSED,
        superuser=OK,
    ),
    # The consent registry: Consent officers and superusers; the registry is closed as a whole.
    "consent:registry": row(FORBIDDEN, consent=SHOWN, superuser=SHOWN),
    "consent:subject_create": row(FORBIDDEN, **REGISTRY),
    "consent:subject_detail": row(FORBIDDEN, **REGISTRY),
    "consent:subject_edit": row(FORBIDDEN, **REGISTRY),
    "consent:record_create": row(FORBIDDEN, **REGISTRY),
    "consent:record_detail": row(FORBIDDEN, **REGISTRY),
    # Own: a pending record the Consent officer recorded (never theirs to verify); foreign: another's.
    "consent:record_verify": row(FORBIDDEN, consent=(FORBIDDEN, OK), governance=FORBIDDEN, superuser=OK),
    "consent:record_revoke": row(FORBIDDEN, **REGISTRY),
    "consent:record_print": row(FORBIDDEN, **REGISTRY),
    # Online withdrawal (GDPR Art. 7(3)): public, no account; everyone, signed in or not, gets the pages.
    # Opening a confirmation link changes nothing (only its POST withdraws: tests/consent/test_withdrawal.py).
    "withdrawal:start": row(OK, anonymous=OK),
    "withdrawal:sent": row(OK, anonymous=OK),
    "withdrawal:confirm": row(OK, anonymous=OK),
    # GDPR Art. 17 erasure and the Art. 15 export of a person: Consent officers and superusers.
    "consent:subject_erase": row(FORBIDDEN, **REGISTRY),
    "consent:subject_export": row(FORBIDDEN, **REGISTRY),
    "consent:record_copy_given": row(FORBIDDEN, **REGISTRY),
    # Signed forms and FHIR exports: Consent officers and superusers; the reviewers of the stage
    # deciding a post that relies on the consent; Editors and Governance never.
    "consent:document": row(
        NOT_FOUND,
        editor=DENIED,
        medical=(OK, NOT_FOUND),
        legal=(OK, NOT_FOUND),
        comms=(OK, NOT_FOUND),
        consent=OK,
        superuser=OK,
    ),
    "consent:fhir": row(
        NOT_FOUND, medical=(OK, NOT_FOUND), legal=(OK, NOT_FOUND), comms=(OK, NOT_FOUND), consent=OK, superuser=OK
    ),
    # A person's consents as one FHIR Bundle: the same readers; reviewers get the records they may export.
    "consent:subject_fhir": row(
        NOT_FOUND, medical=(OK, NOT_FOUND), legal=(OK, NOT_FOUND), comms=(OK, NOT_FOUND), consent=OK, superuser=OK
    ),
    # Publishing: the campaign's editors, Communications for its campaigns; Governance reads.
    "publishing:publishing": row(
        FORBIDDEN, editor=(SHOWN, HIDDEN), comms=(SHOWN, HIDDEN), governance=SHOWN, superuser=SHOWN
    ),
    "publishing:publication_retry": row(
        NOT_FOUND, editor=(OK, NOT_FOUND), comms=(OK, DENIED), governance=REFUSED, superuser=OK
    ),
    "publishing:takedown_confirm": row(
        NOT_FOUND, editor=(OK, NOT_FOUND), comms=(OK, DENIED), governance=REFUSED, superuser=OK
    ),
    "publishing:takedown_delete": row(
        NOT_FOUND, editor=(OK, NOT_FOUND), comms=(OK, DENIED), governance=REFUSED, superuser=OK
    ),
    # Plans: importers, each only their own upload (its token kept in their session).
    "plans:import": row(FORBIDDEN, **IMPORTERS),
    "plans:template": row(OK),
    # The export lists the posts the user may see (the side's draft is one of them, or not).
    "plans:export": row(HIDDEN, **CAMPAIGN_LIST),
    "plans:preview": row(FORBIDDEN, editor=OWN_PLAN, superuser=OWN_PLAN),
    "plans:confirm": row(FORBIDDEN, editor=(REDIRECT, NOT_FOUND), superuser=(REDIRECT, NOT_FOUND)),
    "plans:progress": row(NOT_FOUND, editor=OWN_PLAN, superuser=OWN_PLAN),
    "plans:errors": row(FORBIDDEN, editor=OWN_PLAN, superuser=OWN_PLAN),
    # The compliance archive, retention and legal holds: Governance's only (docs/retention.md).
    "evidence:archives": row(FORBIDDEN, governance=OK, superuser=OK),
    "evidence:archive": row(FORBIDDEN, governance=OK, superuser=OK),
    "evidence:archive_download": row(FORBIDDEN, governance=OK, superuser=OK),
    "evidence:purge_reports": row(FORBIDDEN, governance=OK, superuser=OK),
    "evidence:purge_report": row(FORBIDDEN, governance=OK, superuser=OK),
}

# Named URLs the matrix leaves to others, each with the reason.
EXCLUDED_PREFIXES = {
    "admin:": "the admin's pages have their own tests (tests/test_admin.py, the page sweep); admin:index is here",
    # django-allauth's pages act on the signed-in person's own account only (no campaign, post or
    # record, so no own/foreign side): tested where sign-in is (tests/people/test_two_factor.py,
    # test_sso.py, test_lockout.py, test_sessions.py and their browser journeys).
    "account_": "django-allauth's sign-in, password and confirm-it's-you pages (tests/people/test_two_factor.py)",
    "mfa_": "django-allauth's two-factor pages for one's own factors (tests/people/test_two_factor*.py)",
    "socialaccount_": "single sign-on error pages; linking and signing up redirect away (tests/people/test_sso.py)",
    "openid_connect_": "the single sign-on round trip (tests/people/test_sso.py, test_sso_browser.py)",
}
EXCLUDED = {
    "set_language": "Django's own i18n view; Rounds' language switch is people:language",
}

# Expectations that encode the corrected rule where the code still answers otherwise (issue 13,
# fixed on branch i13-access). These cells fail until that branch is merged; then this set empties.
PENDING_FIX: dict[tuple[str, str, str], str] = {}


def expected(url: str, role: str, relation: str) -> Outcome:
    """Return the outcome the matrix expects for one cell."""
    cell = EXPECTATIONS[url][role]
    if isinstance(cell, tuple):
        own, foreign = cell
        return own if relation == OWN else foreign
    return cell
