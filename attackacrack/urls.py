from django.contrib import admin
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from attackacrack import views
from campaigns.api import CampaignDetailApi, CampaignListApi, CampaignUploadApi
from contacts.api import (
    ContactDetailApi,
    ContactExportApi,
    ContactListApi,
    ImportCsvApi,
    ImportDetailApi,
    ImportListApi,
    ImportRejectionsApi,
)
from messaging.api import MessageDetailApi, MessageListApi

# The user's contract spells API paths without a trailing slash.
api_urlpatterns = [
    path("api/campaigns", CampaignListApi.as_view(), name="api-campaigns"),
    path("api/campaigns/<int:campaign_id>", CampaignDetailApi.as_view(), name="api-campaign"),
    path("api/campaigns/<int:campaign_id>/upload", CampaignUploadApi.as_view(), name="api-campaign-upload"),
    path("api/contacts", ContactListApi.as_view(), name="api-contacts"),
    path("api/contacts/export.csv", ContactExportApi.as_view(), name="api-contacts-export"),
    path("api/contacts/<int:contact_id>", ContactDetailApi.as_view(), name="api-contact"),
    path("api/import/csv", ImportCsvApi.as_view(), name="api-import-csv"),
    path("api/imports", ImportListApi.as_view(), name="api-imports"),
    path("api/imports/<int:import_id>", ImportDetailApi.as_view(), name="api-import"),
    path("api/imports/<int:import_id>/rejections.csv", ImportRejectionsApi.as_view(), name="api-import-rejections"),
    path("api/messages", MessageListApi.as_view(), name="api-messages"),
    path("api/messages/<int:message_id>", MessageDetailApi.as_view(), name="api-message"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Anything else under /api/ answers in the API's error shape, not Django's HTML 404.
    re_path(r"^api/", views.ApiNotFound.as_view(), name="api-not-found"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    *api_urlpatterns,
]
