from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp, SocialToken
from allauth.urls import build_provider_urlpatterns
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sites.models import Site
from django.urls import include, path
from django.views.generic import RedirectView

from posts.views.media import media_serve

admin.site.site_header = "Rounds"
admin.site.site_title = "Rounds"
# Single sign-on is configured by the environment (settings.py), not by rows: allauth's own tables for
# providers, tokens (never stored) and e-mail addresses, and Django's sites, stay out of the admin.
# Which person is linked to which subject at the provider stays visible (Governance may view it).
for _model in (Site, SocialApp, SocialToken, EmailAddress):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="posts:calendar", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # allauth (i13-sso): only single sign-on, at accounts/oidc/<provider>/login/ (people/oidc/urls.py);
    # allauth's own account pages (signup, password reset) stay off until the login page moves to them.
    path("accounts/", include(build_provider_urlpatterns())),
    path("i18n/", include("django.conf.urls.i18n")),
    path("me/", include("people.urls")),
    path("admin/", admin.site.urls),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media_serve, name="media"),
    path("reviews/", include("approvals.urls")),
    path("consent/", include("consent.urls")),
    path("plans/", include("plans.urls")),
    path("", include("posts.urls")),
    path("", include("publishing.urls")),
]

# Error pages that need no database (calendar_project/web.py); 500 answers 503 when the database is down.
handler400 = "core.web.bad_request"
handler403 = "core.web.permission_denied"
handler404 = "core.web.page_not_found"
handler500 = "core.web.server_error"
