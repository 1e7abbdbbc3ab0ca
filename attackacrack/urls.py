from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from attackacrack import views
from campaigns import api as campaigns_api
from contacts.api import (
    ContactDetailApi,
    ContactExportApi,
    ContactListApi,
    ImportCsvApi,
    ImportDetailApi,
    ImportListApi,
    ImportRejectionsApi,
)
from messaging import views as messaging_views
from messaging.api import ContactMessagesApi, ConversationListApi, MessageDetailApi, MessageListApi

# Swagger UI (the pinned drf-spectacular-sidecar) adds one <style> element of its own: that one
# element's hash is allowed on the docs page, nothing else inline.
SWAGGER_UI_STYLE = csp_update({"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]})

# The user's contract spells API paths without a trailing slash.
api_urlpatterns = [
    path("api/campaigns", campaigns_api.CampaignListApi.as_view(), name="api-campaigns"),
    path("api/campaigns/<int:campaign_id>", campaigns_api.CampaignDetailApi.as_view(), name="api-campaign"),
    *[
        path(f"api/campaigns/<int:campaign_id>/{action}", view.as_view(), name=f"api-campaign-{action}")
        for action, view in {
            "upload": campaigns_api.CampaignUploadApi,
            "schedule": campaigns_api.CampaignScheduleApi,
            "start": campaigns_api.CampaignStartApi,
            "pause": campaigns_api.CampaignPauseApi,
            "resume": campaigns_api.CampaignResumeApi,
            "cancel": campaigns_api.CampaignCancelApi,
            "archive": campaigns_api.CampaignArchiveApi,
            "execute": campaigns_api.CampaignExecuteApi,
            "winner": campaigns_api.CampaignWinnerApi,
            "results": campaigns_api.CampaignResultsApi,
            "preview": campaigns_api.CampaignPreviewApi,
            "members": campaigns_api.CampaignMembersApi,
            "sends": campaigns_api.CampaignSendsApi,
        }.items()
    ],
    path(
        "api/campaigns/<int:campaign_id>/members/<int:member_id>/approve",
        campaigns_api.MemberApproveApi.as_view(),
        name="api-campaign-member-approve",
    ),
    path(
        "api/campaigns/<int:campaign_id>/members/<int:member_id>/retry",
        campaigns_api.MemberRetryApi.as_view(),
        name="api-campaign-member-retry",
    ),
    path("api/contacts", ContactListApi.as_view(), name="api-contacts"),
    path("api/contacts/export.csv", ContactExportApi.as_view(), name="api-contacts-export"),
    path("api/contacts/<int:contact_id>", ContactDetailApi.as_view(), name="api-contact"),
    path("api/import/csv", ImportCsvApi.as_view(), name="api-import-csv"),
    path("api/imports", ImportListApi.as_view(), name="api-imports"),
    path("api/imports/<int:import_id>", ImportDetailApi.as_view(), name="api-import"),
    path("api/imports/<int:import_id>/rejections.csv", ImportRejectionsApi.as_view(), name="api-import-rejections"),
    path("api/messages", MessageListApi.as_view(), name="api-messages"),
    path("api/messages/<int:message_id>", MessageDetailApi.as_view(), name="api-message"),
    path("api/contacts/<int:contact_id>/messages", ContactMessagesApi.as_view(), name="api-contact-messages"),
    path("api/conversations", ConversationListApi.as_view(), name="api-conversations"),
    path("api/webhooks/openphone", messaging_views.openphone_webhook, name="openphone-webhook"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, as the CSP asks.
    path("api/docs/", SWAGGER_UI_STYLE(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    # Anything else under /api/ answers in the API's error shape, not Django's HTML 404.
    re_path(r"^api/", views.ApiNotFound.as_view(), name="api-not-found"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/token", views.api_token, name="api-token"),
    path("sending/resume", messaging_views.resume_sending, name="resume-sending"),
    path("sending/catch-up", messaging_views.catch_up_now, name="catch-up-now"),
    path("campaigns/", include("campaigns.urls")),
    path("contacts/", include("contacts.urls")),
    path("conversations/", include("messaging.urls")),
    *api_urlpatterns,
]
