from django.urls import path

app_name = "approvals"

urlpatterns: list = []
