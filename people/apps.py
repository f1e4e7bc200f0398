from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from people.services import role_permissions_sync

        post_migrate.connect(
            lambda **kwargs: role_permissions_sync(), dispatch_uid="people.role_permissions_sync", weak=False
        )
