"""Reads with business meaning for messages."""

from django.db.models import QuerySet

from messaging.models import Message


def message_list(*, contact_id: int | None = None) -> QuerySet[Message]:
    messages = Message.objects.all()
    if contact_id is not None:
        messages = messages.filter(contact_id=contact_id)
    return messages
