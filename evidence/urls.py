from django.urls import URLPattern, URLResolver, path

from evidence import views

app_name = "evidence"

urlpatterns: list[URLPattern | URLResolver] = [
    path("posts/<int:pk>/pack/", views.pack_download_view, name="pack_download"),
]
