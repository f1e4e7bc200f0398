"""Which connector serves an account: its ``connector`` field, then its platform."""

from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext as _

from posts.connectors.base import Connector, PermanentError
from posts.connectors.outbox import OutboxConnector
from posts.connectors.webhook import WebhookConnector

ConnectorFactory = Callable[[], Connector]


def _outbox() -> Connector:
    return OutboxConnector(settings.ROUNDS_OUTBOX_DIR)


def _webhook() -> Connector:
    return WebhookConnector(timeout=settings.ROUNDS_PUBLISH_HTTP_TIMEOUT)


# Account.connector -> factory. "platform" means: the platform's own API client, below.
BY_CONNECTOR: dict[str, ConnectorFactory] = {"outbox": _outbox, "webhook": _webhook}
# Account.platform -> factory of that platform's API client (one module per platform).
BY_PLATFORM: dict[str, ConnectorFactory] = {}


class ConnectorMissing(PermanentError):
    """No connector exists for this account's platform."""


def connector_register(platform: str, factory: ConnectorFactory) -> None:
    """Make ``factory`` the API client of ``platform`` (for accounts whose connector is "platform")."""
    BY_PLATFORM[platform] = factory


def connector_for(*, connector: str, platform: str) -> Connector:
    """Return the connector that publishes to an account; raises ConnectorMissing."""
    factory = BY_CONNECTOR.get(connector) if connector != "platform" else BY_PLATFORM.get(platform)
    if factory is None:
        raise ConnectorMissing(
            _("Rounds cannot publish to %(platform)s through its API yet; use the outbox or a webhook.")
            % {"platform": platform}
        )
    return factory()
