"""allauth's OpenID Connect login and callback views, with the strict adapter and the nonce handed over."""

from typing import Any

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import Provider
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse

from people.oidc.provider import NONCE_STATE_KEY, StrictOpenIDConnectAdapter


class NonceCallbackView(OAuth2CallbackView):  # type: ignore[misc]  # django-allauth ships no type hints (py.typed)
    """The OAuth2 callback; tells the adapter the nonce this browser's sign-in was started with."""

    adapter: StrictOpenIDConnectAdapter

    # allauth 65.22 reads (and forgets) the stashed redirect state here, the one place the view sees it.
    def _get_state(self, request: HttpRequest, provider: Provider) -> tuple[dict[str, Any] | None, Any]:
        state, response = super()._get_state(request, provider)
        if state:
            self.adapter.expected_nonce = state.get(NONCE_STATE_KEY)
        return state, response


@login_not_required
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Send the browser to the provider (POST; the provider's redirect carries state, PKCE and nonce)."""
    try:
        view = OAuth2LoginView.adapter_view(StrictOpenIDConnectAdapter(request, provider_id))
        response: HttpResponse = view(request)
    except SocialApp.DoesNotExist as error:
        raise Http404 from error
    return response


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Take the provider's answer: exchange the code, check the ID token, sign the person in."""
    try:
        view = NonceCallbackView.adapter_view(StrictOpenIDConnectAdapter(request, provider_id))
        response: HttpResponse = view(request)
    except SocialApp.DoesNotExist as error:
        raise Http404 from error
    return response
