from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new", views.contact_form, name="create"),
    path("export.csv", views.contact_export, name="export"),
    path("<int:contact_id>/", views.contact_detail, name="detail"),
    path("<int:contact_id>/edit", views.contact_form, name="edit"),
    path("<int:contact_id>/lawful-basis", views.change_lawful_basis, name="lawful-basis"),
    path("import", views.contact_import, name="import"),
    path("dnc-lists", views.dnc_lists, name="dnc-lists"),
    path("imports/<int:import_id>/", views.import_report, name="import-report"),
]
