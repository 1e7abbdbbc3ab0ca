from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from attackacrack import views
from campaigns import follow_up_views, outcome_views
from campaigns import views as campaign_views
from messaging import views as messaging_views

# Swagger UI (the pinned drf-spectacular-sidecar) adds one <style> element of its own: that one
# element's hash is allowed on the docs page, nothing else inline.
SWAGGER_UI_STYLE = csp_update({"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]})

# Each app's API under /api/ (the user's contract spells its paths without a trailing slash).
api_urlpatterns = [
    path("api/", include("campaigns.api_urls")),
    path("api/", include("contacts.api_urls")),
    path("api/", include("messaging.api_urls")),
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
    path("webhooks/process-waiting", messaging_views.process_waiting_events, name="process-waiting-events"),
    path("campaigns/", include("campaigns.urls")),
    # Who staff chose to text again: its own section of the nav, beside the campaigns.
    path("follow-ups/", follow_up_views.due_follow_ups, name="follow-ups"),
    # The contact page's download of its compliance history: campaigns serve it (contacts does not
    # read campaigns), at the contact's own address.
    path(
        "contacts/<int:contact_id>/compliance.json",
        campaign_views.contact_compliance_download,
        name="contact-compliance-download",
    ),
    # What came of a contact's conversations, recorded from the thread or the contact page.
    path("contacts/<int:contact_id>/outcomes", outcome_views.record_outcome, name="record-outcome"),
    path(
        "contacts/<int:contact_id>/outcomes/<int:outcome_id>/correct",
        outcome_views.correct_outcome,
        name="correct-outcome",
    ),
    path(
        "contacts/<int:contact_id>/outcomes/<int:outcome_id>/withdraw",
        outcome_views.withdraw_outcome,
        name="withdraw-outcome",
    ),
    path("contacts/", include("contacts.urls")),
    path("conversations/", include("messaging.urls")),
    *api_urlpatterns,
]
