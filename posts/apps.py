from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = _("Editorial calendar")

    def ready(self) -> None:
        from audit.erasure import key_owners_register
        from consent.export import export_section_register
        from consent.selectors import registry_panel_register
        from posts import erasure, receivers
        from posts.crisis_panel import crisis_panel
        from posts.panels import panel_register

        registry_panel_register("posts.featuring", receivers.posts_featuring_panel)
        panel_register("posts.crisis", crisis_panel)
        key_owners_register("posts", erasure.post_key_owners)
        export_section_register("posts", erasure.posts_featuring_export)
