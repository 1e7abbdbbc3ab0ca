from django.urls import path

from campaigns import follow_up_views, lifecycle_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new", views.campaign_form, name="create"),
    path("preview", views.campaign_preview, name="preview"),
    path("follow-ups/<int:member_id>/cancel", follow_up_views.cancel_follow_up, name="cancel-follow-up"),
    path("replies/<int:message_id>/text-again", follow_up_views.text_again_on, name="text-again"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/edit", views.campaign_form, name="edit"),
    path("<int:campaign_id>/send-the-rest", lifecycle_views.send_the_rest, name="send-the-rest"),
    path("<int:campaign_id>/audience", views.campaign_audience, name="audience"),
    path("<int:campaign_id>/start", lifecycle_views.start_campaign, name="start"),
    path("<int:campaign_id>/schedule", lifecycle_views.schedule_campaign, name="schedule"),
    path("<int:campaign_id>/cancel", lifecycle_views.cancel_campaign, name="cancel"),
    path("<int:campaign_id>/members/<int:member_id>/approve", views.approve_member, name="approve-member"),
    path("<int:campaign_id>/<str:action>", lifecycle_views.campaign_action, name="action"),
]
