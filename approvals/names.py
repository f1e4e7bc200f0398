"""The English names the seeded review chains and stages are stored with (approvals 0002), for display.

Marked for the catalogues; `core.i18n.display_name` (and ``ReviewStage.display_name``,
``ReviewChain.display_name``) show them translated while a row keeps its seeded name.
"""

from django.utils.translation import gettext_noop

from core.i18n import default_names_register

STAGE_NAMES = [
    gettext_noop("Medical review"),
    gettext_noop("Legal review"),
    gettext_noop("Communications review"),
    gettext_noop("Legal review after publishing"),
]
CHAIN_NAMES = [
    gettext_noop("Standard"),
    gettext_noop("Expedited (crisis)"),
]
CHAIN_DESCRIPTIONS = [
    gettext_noop("Medical → Legal → Communications"),
    gettext_noop("Medical → Communications; Legal within 24 h after publishing"),
]

default_names_register([*STAGE_NAMES, *CHAIN_NAMES, *CHAIN_DESCRIPTIONS])
