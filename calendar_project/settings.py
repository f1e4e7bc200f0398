"""Settings for Rounds, read from the environment.

Development (``ROUNDS_DEBUG=1``, what ``make run`` sets) runs on SQLite with django-q2's
ORM broker. Production (the default) is hardened for ``manage.py check --deploy``;
``DATABASE_URL`` and ``ROUNDS_REDIS_URL`` move it to PostgreSQL and Redis.
"""

import datetime as dt
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets the generic classes the type hints name (admin.ModelAdmin[Post], forms.ModelForm[User], ...)
# be subscripted at runtime too; it changes nothing else.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def management_command(argv: list[str]) -> str:
    """Return the ``manage.py`` command this process runs; "" for a web server or the test runner."""
    if len(argv) > 1 and Path(argv[0]).name in {"manage.py", "django-admin"}:
        return argv[1]
    return ""


DEBUG = env_bool("ROUNDS_DEBUG", False)

SECRET_KEY = os.environ.get("ROUNDS_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set ROUNDS_SECRET_KEY (or ROUNDS_DEBUG=1 for development).")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ROUNDS_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("ROUNDS_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "people",
    "audit",
    "consent",
    "posts",
    "plans",
    "publishing",
    "approvals",
    "evidence",
    "home",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Sign-in, two-factor and single sign-on (docs/security.md): django-allauth.
    "django.contrib.sites",  # allauth.socialaccount's SocialApp table refers to sites
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "guardian",
    "django_q",
    "import_export",
    # django-csp: its system checks validate CONTENT_SECURITY_POLICY below.
    "csp",
    # Lockout after repeated failed log-ins (the "Lockout and sessions" block below).
    "axes",
    # The project: it syncs the schedules it declares (calendar_project/apps.py).
    "calendar_project",
    # Last: the demo data drives every other app's services, and no app imports it.
    "demo",
]

MIDDLEWARE = [
    # First: every log line of a request carries its id, and a database outage anywhere below
    # (sessions, authentication, views) answers 503 (calendar_project/web.py).
    "core.web.RequestIdMiddleware",
    # Every response below carries the Content-Security-Policy, the 413 and 503 pages included;
    # a response that set its own (media, consent documents: sandboxed) keeps it.
    "csp.middleware.CSPMiddleware",
    # Before anything reads the body: a request over ROUNDS_MAX_REQUEST_BYTES is refused unread.
    "core.inputs.RequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Turns "reauthentication required" into the confirm-it's-you page, and back to the request after.
    "allauth.account.middleware.AccountMiddleware",
    "people.middleware.UserPreferencesMiddleware",
    # After the user's language is active, so the 400 speaks it.
    "core.inputs.UnstorableInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: Governance and Consent officers without a second factor are sent to set one up.
    "people.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After messages: an idle or too old session is ended with a message on the login page.
    "people.middleware.SessionTimeoutMiddleware",
    # Last (django-axes): turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "calendar_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "approvals.context_processors.review_counts",
                "people.context_processors.notice_count",
                "home.context_processors.attention",
            ],
            # {{ moment|when }}: the language's short date and time, with the zone where it matters.
            # {{ post|label:"status" }}: a choice's label, as get_status_display, made once per language.
            # {{ form.title|field_row }}: a field with its label, help text and errors.
            # {% topbar %}: every page's header (base.html).
            "builtins": [
                "core.templatetags.rounds_time",
                "core.templatetags.rounds_labels",
                "core.templatetags.rounds_forms",
                "core.templatetags.rounds_chrome",
            ],
        },
    },
]

# Django's widget templates for inputs, selects, checkbox lists and text areas written out in Python
# (the same bytes, a fraction of the time); every other form template renders as usual.
FORM_RENDERER = "core.form_renderer.PythonWidgetRenderer"

WSGI_APPLICATION = "calendar_project.wsgi.application"

