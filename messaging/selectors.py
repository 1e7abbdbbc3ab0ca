"""Reads with business meaning for messages."""

import datetime as dt
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from contacts.models import Contact
from messaging.models import CatchUp, ConsentReview, Message, WebhookEvent


def message_list(*, contact_id: int | None = None) -> QuerySet[Message]:
    messages = Message.objects.written()
    if contact_id is not None:
        messages = messages.filter(contact_id=contact_id)
    return messages


def replies_waiting(*, limit: int = 10, intent: str = "") -> QuerySet[Message]:
    """Inbound texts nobody has read yet that need a person (not a STOP or HELP the system already
    answered), newest first; only those with this label when one is given."""
    replies = Message.objects.waiting_for_a_person()
    if intent:
        replies = replies.filter(intent=intent)
    return replies.select_related("contact").order_by("-created_at")[:limit]


def latest_texts(*, limit: int = 20) -> QuerySet[Message]:
    return Message.objects.written().select_related("contact").order_by("-created_at", "-id")[:limit]


class ConversationRow(NamedTuple):
    contact: Contact
    latest: Message
    unread: bool


class BadCursor(ValueError):
    pass


def conversation_cursor(message: Message) -> str:
    """Where the next page of conversations starts: just before this text."""
    return f"{message.created_at.isoformat()}~{message.pk}"


def parse_conversation_cursor(cursor: str) -> tuple[dt.datetime, int]:
    at, _, message_id = cursor.rpartition("~")
    created_at = parse_datetime(at) if at else None
    if created_at is None or created_at.tzinfo is None or not message_id.isdigit():
        raise BadCursor("Not a cursor from a previous page.")
    return created_at, int(message_id)


def conversation_page(
    *,
    before: tuple[dt.datetime, int] | None = None,
    include_campaign_sends: bool = False,
    intent: str = "",
    limit: int = 30,
) -> list[ConversationRow]:
    """(contact, latest text, unread) for the contacts with the latest texts, newest first; unread
    when a text of theirs waits for a person, as Today's replies waiting count it.

    Walks the messages index backwards and keeps the first text of each contact, so the cost
    follows the page, not the million texts behind it. ``before`` is the (time, id) of the last
    text on the previous page; a contact with a text at or after it was on an earlier page and
    is not shown again. Campaign texts alone do not make a conversation unless asked for: staff
    want the people who talk to them, not the 125 who were texted this morning. With ``intent``,
    the contacts whose replies carry that label, by their latest such reply.
    """
    messages = Message.objects.written().order_by("-created_at", "-id")
    if intent:
        messages = messages.filter(direction=Message.Direction.INBOUND, intent=intent)
    elif not include_campaign_sends:
        messages = messages.exclude(kind=Message.Kind.CAMPAIGN)
    messages_before, earlier_pages = messages, None
    if before is not None:
        at, message_id = before
        earlier_pages = Q(created_at__gt=at) | Q(created_at=at, id__gte=message_id)
        messages_before = messages.exclude(earlier_pages)
    latest: dict[int, Message] = {}
    shown_already: set[int] = set()
    offset, chunk = 0, limit * 10
    while len(latest) < limit:
        batch = list(messages_before[offset : offset + chunk])
        new_contacts = {message.contact_id for message in batch} - latest.keys() - shown_already
        if earlier_pages is not None and new_contacts:
            shown_already |= set(
                messages.filter(earlier_pages, contact_id__in=new_contacts).values_list("contact_id", flat=True)
            )
        for message in batch:
            if message.contact_id not in shown_already:
                latest.setdefault(message.contact_id, message)
        if len(batch) < chunk:
            break
        offset += chunk
    chosen = list(latest.values())[:limit]
    contacts = Contact.objects.in_bulk([message.contact_id for message in chosen])
    unread = set(
        Message.objects.waiting_for_a_person().filter(contact_id__in=contacts).values_list("contact_id", flat=True)
    )
    for message in chosen:
        message.contact = contacts[message.contact_id]  # what the row says of its text needs the contact
    return [ConversationRow(message.contact, message, message.contact_id in unread) for message in chosen]


# --- Work waiting longer than it should ---------------------------------------------------------


def waiting_events(*, now: dt.datetime) -> QuerySet[WebhookEvent]:
    """Pending webhook events due for longer than the hand-over's grace: no worker has taken
    them (the broker or the workers are down, or the sweep is not running)."""
    overdue = now - dt.timedelta(seconds=settings.WEBHOOK_HANDOVER_SECONDS)
    return WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING, next_attempt_at__lt=overdue)


def waiting_texts(*, now: dt.datetime) -> int:
    """Texts due longer ago than the outbox's hand-over grace and still not taken by a worker. A
    campaign text whose slot is past the missed-slot grace is not counted: the dispatcher held it
    (a window closed, a cap reached) or it went late, and the next campaign run books it again."""
    from messaging.outbox import due_texts

    overdue = now - dt.timedelta(seconds=settings.OUTBOX_REENQUEUE_SECONDS)
    return due_texts(now=now).filter(next_attempt_at__lt=overdue).count()


def latest_catch_up() -> CatchUp | None:
    return CatchUp.objects.first()


def possible_opt_outs(*, limit: int) -> list[ConsentReview]:
    """Texts that may be opt-outs, waiting for a person: the oldest first (they have waited longest)."""
    return list(
        ConsentReview.objects.filter(decision="").select_related("message", "contact").order_by("created_at")[:limit]
    )
