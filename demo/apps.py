from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data (``manage.py seed_demo``): the top app, free to drive every other app's services."""

    name = "demo"
    verbose_name = _("Demo data")
