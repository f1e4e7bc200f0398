from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("language/", views.language_switch, name="language"),
    path("preferences/", views.preferences, name="preferences"),
]
