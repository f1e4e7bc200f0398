from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _roles_sync_after_migrate(*, app_config: AppConfig, **kwargs: Any) -> None:
    from django.contrib.auth.management import create_permissions

    from people.services import role_permissions_sync

    # post_migrate comes once per app; the roles are synced once, at the last app's. Receivers run
    # in the order they connected, and this one connects before auth's, so the apps' permissions
    # are made here first: the sync sees the final set (the last app's, django_q's, included).
    with_models = [config for config in global_apps.get_app_configs() if config.models_module is not None]
    if app_config.label != with_models[-1].label:
        return
    using, state = kwargs.get("using", "default"), kwargs.get("apps", global_apps)
    for config in with_models:
        create_permissions(config, verbosity=0, using=using, apps=state)
    role_permissions_sync()


def _site_from_settings() -> None:
    # django-allauth asks for "the current site" (django.contrib.sites, which its single sign-on
    # tables need) on every sign-in page and names it in its mails. Rounds has one site: give it
    # from the settings, never from the table (whose row says "example.com"), so the login page
    # reads no database and stays the health check that answers while the database is down.
    from django.conf import settings
    from django.contrib.sites.models import SITE_CACHE, Site

    hosts = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in {"*", ""}]
    SITE_CACHE[settings.SITE_ID] = Site(pk=settings.SITE_ID, domain=hosts[0] if hosts else "localhost", name="Rounds")


def _rights_changes_connect() -> None:
    # Every way a person's rights change (roles, own permissions, a role's permissions, guardian's
    # object permissions for campaign teams and reviewers) makes the per-request memos stale.
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from people.models import User
    from people.rights import rights_changed

    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(rights_changed, sender=through, dispatch_uid=f"people.rights_changed.{through.__name__}")
    for model in (UserObjectPermission, GroupObjectPermission, Group):
        for signal in (post_save, post_delete):
            signal.connect(rights_changed, sender=model, dispatch_uid=f"people.rights_changed.{model.__name__}")


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from core.mail import notice_box_register
        from people import roles  # noqa: F401  (registers the role groups' names for display)
        from people.lockout import locked_out_receiver
        from people.middleware import session_started_receiver
        from people.services import notices_keep
        from people.sso import check_sso_settings

        notice_box_register(notices_keep)
        post_migrate.connect(_roles_sync_after_migrate, dispatch_uid="people.role_permissions_sync", weak=False)
        _site_from_settings()
        checks.register(check_sso_settings)
        user_locked_out.connect(locked_out_receiver, dispatch_uid="people.login_lockout_record")
        user_logged_in.connect(session_started_receiver, dispatch_uid="people.session_started")
        from allauth.mfa import signals as mfa_signals

        from people import receivers

        _rights_changes_connect()
        mfa_signals.authenticator_added.connect(receivers.two_factor_added, dispatch_uid="people.two_factor_added")
        mfa_signals.authenticator_removed.connect(
            receivers.two_factor_removed, dispatch_uid="people.two_factor_removed"
        )
        mfa_signals.authenticator_reset.connect(receivers.two_factor_reset, dispatch_uid="people.two_factor_reset")
