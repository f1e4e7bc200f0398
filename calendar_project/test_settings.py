"""Settings for the test suite: the real settings, without HTTPS redirects and slow hashing."""

import os

os.environ.setdefault("ROUNDS_SECRET_KEY", "test-secret-key-" + "x" * 50)
os.environ.setdefault("ROUNDS_HTTPS", "0")
# A fixed Ed25519 key (32 bytes, base64url); each test gets its own checkpoint file (tests/conftest.py).
os.environ.setdefault("ROUNDS_AUDIT_KEY", "cm91bmRzLXRlc3QtYXVkaXQta2V5LTMyLWJ5dGVzISE=")
# Evidence packs: a key made once per test session, never written to var/keys.
if not os.environ.get("ROUNDS_EVIDENCE_SIGNING_KEY"):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    os.environ["ROUNDS_EVIDENCE_SIGNING_KEY"] = (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )

from calendar_project.settings import *  # noqa: F403
from calendar_project.settings import BASE_DIR, STORAGES

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ROUNDS_CREDENTIALS_KEYS = ["ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405  (tasks run inline, after commit)
# Tests move a stopped clock to the due time themselves; claiming ahead is tested on its own.
ROUNDS_PUBLISH_LOOKAHEAD_SECONDS = 0.0
# The fake platforms listen on 127.0.0.1; the tests of the refusal switch this off.
ROUNDS_ALLOW_PRIVATE_URLS = True
# Posts in tests link to example.org and others: tasks run inline, so no test may reach the internet
# for their cards. The link card tests switch this on and serve their pages from 127.0.0.1.
ROUNDS_LINKCARDS_FETCH = False
# Tests that sign in with force_login have no second factor and no sign-in time; the tests of
# two-factor and reauthentication (tests/people/test_two_factor.py) switch both back on.
ROUNDS_TWO_FACTOR_REQUIRED = False
ROUNDS_REAUTHENTICATION_REQUIRED = False
# The live server of the browser tests is http://127.0.0.1, which fido2 accepts only with this.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
_ = BASE_DIR
# WhiteNoise looks for STATIC_ROOT at start-up; tests serve from the finders, so an empty one will do.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Tests jump the clock by hours and days with people logged in; the session limits are tested on
# their own with the production defaults (tests/people/test_sessions.py).
ROUNDS_SESSION_IDLE_MINUTES = 100 * 365 * 24 * 60.0
ROUNDS_SESSION_MAX_HOURS = 100 * 365 * 24.0
SESSION_COOKIE_AGE = round(ROUNDS_SESSION_MAX_HOURS * 3600)
# Counted on every page, so that query counts do not depend on what an earlier request cached;
# tests/audit/test_state_cache.py switches the cache on.
ROUNDS_STATE_CACHE_SECONDS = 0.0
# PostgreSQL: the test databases are thrown away, so a commit need not wait for its WAL to reach the
# disk (the browser and process tests commit and truncate thousands of times).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["OPTIONS"]["options"] += " -c synchronous_commit=off"  # noqa: F405
