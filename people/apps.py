from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _roles_sync_after_migrate(*, app_config: AppConfig, **kwargs: Any) -> None:
    from django.contrib.auth.management import create_permissions

    from people.services import role_permissions_sync

    # Receivers run in the order they connected, and this one connects before auth's, so the
    # sending app's permissions would not exist yet: without this, the last app's (django_q)
    # never reached the roles.
    create_permissions(
        app_config, verbosity=0, using=kwargs.get("using", "default"), apps=kwargs.get("apps", global_apps)
    )
    role_permissions_sync()


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        post_migrate.connect(_roles_sync_after_migrate, dispatch_uid="people.role_permissions_sync", weak=False)
        from allauth.mfa import signals as mfa_signals

        from people import receivers

        mfa_signals.authenticator_added.connect(receivers.two_factor_added, dispatch_uid="people.two_factor_added")
        mfa_signals.authenticator_removed.connect(
            receivers.two_factor_removed, dispatch_uid="people.two_factor_removed"
        )
        mfa_signals.authenticator_reset.connect(receivers.two_factor_reset, dispatch_uid="people.two_factor_reset")
