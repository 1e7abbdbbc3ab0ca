"""What a stored OpenPhone event does: replies and STOPs, delivery and failure reports.

Both webhook systems carry a message event, in different places (tests/openphone/openphone-api.md):
legacy puts the message, with ``from``/``to``, in ``data.object``; the current system puts it in
``data.resource`` with no parties, and the parties in ``data.context`` (``senderIdentifier``,
``recipientIdentifiers``). `message_event` reads either into the shape of a text in OpenPhone's
history (``HistoryRecord``); everything after it is the same for both, and for a text a catch-up
reads from the history. Fields a format does not promise are optional: an event is never failed
because one is missing, only because what it is about cannot be known.
"""

import datetime as dt
import logging
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from attackacrack.celery import hand_to_worker
from campaigns.models import CampaignSend
from contacts.models import Contact
from contacts.phones import normalize_phone
from messaging import outbox, selectors, services
from messaging.backends.base import HistoryRecord
from messaging.backends.openphone import parse_time
from messaging.intent import reply_intent
from messaging.models import Message, WebhookEvent
from messaging.webhooks import Unreadable

logger = logging.getLogger(__name__)

REPLY_ATTRIBUTION_WINDOW = dt.timedelta(hours=72)
# A message time outside this span around receipt is not believed (a year-9999 text would sort
# first in every list for ever): the event's receipt time stands in for it.
PLAUSIBLE_BEFORE_RECEIPT = dt.timedelta(days=30)
PLAUSIBLE_AFTER_RECEIPT = dt.timedelta(minutes=5)


class NotYetKnown(Exception):
    """A report about a text whose provider id is not stored yet: tried again later."""


class Unprocessable(Exception):
    """An event nothing can be done with (no message id, an unreadable number): failed for good."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _numbers(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str) and item)
    return ()


def message_event(payload: Any) -> HistoryRecord:
    """The message of either webhook system's event, in the shape OpenPhone's history gives it."""
    data = payload.get("data") if isinstance(payload, dict) else None
    data = data if isinstance(data, dict) else {}
    resource = data.get("object") if isinstance(data.get("object"), dict) else data.get("resource")
    if not isinstance(resource, dict):
        raise Unprocessable("The event's data holds no message (neither data.object nor data.resource).")
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    message_id = _text(resource.get("id"))
    if not message_id:
        raise Unprocessable("The message event has no message id.")
    error = resource.get("error") if isinstance(resource.get("error"), dict) else {}
    return HistoryRecord(
        external_id=message_id,
        direction=_text(resource.get("direction")),
        from_number=_text(resource.get("from")) or _text(context.get("senderIdentifier")),
        to_numbers=_numbers(resource.get("to")) or _numbers(context.get("recipientIdentifiers")),
        body=_text(resource.get("text")) or _text(resource.get("body")),
        created_at=parse_time(resource.get("createdAt")),
        status=_text(resource.get("status")),
        error_code=(_text(resource.get("errorCode")) or _text(error.get("code")))[:16],
        error_message=_text(resource.get("errorMessage")) or _text(error.get("message")),
    )


# --- Processing -----------------------------------------------------------------------------

# A failure that may pass (a delivery report ahead of our record of the send) is tried again
# after 5 s, 10 s, 20 s ... up to 10 minutes apart, MAX_ATTEMPTS times in all (10 m 35 s of waits,
# each rounded up to the sweep's next tick).
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=5)
LONGEST_RETRY = dt.timedelta(minutes=10)
# At most this many events are handed over by one sweep, oldest first.
HANDOVER_LIMIT = 500
HANDOVER_BATCH = 50


def process_event(event_pk: int, *, now: dt.datetime | None = None) -> str:
    """Apply one stored event, exactly once, and return its status afterwards.

    The event's row is locked while its effects are written, in the same transaction that marks
    it processed: a second worker handed the same event skips it (or finds it processed), and a
    worker killed half-way leaves it pending for the hand-over sweep. A failure is kept on the
    event: one that may pass is due again later, one that cannot (or out of attempts) is failed.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event_pk).first()
        if event is None:
            return "locked"  # another worker has it now (or it does not exist)
        if event.status != WebhookEvent.Status.PENDING:
            return event.status
        now = now or timezone.now()
        event.attempts += 1
        try:
            with transaction.atomic():
                _handle(event)
        except Exception as error:
            event.error = f"{type(error).__name__}: {error}"[:2000]
            if isinstance(error, Unprocessable | Unreadable) or event.attempts >= MAX_ATTEMPTS:
                event.status, event.next_attempt_at = WebhookEvent.Status.FAILED, None
                logger.error("Webhook event %s failed for good: %s", event.pk, event.error)
            else:
                # Due again after the backoff, and free for the sweep to hand over as soon as it is.
                event.next_attempt_at = now + min(LONGEST_RETRY, FIRST_RETRY * 2 ** (event.attempts - 1))
                event.enqueued_at = None
                logger.warning("Webhook event %s will be tried again: %s", event.pk, event.error)
        else:
            event.status, event.next_attempt_at, event.processed_at, event.error = (
                WebhookEvent.Status.PROCESSED, None, now, ""
            )  # fmt: skip
        event.save(update_fields=["status", "next_attempt_at", "enqueued_at", "processed_at", "attempts", "error"])
        return event.status


