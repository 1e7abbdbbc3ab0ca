from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("<int:contact_id>/", views.thread, name="thread"),
]
