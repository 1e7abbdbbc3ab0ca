"""Reads with business meaning for messages."""

import datetime as dt
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from attackacrack.alerts import Alert
from campaigns.models import Campaign, CampaignSend
from contacts.models import Contact
from messaging.models import CatchUp, ConsentReview, Message, WebhookEvent, WorkerHeartbeat


def message_list(*, contact_id: int | None = None) -> QuerySet[Message]:
    messages = Message.objects.all()
    if contact_id is not None:
        messages = messages.filter(contact_id=contact_id)
    return messages


def replies_waiting(*, limit: int = 10, intent: str = "") -> QuerySet[Message]:
    """Inbound texts nobody has read yet that need a person (not a STOP or HELP the system already
    answered), newest first; only those with this label when one is given."""
    replies = Message.objects.filter(
        direction=Message.Direction.INBOUND, read_at__isnull=True, handled_automatically=False
    )
    if intent:
        replies = replies.filter(intent=intent)
    return replies.select_related("contact").order_by("-created_at")[:limit]


def latest_texts(*, limit: int = 20) -> QuerySet[Message]:
    return Message.objects.select_related("contact").order_by("-created_at", "-id")[:limit]


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
    """(contact, latest text, unread) for the contacts with the latest texts, newest first.

    Walks the messages index backwards and keeps the first text of each contact, so the cost
    follows the page, not the million texts behind it. ``before`` is the (time, id) of the last
    text on the previous page; a contact with a text at or after it was on an earlier page and
    is not shown again. Campaign texts alone do not make a conversation unless asked for: staff
    want the people who talk to them, not the 125 who were texted this morning. With ``intent``,
    the contacts whose replies carry that label, by their latest such reply.
    """
    messages = Message.objects.order_by("-created_at", "-id")
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
        Message.objects.filter(
            contact_id__in=contacts, direction=Message.Direction.INBOUND, read_at__isnull=True
        ).values_list("contact_id", flat=True)
    )
    return [ConversationRow(contacts[m.contact_id], m, m.contact_id in unread) for m in chosen]


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
    overdue = now - dt.timedelta(seconds=settings.OUTBOX_REENQUEUE_SECONDS)
    missed = now - dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)
    messages = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED, next_attempt_at__lt=overdue
    ).count()
    sends = CampaignSend.objects.filter(
        status=CampaignSend.Status.QUEUED,
        campaign__status=Campaign.Status.ACTIVE,
        scheduled_for__lt=overdue,
        scheduled_for__gte=missed,
    ).count()
    return messages + sends


