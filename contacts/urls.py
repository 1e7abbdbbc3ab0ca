from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("<int:contact_id>/", views.contact_detail, name="detail"),
    path("import", views.contact_import, name="import"),
    path("imports/<int:import_id>/", views.import_report, name="import-report"),
]
