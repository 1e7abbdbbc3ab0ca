"""The campaigns API, included under /api/ by the project's URLs (no trailing slash: the contract)."""

from django.urls import path

from campaigns import api

ACTIONS = {
    "upload": api.CampaignUploadApi,
    "schedule": api.CampaignScheduleApi,
    "start": api.CampaignStartApi,
    "pause": api.CampaignPauseApi,
    "resume": api.CampaignResumeApi,
    "cancel": api.CampaignCancelApi,
    "archive": api.CampaignArchiveApi,
    "execute": api.CampaignExecuteApi,
    "winner": api.CampaignWinnerApi,
    "results": api.CampaignResultsApi,
    "preview": api.CampaignPreviewApi,
    "members": api.CampaignMembersApi,
    "sends": api.CampaignSendsApi,
}

urlpatterns = [
    path("campaigns", api.CampaignListApi.as_view(), name="api-campaigns"),
    path("campaigns/<int:campaign_id>", api.CampaignDetailApi.as_view(), name="api-campaign"),
    *[
        path(f"campaigns/<int:campaign_id>/{action}", view.as_view(), name=f"api-campaign-{action}")
        for action, view in ACTIONS.items()
    ],
    path(
        "campaigns/<int:campaign_id>/members/<int:member_id>/approve",
        api.MemberApproveApi.as_view(),
        name="api-campaign-member-approve",
    ),
    path(
        "campaigns/<int:campaign_id>/members/<int:member_id>/retry",
        api.MemberRetryApi.as_view(),
        name="api-campaign-member-retry",
    ),
]
