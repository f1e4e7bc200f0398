"""The URLs allauth builds for the OpenID Connect provider (allauth.urls imports ``<package>.urls``)."""

from allauth.socialaccount import app_settings
from django.urls import URLPattern, URLResolver, include, path, re_path

from people.oidc import views

# The names allauth reverses (f"{provider}_login", f"{provider}_callback").
urlpatterns: list[URLPattern | URLResolver] = [
    re_path(
        r"^(?P<provider_id>[^/]+)/",
        include(
            [
                path("login/", views.login, name="openid_connect_login"),
                path("login/callback/", views.callback, name="openid_connect_callback"),
            ]
        ),
    )
]
if app_settings.OPENID_CONNECT_URL_PREFIX:
    urlpatterns = [path(f"{app_settings.OPENID_CONNECT_URL_PREFIX}/", include(urlpatterns))]
