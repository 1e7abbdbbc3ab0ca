"""The messages and conversations API and OpenPhone's webhook, included under /api/ by the project's URLs."""

from django.urls import path

from messaging import api, views

urlpatterns = [
    path("messages", api.MessageListApi.as_view(), name="api-messages"),
    path("messages/<int:message_id>", api.MessageDetailApi.as_view(), name="api-message"),
    path("contacts/<int:contact_id>/messages", api.ContactMessagesApi.as_view(), name="api-contact-messages"),
    path("conversations", api.ConversationListApi.as_view(), name="api-conversations"),
    path("webhooks/openphone", views.openphone_webhook, name="openphone-webhook"),
]
