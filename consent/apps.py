from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Patient consent")

    def ready(self) -> None:
        from audit.erasure import key_owners_register
        from consent.erasure import consent_key_owners

        key_owners_register("consent", consent_key_owners)
