from django.urls import path

from consent import views, withdrawal_views

app_name = "consent"

urlpatterns = [
    path("", views.registry_view, name="registry"),
    path("people/new/", views.subject_create_view, name="subject_create"),
    path("people/<int:pk>/", views.subject_detail_view, name="subject_detail"),
    path("people/<int:pk>/edit/", views.subject_edit_view, name="subject_edit"),
    path("people/<int:pk>/record/", views.record_create_view, name="record_create"),
    path("people/<int:pk>/fhir.json", views.subject_fhir_view, name="subject_fhir"),
    path("people/<int:pk>/erase/", views.subject_erase_view, name="subject_erase"),
    path("people/<int:pk>/export/", views.subject_export_view, name="subject_export"),
    path("<int:pk>/", views.record_detail_view, name="record_detail"),
    path("<int:pk>/verify/", views.record_verify_view, name="record_verify"),
    path("<int:pk>/revoke/", views.record_revoke_view, name="record_revoke"),
    path("<int:pk>/copy-given/", views.record_copy_given_view, name="record_copy_given"),
    path("<int:pk>/document/", views.document_view, name="document"),
    path("<int:pk>/fhir.json", views.fhir_view, name="fhir"),
    path("<int:pk>/print/", withdrawal_views.record_print_view, name="record_print"),
]
