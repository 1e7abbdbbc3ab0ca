"""The contacts and imports API, included under /api/ by the project's URLs."""

from django.urls import path

from contacts import api, dnc_api

urlpatterns = [
    path("contacts", api.ContactListApi.as_view(), name="api-contacts"),
    path("contacts/export.csv", api.ContactExportApi.as_view(), name="api-contacts-export"),
    path("contacts/<int:contact_id>", api.ContactDetailApi.as_view(), name="api-contact"),
    path("dnc-lists", dnc_api.DncListsApi.as_view(), name="api-dnc-lists"),
    path("import/csv", api.ImportCsvApi.as_view(), name="api-import-csv"),
    path("imports", api.ImportListApi.as_view(), name="api-imports"),
    path("imports/<int:import_id>", api.ImportDetailApi.as_view(), name="api-import"),
    path("imports/<int:import_id>/rejections.csv", api.ImportRejectionsApi.as_view(), name="api-import-rejections"),
]
