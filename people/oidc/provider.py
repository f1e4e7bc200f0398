"""The provider class named in settings.SOCIALACCOUNT_PROVIDERS (``provider_class``) and its adapter."""

import secrets
from typing import Any

from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest, HttpResponse

# allauth's redirect state keeps this key; the callback compares it with the ID token's nonce.
NONCE_STATE_KEY = "rounds_nonce"


class StrictOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):  # type: ignore[misc]  # allauth ships no py.typed
    """Decode ID tokens with their signature checked against the provider's keys, and their nonce."""

    expected_nonce: str | None = None

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        data: dict[str, Any] = jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
        # Without a nonce from our own redirect (a callback that skipped it) nothing may match.
        if not self.expected_nonce or not secrets.compare_digest(str(data.get("nonce", "")), self.expected_nonce):
            raise OAuth2Error("ID token nonce does not match")
        return data


class RoundsOpenIDConnectProvider(OpenIDConnectProvider):  # type: ignore[misc]  # allauth ships no py.typed
    """allauth's generic OpenID Connect provider, with a nonce on every sign-in and strict ID tokens."""

    # Its login and callback URLs (people/oidc/urls.py) use StrictOpenIDConnectAdapter.
    package = "people.oidc"
    oauth2_adapter_class = StrictOpenIDConnectAdapter

    def redirect(
        self,
        request: HttpRequest,
        process: str,
        next_url: str | None = None,
        data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> HttpResponse:
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        response: HttpResponse = super().redirect(
            request,
            process,
            next_url,
            data,
            auth_params={**auth_params, "nonce": nonce},
            **{NONCE_STATE_KEY: nonce},
            **kwargs,
        )
        return response


provider_classes = [RoundsOpenIDConnectProvider]
