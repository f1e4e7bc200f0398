from django.urls import path

from approvals import claim_views, comment_views, recertification_views, views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("mine/", views.my_posts_view, name="my_posts"),
    path("posts/<int:pk>/", views.review_view, name="review"),
    path("posts/<int:pk>/submit/", views.submit_view, name="submit"),
    path("posts/<int:pk>/decide/", views.decide_view, name="decide"),
    path("posts/<int:pk>/chain/", views.chain_view, name="chain"),
    path("posts/<int:pk>/comments/", comment_views.comment_add_view, name="comment_add"),
    path("comments/<int:pk>/reply/", comment_views.comment_reply_view, name="comment_reply"),
    path("comments/<int:pk>/resolve/", comment_views.comment_resolve_view, name="comment_resolve"),
    path("comments/<int:pk>/reopen/", comment_views.comment_reopen_view, name="comment_reopen"),
    path("comments/<int:pk>/blocking/", comment_views.comment_blocking_view, name="comment_blocking"),
    path("posts/<int:pk>/claims/<int:claim_pk>/checked/", claim_views.claim_check_view, name="claim_check"),
    path("posts/<int:pk>/recertify/", recertification_views.recertify_view, name="recertify"),
]
