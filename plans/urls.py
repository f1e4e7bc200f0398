from django.urls import path

from plans import views

app_name = "plans"

urlpatterns = [
    path("import/", views.plan_import_view, name="import"),
    path("template.csv", views.plan_template_view, name="template"),
    path("export/", views.plan_export_view, name="export"),
    path("<str:token>/", views.plan_preview_view, name="preview"),
    path("<str:token>/confirm/", views.plan_confirm_view, name="confirm"),
    path("<str:token>/progress/", views.plan_progress_view, name="progress"),
    path("<str:token>/errors.csv", views.plan_errors_view, name="errors"),
]
