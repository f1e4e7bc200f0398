from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from consent.export import export_section_register
        from posts.panels import panel_register
        from posts.signals import post_out_consent_ended, post_retimed, post_retracted, post_status_changed
        from publishing import receivers
        from publishing.views import publications_panel, takedown_pending_panel

        post_status_changed.connect(receivers.follow_post_status, dispatch_uid="publishing.follow_post_status")
        post_retimed.connect(receivers.follow_post_time, dispatch_uid="publishing.follow_post_time")
        post_out_consent_ended.connect(receivers.list_takedowns, dispatch_uid="publishing.list_takedowns")
        post_retracted.connect(receivers.list_review_takedowns, dispatch_uid="publishing.list_review_takedowns")
        panel_register("publications", publications_panel)
        panel_register("takedown_pending", takedown_pending_panel)
        export_section_register("publications", receivers.publications_export)
