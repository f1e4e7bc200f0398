from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """Evidence on demand: a signed pack per post, the compliance archive, retention and legal holds."""

    name = "evidence"
    verbose_name = _("Evidence")

    def ready(self) -> None:
        from evidence.views import evidence_panel
        from posts.panels import panel_register

        panel_register("evidence.pack", evidence_panel)
