from django.urls import path

from people import deputies, views

app_name = "people"

urlpatterns = [
    path("language/", views.language_switch, name="language"),
    path("preferences/", views.preferences, name="preferences"),
    path("deputies/", deputies.deputies_view, name="deputies"),
    path("deputies/<int:pk>/end/", deputies.deputy_end_view, name="deputy_end"),
    path("notices/", views.notices, name="notices"),
    path("notices/read/", views.notices_mark_all_read, name="notices_read_all"),
    path("notices/<int:pk>/", views.notice_open, name="notice_open"),
    path("notices/<int:pk>/read/", views.notice_mark_read, name="notice_read"),
]