def alerts(*, now: dt.datetime) -> list[Alert]:
    """What needs a person: sending held, failing webhooks, failing texts, bad keys, no worker."""
    from messaging import outbox, webhooks

    found = []
    hold = outbox.current_hold()
    if hold is not None:
        waiting = Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED).count()
        found.append(
            Alert(
                "error",
                f"Sending is held since {timezone.localtime(hold.started_at):%Y-%m-%d %H:%M}: OpenPhone refused a "
                f"text for the whole account ({hold.reason}). Nothing is sent until you fix it in OpenPhone and "
                f"resume; {waiting} text(s) are waiting.",
                action="resume-sending",
                action_label="Resume sending",
            )
        )
    found.extend(Alert("error", problem) for problem in webhooks.key_problems())
    day_ago = now - dt.timedelta(hours=24)
    failed_events = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    if failed_events:
        found.append(
            Alert(
                "error",
                f"{failed_events} webhook event(s) failed to process.",
                reverse("admin:messaging_webhookevent_changelist") + "?status__exact=failed",
            )
        )
    waiting = waiting_events(now=now).count()
    if waiting:
        found.append(
            Alert(
                "error",
                f"{waiting} webhook event(s) from OpenPhone have waited more than "
                f"{settings.WEBHOOK_HANDOVER_SECONDS} seconds for a worker (replies, opt-outs, delivery reports): "
                "the worker or its queue may be down.",
                reverse("admin:messaging_webhookevent_changelist") + "?status__exact=pending",
                action="process-waiting-events",
                action_label="Process them now",
            )
        )
    failures = Message.objects.filter(
        status__in=[Message.Status.FAILED, Message.Status.UNKNOWN], status_changed_at__gte=day_ago
    )
    failed = failures.count()
    if failed:
        found.append(
            Alert(
                "error",
                f"{failed} text(s) failed or have an unknown outcome in the last 24 hours.",
                reverse("admin:messaging_message_changelist") + "?status__exact=failed",
            )
        )
    late = waiting_texts(now=now)
    if late and hold is None:
        found.append(
            Alert(
                "warning",
                f"{late} text(s) due more than {settings.OUTBOX_REENQUEUE_SECONDS // 60} minutes ago have not been "
                "taken by a worker: they go out as soon as one takes them (a campaign text too late for its slot "
                "is booked again).",
            )
        )
    found.extend(catch_up_alerts(now=now))
    heartbeat = WorkerHeartbeat.objects.filter(name="dispatcher").first()
    if heartbeat is None or heartbeat.seen_at < now - dt.timedelta(minutes=2):
        seen = f"last seen {heartbeat.seen_at:%Y-%m-%d %H:%M}" if heartbeat else "never seen"
        found.append(
            Alert("warning", f"The worker has not run the dispatcher recently ({seen}): texts are not going out.")
        )
    return found


def catch_up_alerts(*, now: dt.datetime) -> list[Alert]:
    """Webhooks gone quiet, and what the catch-ups of the last day found that the webhooks missed."""
    from messaging import catch_up, quiet

    found = []
    silence = quiet.webhooks_silence(now=now)
    if silence is not None:
        overdue = quiet.catch_up_overdue(now=now) is not None
        found.append(
            Alert(
                "error",
                f"No webhook event has arrived since {timezone.localtime(silence.since):%Y-%m-%d %H:%M} while texts "
                f"went out: OpenPhone's webhooks may not be reaching us, and replies or STOPs may be missing. "
                + (
                    "Campaign texts to people we are in conversation with wait until a catch-up has run."
                    if overdue
                    else "The latest catch-up from OpenPhone covered the silence."
                ),
                action="catch-up-now",
                action_label="Catch up now",
            )
        )
    recent = CatchUp.objects.filter(started_at__gte=now - dt.timedelta(hours=24)).order_by("started_at")
    for run in recent:
        for missed in run.missed_opt_outs:
            thread = reverse("messaging:thread", args=[missed["contact_id"]])
            found.append(Alert("error", catch_up.describe_missed_opt_out(missed), thread))
    missed_replies = sum(run.replies_found for run in recent)
    if missed_replies:
        found.append(
            Alert(
                "warning",
                f"Catch-ups from OpenPhone found {missed_replies} text(s) in the last 24 hours that the webhooks had "
                "missed: check the webhook in OpenPhone.",
                reverse("admin:messaging_catchup_changelist"),
            )
        )
    latest = CatchUp.objects.exclude(status=CatchUp.Status.RUNNING).first()
    if latest is not None and latest.status == CatchUp.Status.FAILED:
        found.append(
            Alert(
                "warning",
                f"The catch-up from OpenPhone at {timezone.localtime(latest.started_at):%Y-%m-%d %H:%M} failed: "
                f"{latest.error}",
                reverse("admin:messaging_catchup_changelist"),
                action="catch-up-now",
                action_label="Try again",
            )
        )
    return found


def latest_catch_up() -> CatchUp | None:
    return CatchUp.objects.first()


def possible_opt_outs(*, limit: int) -> list[ConsentReview]:
    """Texts that may be opt-outs, waiting for a person: the oldest first (they have waited longest)."""
    return list(
        ConsentReview.objects.filter(decision="").select_related("message", "contact").order_by("created_at")[:limit]
    )
