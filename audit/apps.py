from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from audit.checks import audit_key_check
        from audit.services import mail_claim
        from core.mail import mail_ledger_register

        checks.register(audit_key_check, checks.Tags.security, deploy=True)
        mail_ledger_register(mail_claim)
