from django.urls import path

from publishing import views

app_name = "publishing"

urlpatterns = [
    path("publishing/", views.publishing_view, name="publishing"),
    path("publications/<int:pk>/retry/", views.publication_retry_view, name="publication_retry"),
    path("takedowns/<int:pk>/confirm/", views.takedown_confirm_view, name="takedown_confirm"),
    path("takedowns/<int:pk>/delete/", views.takedown_delete_view, name="takedown_delete"),
]
