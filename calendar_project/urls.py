from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp, SocialToken
from django.conf import settings
from django.contrib import admin
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

# The admin signs in through the same page as everyone, with the second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", include("home.urls")),
    # allauth's sign-in and sign-out (docs/security.md#sign-in-and-two-factor), under our old names too.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    # E-mail addresses are set by Governance on the person (people.admin), audited; not here.
    path("accounts/email/", RedirectView.as_view(pattern_name="people:preferences", permanent=False)),
    # Nobody links a provider identity to an account by hand, nor signs up through one: the provider's
    # subject is matched at sign-in only (people.sso, docs/security.md#single-sign-on-openid-connect).
    path("accounts/3rdparty/", RedirectView.as_view(pattern_name="people:preferences", permanent=False)),
    path("accounts/3rdparty/signup/", RedirectView.as_view(pattern_name="login", permanent=False)),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("me/", include("people.urls")),
    path("admin/", admin.site.urls),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media_serve, name="media"),
    path("reviews/", include("approvals.urls")),
    path("consent/", include("consent.urls")),
    path("withdraw/", include("consent.withdrawal_urls")),
    path("plans/", include("plans.urls")),
    path("evidence/", include("evidence.urls")),
    path("", include("posts.urls")),
    path("", include("publishing.urls")),
]

# Error pages that need no database (calendar_project/web.py); 500 answers 503 when the database is down.
handler400 = "core.web.bad_request"
handler403 = "core.web.permission_denied"
handler404 = "core.web.page_not_found"
handler500 = "core.web.server_error"