# SQLite by default; DATABASE_URL=postgres://... for PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'rounds.sqlite3'}",
        conn_max_age=int(os.environ.get("ROUNDS_CONN_MAX_AGE", "60")),
    )
}
# Outages (docs/operations.md#database-timeouts): a database that does not answer must not hold a
# web worker for longer than a person waits. Web requests give up on a statement after
# ROUNDS_DB_STATEMENT_TIMEOUT seconds; manage.py commands (migrate, qcluster, publish_dispatcher,
# verify_audit, ...) after ROUNDS_DB_COMMAND_STATEMENT_TIMEOUT (0: never), because a migration may
# rewrite a whole table, verify_audit reads the whole chain, and a task is already bounded by
# django-q2's timeout.
ROUNDS_DB_CONNECT_TIMEOUT = int(os.environ.get("ROUNDS_DB_CONNECT_TIMEOUT", "5"))
_command = management_command(sys.argv)
ROUNDS_DB_STATEMENT_TIMEOUT = float(
    os.environ.get("ROUNDS_DB_STATEMENT_TIMEOUT", "30")
    if _command in {"", "runserver"}
    else os.environ.get("ROUNDS_DB_COMMAND_STATEMENT_TIMEOUT", "0")
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": ROUNDS_DB_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={round(ROUNDS_DB_STATEMENT_TIMEOUT * 1000)}",
    }
    # Parameters sent apart from the SQL, so psycopg prepares a statement a connection has run this
    # many times, and PostgreSQL parses and plans it no more (core/database.py says why). 0 turns it
    # off, for a pooler that cannot keep prepared statements (docs/operations.md#prepared-statements).
    ROUNDS_DB_PREPARED_STATEMENTS = int(os.environ.get("ROUNDS_DB_PREPARED_STATEMENTS", "5"))
    if ROUNDS_DB_PREPARED_STATEMENTS:
        from core.database import PreparingCursor

        DATABASES["default"]["OPTIONS"] |= {
            "server_side_binding": True,
            "cursor_factory": PreparingCursor,
            "prepare_threshold": ROUNDS_DB_PREPARED_STATEMENTS,
        }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers up front, so a read-then-write
    # (the audit chain, compare-and-set claims) never fails half way with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": float(os.environ.get("ROUNDS_SQLITE_BUSY_TIMEOUT", "30")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

AUTHENTICATION_BACKENDS = [
    # First: refuses every log-in of a locked-out person or address before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    # allauth's backend (username log-in, passkeys); refuses passwords when ROUNDS_LOCAL_PASSWORDS is off.
    "people.backends.AllauthLocalPasswordBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; every page needs login.
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- single sign-on with OpenID Connect (issue 13, i13-sso; docs/security.md#single-sign-on-openid-connect) ---
SITE_ID = 1
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# Rounds creates the account itself at the first sign-in (people.sso): never allauth's signup form.
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_ADAPTER = "people.sso.RoundsSocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_OPENID_CONNECT_URL_PREFIX = "oidc"
# The provider's issuer (its /.well-known/openid-configuration is read from there) and the client
# Rounds is registered as. Without ROUNDS_OIDC_SERVER_URL there is no "Sign in with ..." button.
ROUNDS_OIDC_PROVIDER_ID = os.environ.get("ROUNDS_OIDC_PROVIDER_ID", "sso")
ROUNDS_OIDC_NAME = os.environ.get("ROUNDS_OIDC_NAME", "single sign-on")
ROUNDS_OIDC_SERVER_URL = os.environ.get("ROUNDS_OIDC_SERVER_URL", "")
ROUNDS_OIDC_CLIENT_ID = os.environ.get("ROUNDS_OIDC_CLIENT_ID", "")
ROUNDS_OIDC_CLIENT_SECRET = os.environ.get("ROUNDS_OIDC_CLIENT_SECRET", "")
# The claim that lists a person's groups (a dotted path reaches into an object: realm_access.roles),
# and which claim value gives which Rounds role: JSON ({"rounds-editors": "Editor"}, a list of
# roles per value allowed) or "rounds-editors=Editor;rounds-gov=Governance".
ROUNDS_OIDC_GROUPS_CLAIM = os.environ.get("ROUNDS_OIDC_GROUPS_CLAIM", "groups")
ROUNDS_OIDC_ROLE_MAP = os.environ.get("ROUNDS_OIDC_ROLE_MAP", "")
# Refuse the sign-in of a person none of whose groups maps to a role.
ROUNDS_OIDC_REQUIRE_ROLE = env_bool("ROUNDS_OIDC_REQUIRE_ROLE", True)
# Off: nobody logs in with a password (single sign-on only), except superusers while
# ROUNDS_SUPERUSER_PASSWORDS is on: the break-glass for when the provider is down.
ROUNDS_LOCAL_PASSWORDS = env_bool("ROUNDS_LOCAL_PASSWORDS", True)
ROUNDS_SUPERUSER_PASSWORDS = env_bool("ROUNDS_SUPERUSER_PASSWORDS", True)
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {
    "openid_connect": {
        # Always verifies the ID token's signature and a nonce (people/oidc/provider.py).
        "provider_class": "people.oidc.provider.RoundsOpenIDConnectProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": ROUNDS_OIDC_PROVIDER_ID,
                "name": ROUNDS_OIDC_NAME,
                "client_id": ROUNDS_OIDC_CLIENT_ID,
                "secret": ROUNDS_OIDC_CLIENT_SECRET,
                "settings": {"server_url": ROUNDS_OIDC_SERVER_URL},
            }
        ]
        if ROUNDS_OIDC_SERVER_URL
        else [],
    }
}
# --- end single sign-on ---

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "login"

