from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from posts.views.media import media_serve

admin.site.site_header = "Rounds"
admin.site.site_title = "Rounds"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="posts:calendar", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
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
