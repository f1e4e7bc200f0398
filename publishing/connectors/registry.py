"""Which connector serves an account: its ``connector`` field, then its platform."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from publishing.connectors import facebook, instagram, linkedin, tiktok, webhook, x, youtube
from publishing.connectors.api import ApiConnector
from publishing.connectors.base import Connector, PermanentError
from publishing.connectors.credentials import CredentialKey
from publishing.connectors.outbox import OutboxConnector
from publishing.connectors.webhook import WebhookConnector

ConnectorFactory = Callable[[], Connector]


def _outbox() -> Connector:
    return OutboxConnector(settings.ROUNDS_OUTBOX_DIR)


def _webhook() -> Connector:
    return WebhookConnector(timeout=settings.ROUNDS_PUBLISH_HTTP_TIMEOUT)


def _api(cls: type[ApiConnector]) -> ConnectorFactory:
    def make() -> Connector:
        options: dict[str, Any] = {"timeout": settings.ROUNDS_PUBLISH_HTTP_TIMEOUT, "media_root": settings.MEDIA_ROOT}
        options.update(getattr(settings, "ROUNDS_CONNECTOR_OPTIONS", {}).get(cls.platform, {}))
        return cls(**options)  # type: ignore[return-value]

    return make


# Account.connector -> factory. "platform" means: the platform's own API client, below.
BY_CONNECTOR: dict[str, ConnectorFactory] = {"outbox": _outbox, "webhook": _webhook}
# Account.platform -> factory of that platform's API client (one module per platform).
BY_PLATFORM: dict[str, ConnectorFactory] = {
    "facebook": _api(facebook.FacebookConnector),
    "instagram": _api(instagram.InstagramConnector),
    "linkedin": _api(linkedin.LinkedInConnector),
    "x": _api(x.XConnector),
    "youtube": _api(youtube.YouTubeConnector),
    "tiktok": _api(tiktok.TikTokConnector),
}
# The credential keys each connector reads: by connector, and for "platform" by platform.
CREDENTIAL_KEYS: dict[str, tuple[CredentialKey, ...]] = {
    "webhook": webhook.CREDENTIALS,
    "facebook": facebook.CREDENTIALS,
    "instagram": instagram.CREDENTIALS,
    "linkedin": linkedin.CREDENTIALS,
    "x": x.CREDENTIALS,
    "youtube": youtube.CREDENTIALS,
    "tiktok": tiktok.CREDENTIALS,
}


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


def credential_keys_for(*, connector: str, platform: str) -> tuple[CredentialKey, ...]:
    """Return the credential keys an account with this connector and platform reads (none for the outbox)."""
    return CREDENTIAL_KEYS.get(platform if connector == "platform" else connector, ())
