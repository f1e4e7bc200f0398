"""System checks of the audit trail's configuration (``manage.py check --deploy``)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error

from audit.checkpoints import key_parse


def audit_key_check(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Sequence[CheckMessage]:
    """Return an error when production has no valid ``ROUNDS_AUDIT_KEY`` to sign checkpoints with."""
    keys = list(settings.ROUNDS_AUDIT_KEYS)
    if not keys:
        if settings.DEBUG:
            return []
        return [
            Error(
                "ROUNDS_AUDIT_KEY is not set: audit checkpoints cannot be signed, and verify_audit fails once "
                "events go without one.",
                hint="Generate one (docs/security.md), set it in every process, keep it outside the database "
                "and its backups.",
                id="audit.E001",
            )
        ]
    problems: list[CheckMessage] = []
    for position, text in enumerate(keys, start=1):
        try:
            key_parse(text)
        except ValueError as exc:
            problems.append(
                Error(
                    f"ROUNDS_AUDIT_KEY: key {position} is not an Ed25519 key ({exc}).",
                    hint="Each key is 32 random bytes, base64url-encoded (docs/security.md).",
                    id="audit.E002",
                )
            )
    return problems
