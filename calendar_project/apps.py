from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _schedules_sync(**kwargs: Any) -> None:
    # Imported here: schedules imports django_q's models, which cannot load while apps do.
    from calendar_project.schedules import schedules_sync

    schedules_sync()


class CalendarProjectConfig(AppConfig):
    """The project itself: it declares the schedules, so it is the one that syncs them after migrate."""

    name = "calendar_project"
    verbose_name = _("Rounds")

    def ready(self) -> None:
        from core.checks import email_tls_check

        # core has no app of its own; the project registers the checks of the settings core relies on.
        checks.register(email_tls_check, checks.Tags.security, deploy=True)
        # Django sends post_migrate only for apps with models; django_q owns the Schedule table.
        post_migrate.connect(
            _schedules_sync,
            sender=global_apps.get_app_config("django_q"),
            dispatch_uid="calendar_project.schedules_sync",
        )
