"""The campaigns API, included under /api/ by the project's URLs (no trailing slash: the contract)."""

from django.urls import path

from campaigns import api, audience_api, evidence_api, follow_up_api, outcomes_api, results_api

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
    "results": results_api.CampaignResultsApi,
    "preview": audience_api.CampaignPreviewApi,
    "members": audience_api.CampaignMembersApi,
    "sends": api.CampaignSendsApi,
    "follow-up": follow_up_api.CampaignFollowUpApi,
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
        audience_api.MemberApproveApi.as_view(),
        name="api-campaign-member-approve",
    ),
    path(
        "campaigns/<int:campaign_id>/members/<int:member_id>/retry",
        audience_api.MemberRetryApi.as_view(),
        name="api-campaign-member-retry",
    ),
    path(
        "contacts/<int:contact_id>/follow-ups",
        follow_up_api.ContactFollowUpsApi.as_view(),
        name="api-contact-follow-ups",
    ),
    path("follow-ups", follow_up_api.FollowUpListApi.as_view(), name="api-follow-ups"),
    path("follow-ups/<int:member_id>/cancel", follow_up_api.FollowUpCancelApi.as_view(), name="api-follow-up-cancel"),
    path(
        "contacts/<int:contact_id>/compliance",
        evidence_api.ContactComplianceApi.as_view(),
        name="api-contact-compliance",
    ),
    path("contacts/<int:contact_id>/outcomes", outcomes_api.ContactOutcomesApi.as_view(), name="api-contact-outcomes"),
    path(
        "contacts/<int:contact_id>/outcomes/<int:outcome_id>/corrections",
        outcomes_api.OutcomeCorrectionsApi.as_view(),
        name="api-contact-outcome-corrections",
    ),
    path(
        "contacts/<int:contact_id>/outcomes/<int:outcome_id>/withdrawal",
        outcomes_api.OutcomeWithdrawalApi.as_view(),
        name="api-contact-outcome-withdrawal",
    ),
]