# Lockout and sessions (docs/security.md). A person, or an address, that fails to log in
# ROUNDS_LOGIN_FAILURE_LIMIT times within ROUNDS_LOGIN_COOLOFF_MINUTES is refused, even with the
# right password, until that time has passed since the last failure or Governance unlocks it in
# the admin (Access attempts). Both the username and the address count (django-axes).
ROUNDS_LOGIN_FAILURE_LIMIT = int(os.environ.get("ROUNDS_LOGIN_FAILURE_LIMIT", "5"))
ROUNDS_LOGIN_COOLOFF_MINUTES = int(os.environ.get("ROUNDS_LOGIN_COOLOFF_MINUTES", "30"))
# The client's address is REMOTE_ADDR. Behind a reverse proxy, name the header it sets to the address
# it saw (e.g. X-Forwarded-For; its right-most entry counts). Only behind a proxy that sets it on every
# request: anyone else can send the header and choose the address they are counted under.
ROUNDS_CLIENT_IP_HEADER = os.environ.get("ROUNDS_CLIENT_IP_HEADER", "")
AXES_FAILURE_LIMIT = ROUNDS_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=ROUNDS_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The log-in form's field is `username` (Django) or `login` (django-allauth); one callable reads either.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "people.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "people.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "people.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "login", "ip_address"]
AXES_VERBOSE = False
# A session ends ROUNDS_SESSION_MAX_HOURS after log-in, however active, and after
# ROUNDS_SESSION_IDLE_MINUTES without a request (people.middleware.SessionTimeoutMiddleware).
ROUNDS_SESSION_MAX_HOURS = float(os.environ.get("ROUNDS_SESSION_MAX_HOURS", "12"))
ROUNDS_SESSION_IDLE_MINUTES = float(os.environ.get("ROUNDS_SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = round(ROUNDS_SESSION_MAX_HOURS * 3600)
# Sign-in and two-factor with django-allauth (docs/security.md#sign-in-and-two-factor). People sign
# in with their username; Governance creates accounts, so nobody signs up.
ACCOUNT_ADAPTER = "people.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False
# No "remember me" box: a password sign-in sets the session to expire SESSION_COOKIE_AGE after its
# last save, as Django's settings said before allauth (False would end it when the browser closes;
# either way allauth's choice here wins over SESSION_EXPIRE_AT_BROWSER_CLOSE).
ACCOUNT_SESSION_REMEMBER = True
# Failed log-ins are counted and locked by django-axes (per person and per address, audited,
# unlocked by Governance; "Lockout and sessions" below), not by allauth's own limits, which would
# answer first with a form error of their own and leave no trace. Nor does allauth throttle all
# log-ins per address (30 a minute): a ward behind one address logs in together at shift change.
# allauth's other limits (password reset, re-authentication, ...) stay.
ACCOUNT_RATE_LIMITS = {"login_failed": None, "login": None}
# Password reset by e-mail, through EMAIL_BACKEND below; it never tells whether an address is known.
ACCOUNT_PREVENT_ENUMERATION = True
# ... and sends nothing to an unknown address (no mail to whoever someone types in).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Changing one's password or e-mail address asks for the password again.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# Seconds after signing in (or confirming it's you) in which sensitive acts need no new confirmation:
# opening a consent document, a FHIR export, changing people, roles, review chains or credentials.
ACCOUNT_REAUTHENTICATION_TIMEOUT = int(os.environ.get("ROUNDS_REAUTHENTICATION_SECONDS", "300"))
ROUNDS_REAUTHENTICATION_REQUIRED = env_bool("ROUNDS_REAUTHENTICATION_REQUIRED", True)
# Members of these groups, and anyone who opens a consent document or FHIR export, must have set up
# a second factor (an authenticator app or a security key / passkey) before they go on.
ROUNDS_TWO_FACTOR_REQUIRED = env_bool("ROUNDS_TWO_FACTOR_REQUIRED", True)
ROUNDS_TWO_FACTOR_GROUPS = env_list("ROUNDS_TWO_FACTOR_GROUPS", "Governance,Consent officer")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# The authenticator app's key and the recovery codes' seed are stored encrypted (people.accounts).
MFA_ADAPTER = "people.accounts.MFAAdapter"
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = os.environ.get("ROUNDS_TOTP_ISSUER", "Rounds")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("tr", _("Turkish")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date, time and number format per language; templates name a format (SHORT_DATETIME_FORMAT), never a pattern.
FORMAT_MODULE_PATH = ["calendar_project.formats"]
TIME_ZONE = os.environ.get("ROUNDS_TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("ROUNDS_STATIC_ROOT", BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("ROUNDS_MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Signed consent forms: never below MEDIA_ROOT, never served without a permission check.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("ROUNDS_PRIVATE_MEDIA_ROOT", BASE_DIR / "var" / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads: images are capped at 20 MB by the media pipeline; the request a little above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ROUNDS_MAX_IMAGE_BYTES = int(os.environ.get("ROUNDS_MAX_IMAGE_BYTES", str(20 * 1024 * 1024)))
ROUNDS_MAX_IMAGE_PIXELS = int(os.environ.get("ROUNDS_MAX_IMAGE_PIXELS", "40000000"))
# One copy of an image's decoded pixels may take this much memory (processing holds at most two);
# a larger JPEG is decoded at a half, quarter or eighth of its size, any other image is refused.
ROUNDS_MAX_DECODE_BYTES = int(os.environ.get("ROUNDS_MAX_DECODE_BYTES", str(128 * 1024 * 1024)))
# Images one form may send at once; a post's editor has four upload slots.
ROUNDS_MAX_MEDIA_PER_REQUEST = int(os.environ.get("ROUNDS_MAX_MEDIA_PER_REQUEST", "4"))
# A request body larger than this is refused with 413 before it is read (multipart file bodies are not
# bounded by DATA_UPLOAD_MAX_MEMORY_SIZE): by default that many images at the image limit, plus 1 MB.
ROUNDS_MAX_REQUEST_BYTES = int(
    os.environ.get("ROUNDS_MAX_REQUEST_BYTES", str(ROUNDS_MAX_MEDIA_PER_REQUEST * ROUNDS_MAX_IMAGE_BYTES + 1024 * 1024))
)
# The organisation named on consent forms as the one that discloses (HIPAA 164.508(c)(1)(ii)).
ROUNDS_ORGANISATION_NAME = os.environ.get("ROUNDS_ORGANISATION_NAME", "Rounds Hospital")
# After a death, consent (of the relatives) is needed for this many years per legal basis that applies
# to the hospital (consent/law.py, docs/consent.md): "kug" (images, KUG §22) and "hipaa" (all health
# information, 45 CFR 160.103). Leave a basis out where it does not apply: ROUNDS_CONSENT_AFTER_DEATH_YEARS=kug=10
ROUNDS_CONSENT_AFTER_DEATH_YEARS = {
    key.strip(): int(years)
    for key, _sep, years in (
        item.partition("=") for item in env_list("ROUNDS_CONSENT_AFTER_DEATH_YEARS", "kug=10,hipaa=50")
    )
}
# Consent officers are told this many days before a minor whose consent they hold turns 18.
ROUNDS_RECONSENT_NOTICE_DAYS = int(os.environ.get("ROUNDS_RECONSENT_NOTICE_DAYS", "60"))

# Review deadlines fall at least this long before a post's scheduled time.
ROUNDS_REVIEW_MARGIN = dt.timedelta(hours=float(os.environ.get("ROUNDS_REVIEW_MARGIN_HOURS", "2")))
# How long an overdue stage stays with its reviewers (and their deputies) before its whole group is told.
ROUNDS_REVIEW_ESCALATE_AFTER = dt.timedelta(hours=float(os.environ.get("ROUNDS_REVIEW_ESCALATE_AFTER_HOURS", "4")))
# The navigation's counts are counted again after each state change (a new audit event) or after
# this many seconds, whichever comes first (audit.selectors.state_cached); 0 counts on every page.
ROUNDS_STATE_CACHE_SECONDS = float(os.environ.get("ROUNDS_STATE_CACHE_SECONDS", "60"))

# Credentials of platform accounts are encrypted with Fernet keys from the environment
# (comma-separated; the first encrypts, all decrypt, so keys can be rotated).
ROUNDS_CREDENTIALS_KEYS = env_list("ROUNDS_CREDENTIALS_KEYS", "")

# Audit checkpoints (docs/security.md): the newest event's number and hash, signed with an Ed25519
# key the database never holds (comma-separated, base64url; the first signs, all verify) and
# appended to a file kept apart from the database, every ROUNDS_AUDIT_CHECKPOINT_MINUTES.
ROUNDS_AUDIT_KEYS = env_list("ROUNDS_AUDIT_KEY", "")
ROUNDS_AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("ROUNDS_AUDIT_CHECKPOINT_FILE", BASE_DIR / "var" / "audit" / "checkpoints.jsonl")
)
ROUNDS_AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("ROUNDS_AUDIT_CHECKPOINT_MINUTES", "15"))

# Evidence packs (docs/evidence.md) are signed with an Ed25519 key: PEM text from the environment,
# or a key made once and kept in this file (mode 600) beside the other var data.
ROUNDS_EVIDENCE_SIGNING_KEY = os.environ.get("ROUNDS_EVIDENCE_SIGNING_KEY", "")
ROUNDS_EVIDENCE_KEY_FILE = Path(
    os.environ.get("ROUNDS_EVIDENCE_KEY_FILE", BASE_DIR / "var" / "keys" / "evidence-signing.pem")
)

# Publishing (docs/publishing.md). The outbox connector writes one JSON file per publication here.
ROUNDS_OUTBOX_DIR = Path(os.environ.get("ROUNDS_OUTBOX_DIR", BASE_DIR / "var" / "outbox"))
# Calls per publication before it fails for good; a person's "Retry publishing" allows as many again.
ROUNDS_PUBLISH_MAX_ATTEMPTS = int(os.environ.get("ROUNDS_PUBLISH_MAX_ATTEMPTS", "6"))
# A publication this late is not sent but flagged overdue for a person to decide.
ROUNDS_PUBLISH_CUTOFF_MINUTES = float(os.environ.get("ROUNDS_PUBLISH_CUTOFF_MINUTES", "60"))
# How long after the lookahead a claim waits for a worker to start it before a dispatcher takes
# it back (the task may be lost with a dead cluster). A worker that started it keeps it by a
# heartbeat: every ROUNDS_PUBLISH_HEARTBEAT_SECONDS it renews the lease for
# ROUNDS_PUBLISH_CLAIM_STALE_SECONDS, so the claims of a dead worker come back within seconds.
ROUNDS_PUBLISH_LEASE_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_LEASE_SECONDS", "10"))
ROUNDS_PUBLISH_HEARTBEAT_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_HEARTBEAT_SECONDS", "1"))
ROUNDS_PUBLISH_CLAIM_STALE_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_CLAIM_STALE_SECONDS", "5"))
# How long a call in flight may take before it counts as "outcome unknown"; must exceed the
# HTTP timeout and django-q2's task timeout, so the worker is surely gone when it runs out.
ROUNDS_PUBLISH_SENT_LEASE_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_SENT_LEASE_SECONDS", "300"))
ROUNDS_PUBLISH_BACKOFF_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_BACKOFF_SECONDS", "30"))
ROUNDS_PUBLISH_BACKOFF_MAX_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_BACKOFF_MAX_SECONDS", "3600"))
ROUNDS_PUBLISH_HTTP_TIMEOUT = float(os.environ.get("ROUNDS_PUBLISH_HTTP_TIMEOUT", "10"))
# Connector and webhook URLs must resolve to public addresses (checked on save and for every
# request); set this for an intranet receiver. Development (ROUNDS_DEBUG) allows them by default.
ROUNDS_ALLOW_PRIVATE_URLS = env_bool("ROUNDS_ALLOW_PRIVATE_URLS", DEBUG)
# Link cards (posts.linkcards): fetched at all (off: links show their domain only), kept and reused
# this many days; an editor may start this many fetches per window of seconds while typing.
ROUNDS_LINKCARDS_FETCH = env_bool("ROUNDS_LINKCARDS_FETCH", True)
ROUNDS_LINKCARD_DAYS = int(os.environ.get("ROUNDS_LINKCARD_DAYS", "7"))
ROUNDS_LINKCARD_RATE = int(os.environ.get("ROUNDS_LINKCARD_RATE", "20"))
ROUNDS_LINKCARD_RATE_WINDOW = int(os.environ.get("ROUNDS_LINKCARD_RATE_WINDOW", "60"))
# Publications claimed per dispatcher pass.
ROUNDS_PUBLISH_BATCH = int(os.environ.get("ROUNDS_PUBLISH_BATCH", "1000"))
# The dispatcher claims what falls due within this many seconds and hands it to the workers, who
# wait for the due time, check every gate then and call the connectors (docs/publishing.md).
ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = float(os.environ.get("ROUNDS_PUBLISH_LOOKAHEAD_SECONDS", "10"))
# Send tasks per pass: the number of django-q2 workers of all clusters together.
ROUNDS_PUBLISH_TASKS_PER_PASS = int(
    os.environ.get("ROUNDS_PUBLISH_TASKS_PER_PASS", os.environ.get("ROUNDS_Q_WORKERS", "2"))
)
# At most this many publications in one send task; connector calls in flight per task.
ROUNDS_PUBLISH_TASK_SIZE = int(os.environ.get("ROUNDS_PUBLISH_TASK_SIZE", "500"))
ROUNDS_PUBLISH_CONCURRENCY = int(os.environ.get("ROUNDS_PUBLISH_CONCURRENCY", "32"))
# Claims checked and marked in one transaction before their calls start.
ROUNDS_PUBLISH_SLICE = int(os.environ.get("ROUNDS_PUBLISH_SLICE", "50"))
ROUNDS_DISPATCHER_INTERVAL = float(os.environ.get("ROUNDS_DISPATCHER_INTERVAL", "0.2"))

# HTTPS hardening: on in production, off for the local laptop run.
HTTPS = env_bool("ROUNDS_HTTPS", not DEBUG)
# Where people reach Rounds, for the links in e-mail (core.site.site_url), e.g. https://rounds.klinikum.example.
# Unset: the first allowed host, over https when HTTPS is on.
ROUNDS_SITE_URL = os.environ.get("ROUNDS_SITE_URL", "").rstrip("/")
# Where the public reaches Rounds' online withdrawal page (printed on consent forms, in the confirmation
# e-mail), if not at ROUNDS_SITE_URL, e.g. when the rest of Rounds is only on the hospital's network.
ROUNDS_PUBLIC_URL = os.environ.get("ROUNDS_PUBLIC_URL", "").rstrip("/")
# Online withdrawal of consent (docs/consent.md#online-withdrawal): attempts per address and per form
# reference in the window (seconds); hours a confirmation link stays valid; who to call instead.
ROUNDS_WITHDRAWAL_RATE = int(os.environ.get("ROUNDS_WITHDRAWAL_RATE", "5"))
ROUNDS_WITHDRAWAL_RATE_WINDOW = int(os.environ.get("ROUNDS_WITHDRAWAL_RATE_WINDOW", "3600"))
ROUNDS_WITHDRAWAL_LINK_HOURS = float(os.environ.get("ROUNDS_WITHDRAWAL_LINK_HOURS", "48"))
ROUNDS_CONSENT_CONTACT = os.environ.get("ROUNDS_CONSENT_CONTACT", "")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("ROUNDS_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("ROUNDS_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Browsers allow security keys on http://127.0.0.1 too; the development server (only) accepts that origin.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG


# Content-Security-Policy (docs/security.md): scripts, styles, images and requests only from this
# site; no inline script, style attribute, event handler, eval, plugin, frame or foreign form target.
# No template needs a nonce (tests/test_csp.py scans them). blob: images: the editor reads an
# upload's pixel size from a local object URL before sending it (static/rounds/editor.js).
# ROUNDS_CSP_FORM_ACTION (comma-separated origins) adds where a form may lead. Browsers check the
# redirects after a form too, so the single sign-on provider's origin (where "Sign in with ..."
# is sent on) is added by itself; name its login host there if it differs from the issuer's.
def csp_origin(url: str) -> list[str]:
    """Return ``[scheme://host[:port]]`` of ``url``, or ``[]`` when it has none."""
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *csp_origin(ROUNDS_OIDC_SERVER_URL), *env_list("ROUNDS_CSP_FORM_ACTION", "")],
    },
}

# Production sends by SMTP with STARTTLS on port 587 (ROUNDS_EMAIL_SSL=1: implicit TLS, usually port 465);
# development prints mails to the console. `check --deploy` warns of SMTP without either (core.W001).
EMAIL_BACKEND = os.environ.get(
    "ROUNDS_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("ROUNDS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("ROUNDS_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("ROUNDS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("ROUNDS_EMAIL_PASSWORD", "")
EMAIL_USE_SSL = env_bool("ROUNDS_EMAIL_SSL", False)
EMAIL_USE_TLS = env_bool("ROUNDS_EMAIL_TLS", not DEBUG and not EMAIL_USE_SSL)
EMAIL_TIMEOUT = int(os.environ.get("ROUNDS_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("ROUNDS_FROM_EMAIL", "rounds@localhost")

# django-q2: the ORM broker by default (one process on a laptop), Redis when ROUNDS_REDIS_URL is set.
REDIS_URL = os.environ.get("ROUNDS_REDIS_URL", "")
Q_CLUSTER: dict[str, object] = {
    "name": "rounds",
    "workers": int(os.environ.get("ROUNDS_Q_WORKERS", "2")),
    # A task running longer is killed; one not acknowledged within "retry" is handed out again (ORM broker).
    "timeout": int(os.environ.get("ROUNDS_Q_TIMEOUT", "120")),
    "retry": int(os.environ.get("ROUNDS_Q_RETRY", "180")),
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 1000,
    "label": _("Task queue"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

CSRF_FAILURE_VIEW = "core.web.csrf_failure"
# Seconds a browser is asked to wait (Retry-After) when the database cannot be reached.
ROUNDS_MAINTENANCE_RETRY_AFTER = int(os.environ.get("ROUNDS_MAINTENANCE_RETRY_AFTER", "30"))

# Every line carries the id of the request it belongs to ("-" outside requests); the error pages
# show the same id, so a person's report finds its log lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.web.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ROUNDS_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
