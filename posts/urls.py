from django.urls import path

from posts.views import calendar, campaigns, editor, plans

app_name = "posts"

urlpatterns = [
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("posts/<int:pk>/move/", calendar.post_move_view, name="post_move"),
    path("posts/new/", editor.post_create_view, name="post_create"),
    path("posts/findings/", editor.findings_view, name="findings"),
    path("posts/<int:pk>/", editor.post_detail_view, name="post_detail"),
    path("posts/<int:pk>/edit/", editor.post_edit_view, name="post_edit"),
    path("posts/<int:pk>/schedule/", editor.post_schedule_view, name="post_schedule"),
    path("posts/<int:pk>/unschedule/", editor.post_unschedule_view, name="post_unschedule"),
    path("posts/<int:pk>/withdraw/", editor.post_withdraw_view, name="post_withdraw"),
    path("campaigns/", campaigns.campaign_list_view, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_create_view, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail_view, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit_view, name="campaign_edit"),
    path("plans/import/", plans.plan_import_view, name="plan_import"),
    path("plans/template.csv", plans.plan_template_view, name="plan_template"),
    path("plans/export/", plans.plan_export_view, name="plan_export"),
    path("plans/<str:token>/", plans.plan_preview_view, name="plan_preview"),
    path("plans/<str:token>/confirm/", plans.plan_confirm_view, name="plan_confirm"),
    path("plans/<str:token>/progress/", plans.plan_progress_view, name="plan_progress"),
    path("plans/<str:token>/errors.csv", plans.plan_errors_view, name="plan_errors"),
]
