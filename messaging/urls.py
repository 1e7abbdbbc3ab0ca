from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("<int:contact_id>/", views.thread, name="thread"),
    path("<int:contact_id>/consent", views.change_consent, name="consent"),
    path("reviews/<int:review_id>/decide", views.decide_review, name="decide-review"),
    path("messages/<int:message_id>/intent", views.correct_intent, name="correct-intent"),
]
