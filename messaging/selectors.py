"""Reads with business meaning for messages."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.dateparse import parse_datetime

from contacts.models import Contact
from messaging.models import CatchUp, ConsentReview, Message, WebhookEvent
from messaging.segments import dollars


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
    latest: dict[int, int] = {}  # contact → their latest text's id
    shown_already: set[int] = set()
    offset, chunk = 0, limit * 10
    while len(latest) < limit:
        # Ids only: most of a chunk is passed over. Read whole, a chunk made the API's page cost
        # 14 ms of CPU instead of 8 (bench/load.py's data); the texts shown are read whole below.
        batch = list(messages_before.values_list("contact_id", "id")[offset : offset + chunk])
        new_contacts = {contact_id for contact_id, _ in batch} - latest.keys() - shown_already
        if earlier_pages is not None and new_contacts:
            shown_already |= set(
                messages.filter(earlier_pages, contact_id__in=new_contacts).values_list("contact_id", flat=True)
            )
        for contact_id, message_id in batch:
            if contact_id not in shown_already:
                latest.setdefault(contact_id, message_id)
        if len(batch) < chunk:
            break
        offset += chunk
    chosen_ids = list(latest.values())[:limit]
    texts = Message.objects.select_related("contact").in_bulk(chosen_ids)
    chosen = [texts[message_id] for message_id in chosen_ids]
    unread = set(
        Message.objects.waiting_for_a_person()
        .filter(contact_id__in=[message.contact_id for message in chosen])
        .values_list("contact_id", flat=True)
    )
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


@dataclass(frozen=True)
class Spend:
    """What OpenPhone bills for this calendar month's texts so far (in business time)."""

    month: dt.date  # its first day
    campaign_segments: int
    other_segments: int  # staff texts, answers to HELP, confirmations
    unknown_texts: int  # texts that may have gone, OpenPhone could not say: perhaps billed
    unknown_segments: int

    @property
    def segments(self) -> int:
        return self.campaign_segments + self.other_segments

    @property
    def dollars(self) -> Decimal:
        return dollars(self.segments)

    @property
    def campaign_dollars(self) -> Decimal:
        return dollars(self.campaign_segments)

    @property
    def other_dollars(self) -> Decimal:
        return dollars(self.other_segments)

    @property
    def unknown_dollars(self) -> Decimal:
        return dollars(self.unknown_segments)


def spend_this_month(*, now: dt.datetime, zone: dt.tzinfo) -> Spend:
    """The segments of every text OpenPhone took this month: sent, delivered, or refused by the
    carrier after OpenPhone took it (OpenPhone bills what it hands on: a text with ``sent_at``),
    by the month of ``sent_at`` in ``zone``. A text OpenPhone refused never went and costs
    nothing; one whose fate is unknown may have gone, and is counted apart.

    One index range from the month's first moment (``message_outbound_sent``, which carries the
    kind and the segments: PostgreSQL reads the index alone), and one over the few texts of
    unknown fate (``message_failures``)."""
    month = now.astimezone(zone).date().replace(day=1)
    start = dt.datetime.combine(month, dt.time(), tzinfo=zone)
    end = dt.datetime.combine((month + dt.timedelta(days=31)).replace(day=1), dt.time(), tzinfo=zone)
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    went = outbound.filter(sent_at__gte=start, sent_at__lt=end).aggregate(
        campaign=Sum("segments", filter=Q(kind=Message.Kind.CAMPAIGN), default=0),
        other=Sum("segments", filter=~Q(kind=Message.Kind.CAMPAIGN), default=0),
    )
    unknown = outbound.filter(
        status=Message.Status.UNKNOWN, status_changed_at__gte=start, status_changed_at__lt=end
    ).aggregate(texts=Count("id"), segments=Sum("segments", default=0))
    return Spend(
        month=month,
        campaign_segments=went["campaign"],
        other_segments=went["other"],
        unknown_texts=unknown["texts"],
        unknown_segments=unknown["segments"],
    )
