from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from audit.services import mail_claim
        from core.mail import mail_ledger_register

        mail_ledger_register(mail_claim)
