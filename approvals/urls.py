from django.urls import path

from approvals import recertification_views, views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("mine/", views.my_posts_view, name="my_posts"),
    path("posts/<int:pk>/", views.review_view, name="review"),
    path("posts/<int:pk>/submit/", views.submit_view, name="submit"),
    path("posts/<int:pk>/decide/", views.decide_view, name="decide"),
    path("posts/<int:pk>/chain/", views.chain_view, name="chain"),
    path("posts/<int:pk>/recertify/", recertification_views.recertify_view, name="recertify"),
]
