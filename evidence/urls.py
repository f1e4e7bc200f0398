from django.urls import URLPattern, URLResolver

app_name = "evidence"

# The views arrive with the evidence pack and the compliance archive.
urlpatterns: list[URLPattern | URLResolver] = []