def hand_over_due_events(*, now: dt.datetime | None = None) -> int:
    """Beat's sweep: hand every pending event that is due, and was not handed over within
    WEBHOOK_HANDOVER_SECONDS, to a worker again (oldest first). A lost task, a killed worker, a
    broker restarted empty or unreachable at intake: each leaves the event pending, and this
    finds it. Handing over twice is harmless (see `process_event`). Returns how many."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.WEBHOOK_HANDOVER_SECONDS)
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:HANDOVER_LIMIT]
        )
        WebhookEvent.objects.filter(pk__in=ids).update(enqueued_at=now)
    for start in range(0, len(ids), HANDOVER_BATCH):
        if not hand_to_worker("messaging.tasks.process_webhook_events", ids[start : start + HANDOVER_BATCH]):
            break  # the broker is away: the next sweep tries again
    return len(ids)


def process_waiting_events(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Process the events waiting longer than the hand-over's grace, here and now, oldest first:
    Today's "Process them now", for when no worker is taking them. Returns the outcomes."""
    now = now or timezone.now()
    waiting = selectors.waiting_events(now=now).order_by("next_attempt_at", "id").values_list("pk", flat=True)
    return process_again(list(waiting[:HANDOVER_LIMIT]), now=now)


def process_again(event_pks: list[int], *, now: dt.datetime | None = None) -> dict[str, int]:
    """A person asks for failed (or waiting) events to be processed again, now, in this order: a
    failed one gets a fresh count of attempts. Returns how many ended in each status."""
    now = now or timezone.now()
    WebhookEvent.objects.filter(pk__in=event_pks, status=WebhookEvent.Status.FAILED).update(
        status=WebhookEvent.Status.PENDING, next_attempt_at=now, attempts=0
    )
    return dict(Counter(process_event(pk, now=now) for pk in event_pks))


def _handle(event: WebhookEvent) -> None:
    payload = event.payload  # the body as intake read it (webhooks.read_body), made storable
    if payload is None:
        raise Unreadable(event.error or "The body could not be read.")
    if not isinstance(payload, dict):
        raise Unprocessable("The body is JSON but not an event object.")
    if event.event_type in MESSAGE_HANDLERS:
        apply_message_event(event.event_type, message_event(payload), received_at=event.received_at)
    # Calls, contacts and types OpenPhone adds later are stored and shown, nothing more.


def _message_received(event: HistoryRecord, *, received_at: dt.datetime) -> None:
    if Message.objects.filter(external_id=event.external_id).exists():
        return  # the same message delivered again
    phone = normalize_phone(event.from_number)
    if phone is None:
        raise Unprocessable(f"Cannot read the sender's number {event.from_number!r}")
    to_number = normalize_phone(event.to_numbers[0]) if event.to_numbers else None
    created_at = event.created_at or received_at
    if not received_at - PLAUSIBLE_BEFORE_RECEIPT <= created_at <= received_at + PLAUSIBLE_AFTER_RECEIPT:
        created_at = received_at
    contact, _ = Contact.objects.get_or_create(phone=phone, defaults={"source": "inbound text"})
    replied_to = (
        CampaignSend.objects.filter(
            contact=contact,
            message__status__in=[Message.Status.SENT, Message.Status.DELIVERED],
            message__sent_at__gte=created_at - REPLY_ATTRIBUTION_WINDOW,
            message__sent_at__lte=created_at,
        )
        .order_by("-message__sent_at")
        .first()
    )
    message = Message.objects.create(
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.REPLY,
        body=event.body,
        from_number=phone,
        to_number=to_number or settings.OPENPHONE_FROM_NUMBER,
        contact=contact,
        status=Message.Status.RECEIVED,
        status_changed_at=created_at,
        created_at=created_at,
        external_id=event.external_id,
        in_reply_to_send=replied_to,
        intent=reply_intent(event.body),
    )
    services.handle_keywords(message)


def _outgoing(event: HistoryRecord) -> Message:
    message = Message.objects.filter(external_id=event.external_id, direction=Message.Direction.OUTBOUND).first()
    if message is None:
        # The report can overtake our own record of the send: try again shortly.
        raise NotYetKnown(f"No outgoing message has id {event.external_id} yet")
    return message


def _message_delivered(event: HistoryRecord, *, received_at: dt.datetime) -> None:
    message = _outgoing(event)
    if message.status in (Message.Status.DELIVERED, Message.Status.FAILED):
        return
    now = timezone.now()
    message.status = Message.Status.DELIVERED
    message.status_changed_at = now
    message.delivered_at = now
    message.save(update_fields=["status", "status_changed_at", "delivered_at"])


def _message_failed(event: HistoryRecord, *, received_at: dt.datetime) -> None:
    message = _outgoing(event)
    if message.status == Message.Status.FAILED:
        return
    code = f" ({event.error_code})" if event.error_code else ""
    reason = event.error_message or "the carrier did not deliver it"
    outbox.record_undelivered(message, error=f"Not delivered{code}: {reason}"[:500], code=event.error_code)
    message.refresh_from_db()
    services.settle_failure(message)


MESSAGE_HANDLERS = {
    "message.received": _message_received,
    "message.delivered": _message_delivered,
    "message.failed": _message_failed,
}


def apply_message_event(event_type: str, event: HistoryRecord, *, received_at: dt.datetime) -> None:
    """What a message event does, however it reached us: a webhook, or a catch-up from history."""
    MESSAGE_HANDLERS[event_type](event, received_at=received_at)
