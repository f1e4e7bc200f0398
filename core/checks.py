"""System checks of settings that core's plumbing relies on (``manage.py check --deploy``)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Warning

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def email_tls_check(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Sequence[CheckMessage]:
    """Warn when mail goes out by SMTP without TLS: review notices and reminders would cross the network in clear."""
    if settings.EMAIL_BACKEND != SMTP_BACKEND or settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL:
        return []
    return [
        Warning(
            "E-mail is sent by SMTP without TLS (ROUNDS_EMAIL_TLS and ROUNDS_EMAIL_SSL are off).",
            hint="Leave ROUNDS_EMAIL_TLS on (STARTTLS, port 587) or set ROUNDS_EMAIL_SSL=1 (port 465); "
            "see docs/operations.md.",
            id="core.W001",
        )
    ]
