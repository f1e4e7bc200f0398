from django.urls import path

from posts.views import calendar, campaigns, claims, crisis, editor, live, media

app_name = "posts"

urlpatterns = [
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("posts/<int:pk>/move/", calendar.post_move_view, name="post_move"),
    path("posts/<int:pk>/move/form/", calendar.post_move_form_view, name="post_move_form"),
    path("posts/new/", editor.post_create_view, name="post_create"),
    path("posts/findings/", live.findings_view, name="findings"),
    path("posts/consents/", editor.consent_options_view, name="consent_options"),
    path("posts/kept-images/<str:token>/", media.pending_thumbnail_serve, name="pending_thumbnail"),
    path("posts/link-cards/<int:pk>/image/", media.linkcard_image_serve, name="linkcard_image"),
    path("posts/<int:pk>/", editor.post_detail_view, name="post_detail"),
    path("posts/<int:pk>/edit/", editor.post_edit_view, name="post_edit"),
    path("posts/<int:pk>/image-checks/", media.media_checks_view, name="media_checks"),
    path("posts/<int:pk>/schedule/", editor.post_schedule_view, name="post_schedule"),
    path("posts/<int:pk>/unschedule/", editor.post_unschedule_view, name="post_unschedule"),
    path("posts/<int:pk>/withdraw/", editor.post_withdraw_view, name="post_withdraw"),
    path("posts/<int:pk>/claims/", claims.claim_add_view, name="claim_add"),
    path("posts/<int:pk>/claims/<int:claim_pk>/source/", claims.claim_source_view, name="claim_source"),
    path("posts/<int:pk>/claims/<int:claim_pk>/remove/", claims.claim_remove_view, name="claim_remove"),
    path("posts/<int:pk>/crisis/request/", crisis.crisis_request_view, name="post_crisis_request"),
    path("posts/<int:pk>/crisis/declare/", crisis.crisis_declare_view, name="post_crisis_declare"),
    path("campaigns/", campaigns.campaign_list_view, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_create_view, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail_view, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit_view, name="campaign_edit"),
]
