"""The public online withdrawal pages, mounted at /withdraw/ (no account needed)."""

from django.urls import path

from consent import withdrawal_views

app_name = "withdrawal"

urlpatterns = [
    path("", withdrawal_views.withdrawal_start_view, name="start"),
    path("sent/", withdrawal_views.withdrawal_sent_view, name="sent"),
    path("confirm/<str:token>/", withdrawal_views.withdrawal_confirm_view, name="confirm"),
]
