"""Reads with business meaning for messages."""

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from contacts.models import Contact
from messaging.models import Message


def message_list(*, contact_id: int | None = None) -> QuerySet[Message]:
    messages = Message.objects.all()
    if contact_id is not None:
        messages = messages.filter(contact_id=contact_id)
    return messages


def conversations(*, include_campaign_sends: bool = False) -> QuerySet[Contact]:
    """Contacts by their latest text, newest first, with ``last_message_at`` and ``unread``.

    Campaign texts alone do not make a conversation unless asked for: staff want the people
    who talk to them, not the 125 who were texted this morning.
    """
    counted = Q() if include_campaign_sends else ~Q(messages__kind=Message.Kind.CAMPAIGN)
    unread = Message.objects.filter(
        contact_id=OuterRef("pk"), direction=Message.Direction.INBOUND, read_at__isnull=True
    )
    return (
        Contact.objects.annotate(last_message_at=Max("messages__created_at", filter=counted), unread=Exists(unread))
        .filter(last_message_at__isnull=False)
        .order_by("-last_message_at", "-id")
    )
