from django.urls import path

from people import deputies, views

app_name = "people"

urlpatterns = [
    path("language/", views.language_switch, name="language"),
    path("preferences/", views.preferences, name="preferences"),
    path("deputies/", deputies.deputies_view, name="deputies"),
    path("deputies/<int:pk>/end/", deputies.deputy_end_view, name="deputy_end"),
]
