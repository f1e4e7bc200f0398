from django.urls import URLPattern, URLResolver, path

from evidence import views, views_archive

app_name = "evidence"

urlpatterns: list[URLPattern | URLResolver] = [
    path("posts/<int:pk>/pack/", views.pack_download_view, name="pack_download"),
    # The compliance archive, retention and legal holds (docs/retention.md).
    path("archives/", views_archive.archive_list_view, name="archives"),
    path("archives/<int:pk>/", views_archive.archive_detail_view, name="archive"),
    path("archives/<int:pk>/download/", views_archive.archive_download_view, name="archive_download"),
    path("purges/", views_archive.purge_reports_view, name="purge_reports"),
    path("purges/<int:pk>/", views_archive.purge_report_view, name="purge_report"),
]
