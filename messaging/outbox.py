"""The outbox: every text we send, with the database as the source of truth.

Every text, campaign or one-to-one, is one ``Message`` and waits as ``queued`` until it is due
(a campaign text at its slot, a retry after its backoff; its states are drawn on the model). The
beat tick (`dispatch`) hands due ones to workers in batches; a worker takes one with a
compare-and-set to ``sending`` (so a task delivered twice sends once), checks again that it may
still go (a campaign text: every dispatch rule; a staff text: the conversation rules), and makes
one request to the provider outside any transaction. Then:

- accepted → ``sent``, with OpenPhone's ``data.id`` stored for delivery updates;
- refused for good (a 4xx) → ``failed`` with the provider's error and code;
- refused for a reason that would refuse every text (no API key set, a key OpenPhone refuses,
  A2P not approved, no credits) → back to ``queued``, and an `OutboxHold` naming that cause
  stops the line until a person fixes it and resumes;
- refused for now (429, 5xx, network) → ``queued`` again after a jittered exponential backoff
  that honours ``Retry-After``, until SMS_MAX_ATTEMPTS → ``failed``;
- when the request may have reached the provider (a read timeout, a 5xx, a dropped connection),
  the provider is asked whether the text exists before anything is retried; if it cannot be
  asked, the text is ``unknown`` and left for a person — never guessed.

A worker killed mid-attempt leaves the text ``sending``; `recover_interrupted` asks the provider
about it after SMS_STUCK_AFTER_SECONDS, so it is neither lost nor sent twice.
"""

import datetime as dt
import logging
import random

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from attackacrack.celery import hand_to_worker
from attackacrack.errors import ApplicationError
from campaigns import compliance
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignSend
from campaigns.sends import Outcome, record_outcome
from campaigns.writing import campaign_text
from contacts.models import Contact
from contacts.not_texted import Reason
from messaging.backends import SMSSendError, get_backend
from messaging.backends.base import AccountRefusal
from messaging.models import Message, OutboxHold
from messaging.segments import sms_cost

logger = logging.getLogger(__name__)

BATCH_SIZE = 25


class CannotText(ApplicationError):
    """A text that must not be sent (the contact opted out, no sending number)."""

    code = "cannot_text"


# --- Handing work to the workers ------------------------------------------------------------


def due_texts(*, now: dt.datetime) -> QuerySet[Message]:
    """Texts waiting in the outbox whose moment has come. A campaign text goes only while its
    campaign is active (a pause stops sending at once) and not later than the missed-slot grace
    after its slot (a late one is booked again by the campaign's next run, never sent late)."""
    late = now - dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)
    return Message.objects.filter(
        Q(campaign_send__isnull=True)
        | Q(campaign__status=Campaign.Status.ACTIVE, campaign_send__scheduled_for__gte=late),
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.QUEUED,
        next_attempt_at__lte=now,
    )


def dispatch(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The beat tick: recover interrupted attempts, then hand due texts to workers in batches."""
    now = now or timezone.now()
    if current_hold() is not None:
        # Every request would be refused, lookups included: nothing moves until a person resumes.
        return {"messages": 0, "recovered": 0, "held": True}
    recovered = recover_interrupted(now=now)
    # A batch handed to the broker but not started within this long is handed over again (the
    # broker lost it: Redis restarted). Taking a text is a compare-and-set, so a duplicate is harmless.
    stale = now - dt.timedelta(seconds=settings.OUTBOX_REENQUEUE_SECONDS)
    with transaction.atomic():
        message_ids = list(
            due_texts(now=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[: BATCH_SIZE * 8]
        )
        Message.objects.filter(pk__in=message_ids).update(enqueued_at=now)
        for start in range(0, len(message_ids), BATCH_SIZE):
            batch = message_ids[start : start + BATCH_SIZE]
            transaction.on_commit(lambda batch=batch: hand_to_worker("messaging.tasks.deliver_messages", batch))
    return {"messages": len(message_ids), "recovered": recovered, "held": False}


# --- Taking one text ------------------------------------------------------------------------


def deliver_message(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send (or try again) one queued outbound text if it may still go; returns what became of it."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("contact", "campaign_send__campaign")
            .filter(pk=message_id, status=Message.Status.QUEUED, direction=Message.Direction.OUTBOUND)
            .first()
        )
        if message is None:
            return "taken"  # another worker has it, or it is no longer waiting
        if current_hold() is not None:
            Message.objects.filter(pk=message.pk).update(enqueued_at=None)
            return "held"
        if message.campaign_send_id:
            send = message.campaign_send
            send.contact = message.contact
            # First attempt or retry, a campaign text passes every dispatch rule as it goes.
            checks = compliance.dispatch_checks(send, now=now, calendar=BusinessCalendar.from_settings())
            if not all(checks.values()):
                return _stop_campaign_text(message, send, checks, now=now)
            if not message.body:
                # Written as it first goes: the opt-out footer depends on whether it is their first text.
                message.body = campaign_text(campaign=send.campaign, contact=message.contact, variant=send.variant)
                message.segments = sms_cost(message.body).segments
                message.created_at = now
            record_outcome(Outcome.SENT_TO_PROVIDER, texts=[message], checks=checks, now=now)
        elif refusal := compliance.conversation_refusal(message.contact, message.kind):
            # Checked again as it goes: nothing reaches an opted-out number but the opt-out's
            # confirmation and answers to HELP (a HELP answer written before the STOP was cancelled
            # by the opt-out itself: their last word was STOP).
            _cancel(message, reason=refusal, now=now)
            return "cancelled"
        message.status = Message.Status.SENDING
        message.status_changed_at = now
        message.claimed_at = now
        message.attempts += 1
        message.save(
            update_fields=["body", "segments", "created_at", "status", "status_changed_at", "claimed_at", "attempts"]
        )
    return _attempt(message)


def _stop_campaign_text(message: Message, send: CampaignSend, checks: dict[str, bool], *, now: dt.datetime) -> str:
    """A campaign text that may not go now. Opted out, its campaign cancelled, or a follow-up to
    someone who wrote to us since the text before: it is cancelled. Paused, outside a window, late
    or over a cap: a first attempt waits (and the campaign's next run releases it if its slot goes
    by); a retry is released at once, and the next run books the member into a slot that is
    allowed. Never sent late."""
    if not checks["not_opted_out"]:
        because = Reason.OPTED_OUT
    elif send.campaign.status == Campaign.Status.CANCELLED:
        because = Reason.CAMPAIGN_CANCELLED
    elif not checks["no_reply_yet"]:
        because = Reason.REPLIED
    else:
        because = None
    if because is not None:
        _cancel(message, reason=because.label, because=because, now=now, checks=checks)
        return "cancelled"
    if not message.attempts:
        Message.objects.filter(pk=message.pk).update(enqueued_at=None)
        record_outcome(Outcome.HELD, texts=[message], checks=checks, now=now)
        return "held"
    failed = ", ".join(name for name, passed in checks.items() if not passed)
    _cancel(message, reason=f"it could not go in time ({failed})", now=now, checks=checks, release=True)
    return "released"


def _cancel(
    message: Message,
    *,
    reason: str,
    now: dt.datetime,
    because: Reason | None = None,
    checks: dict[str, bool] | None = None,
    release: bool = False,
) -> None:
    """A text that may never go ends ``cancelled``, saying why; a campaign text's member with it.
    Released (a campaign text that was tried and can no longer go in time), it stays on record for
    its attempts, its booking is released, and the member waits to be booked afresh."""
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.CANCELLED,
        status_changed_at=now,
        enqueued_at=None,
        error=f"Not sent: {reason}" + ("; released to be booked again" if release else ""),
    )
    if message.campaign_send_id:
        outcome = Outcome.RELEASED if release else Outcome.CANCELLED
        record_outcome(outcome, texts=[message], because=because, checks=checks, now=now)


def _attempt(message: Message) -> str:
    """One request to the provider for a text this worker holds in ``sending``. No transaction is
    open here: a slow provider never holds a database lock."""
    backend = None
    try:
        backend = get_backend()  # raises when not configured (no API key): no text can go until it is
        external_id = backend.send(
            from_number=message.from_number,
            to_number=message.to_number,
            body=message.body,
            keep_out_of_inbox=message.kind == Message.Kind.CAMPAIGN,
        )
    except SMSSendError as error:
        return _after_failure(message, error, backend=backend)
    _record_sent(message, external_id)
    return "sent"


def _after_failure(message: Message, error: SMSSendError, *, backend) -> str:
    now = timezone.now()
    if error.maybe_sent:
        since = message.claimed_at - dt.timedelta(minutes=1)
        try:
            found = backend.find_sent(
                from_number=message.from_number,
                to_number=message.to_number,
                body=message.body,
                since=since,
                exclude_ids=_known_ids(message, since=since),
            )
        except SMSSendError as lookup_error:
            _finish(
                message,
                Message.Status.UNKNOWN,
                error=f"{error}; then the provider could not say whether it was sent: {lookup_error}",
                now=now,
                code=lookup_error.code or error.code,
            )
            return "unknown"
        if found is not None:
            _record_sent(message, found)
            return "sent"
    if error.account_level:
        _hold_for(message, error, now=now)
        return "held"
    if error.retryable and message.attempts < settings.SMS_MAX_ATTEMPTS:
        backoff = min(300.0, 5 * 2 ** (message.attempts - 1)) * random.uniform(0.5, 1.5)
        delay = max(backoff, error.retry_after or 0)
        if message.campaign_send_id and _past_its_slot(message, now + dt.timedelta(seconds=delay)):
            # Waiting as long as OpenPhone asks would send it late: book it again instead.
            with transaction.atomic():
                _cancel(message, reason=f"{error}, and a retry would be late", now=now, release=True)
            return "released"
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.QUEUED,
            status_changed_at=now,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            enqueued_at=None,
            error=str(error),
            error_code=error.code,
        )
        return "retrying"
    _finish(message, Message.Status.FAILED, error=str(error), now=now, code=error.code)
    return "failed"


def _past_its_slot(message: Message, moment: dt.datetime) -> bool:
    slot = CampaignSend.objects.filter(pk=message.campaign_send_id).values_list("scheduled_for", flat=True).first()
    return slot is not None and moment > slot + dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)


def _known_ids(message: Message, *, since: dt.datetime) -> frozenset[str]:
    """Provider ids of our other texts to the same person since ``since``: none of them is this one."""
    return frozenset(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            to_number=message.to_number,
            created_at__gte=since - dt.timedelta(days=1),
        )
        .exclude(pk=message.pk)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )


# --- Holding the line -----------------------------------------------------------------------


def current_hold() -> OutboxHold | None:
    return OutboxHold.objects.filter(released_at__isnull=True).first()


@transaction.atomic
def _hold_for(message: Message, error: SMSSendError, *, now: dt.datetime) -> None:
    """The text goes back to the outbox untouched (this attempt does not count against it) and
    the line stops: the first text to meet the refusal opens the hold, the rest join it."""
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED,
        status_changed_at=now,
        next_attempt_at=now,
        enqueued_at=None,
        attempts=max(0, message.attempts - 1),
        error=str(error),
        error_code=error.code,
    )
    if current_hold() is None:
        try:
            with transaction.atomic():
                OutboxHold.objects.create(
                    cause=error.account_level, code=error.code, reason=str(error), started_at=now, message=message
                )
        except IntegrityError:
            return  # another worker opened it at the same moment
        logger.error("Sending held (%s): %s", AccountRefusal(error.account_level).label, error)


@transaction.atomic
def release_hold(*, user) -> int:
    """A person fixed the account and resumes: the held texts go at the next tick. Returns how
    many texts were waiting."""
    now = timezone.now()
    released = OutboxHold.objects.filter(released_at__isnull=True).update(released_at=now, released_by=user)
    return due_texts(now=now).count() if released else 0


@transaction.atomic
def _record_sent(message: Message, external_id: str) -> None:
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENT, status_changed_at=now, sent_at=now, external_id=external_id, error=""
    )
    if message.campaign_send_id:
        record_outcome(Outcome.SENT, texts=[message], now=now)


@transaction.atomic
def _finish(message: Message, status: str, *, error: str, now: dt.datetime, code: str = "") -> None:
    """A text that ends without being sent (failed) or with an outcome nobody knows (unknown: its
    member stays booked, for a person)."""
    Message.objects.filter(pk=message.pk).update(status=status, status_changed_at=now, error=error, error_code=code)
    if message.campaign_send_id and status == Message.Status.FAILED:
        message.error = error
        record_outcome(Outcome.FAILED, texts=[message], now=now)


def record_undelivered(message: Message, *, error: str, code: str) -> None:
    """OpenPhone took the text but the carrier refused it (``message.failed``): failed, with the
    carrier's code, and the campaign member shows why."""
    _finish(message, Message.Status.FAILED, error=error, now=timezone.now(), code=code)


def cancel_waiting_texts(texts: QuerySet[Message], *, because: Reason, now: dt.datetime, error: str = "") -> int:
    """Texts waiting in the outbox (for their slot or a retry) that must never go: cancelled, saying
    why (``error``, else "Not sent: " and the reason); the members of campaign texts among them with them."""
    texts = texts.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED)
    campaign_texts = list(texts.exclude(campaign_send=None).only("pk", "campaign_id", "contact_id", "campaign_send_id"))
    cancelled = texts.update(
        status=Message.Status.CANCELLED,
        status_changed_at=now,
        enqueued_at=None,
        error=error or f"Not sent: {because.label}",
    )
    if campaign_texts:
        record_outcome(Outcome.CANCELLED, texts=campaign_texts, because=because, now=now)
    return cancelled


# --- Interrupted attempts -------------------------------------------------------------------


def recover_interrupted(*, now: dt.datetime | None = None) -> int:
    """Texts left ``sending`` by a worker that died: ask the provider, then settle each one."""
    now = now or timezone.now()
    stuck_before = now - dt.timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS)
    recovered = 0
    backend = None
    for message_id, claimed_at in Message.objects.filter(
        status=Message.Status.SENDING, claimed_at__lt=stuck_before
    ).values_list("pk", "claimed_at")[:BATCH_SIZE]:
        # Take it with a compare-and-set on the attempt's start, so one recoverer settles it.
        if not Message.objects.filter(pk=message_id, status=Message.Status.SENDING, claimed_at=claimed_at).update(
            claimed_at=now
        ):
            continue
        message = Message.objects.get(pk=message_id)
        backend = backend or get_backend()
        interrupted = SMSSendError("The attempt was interrupted (worker stopped)", retryable=True, maybe_sent=True)
        message.claimed_at = claimed_at
        _after_failure(message, interrupted, backend=backend)
        recovered += 1
    return recovered


# --- Writing texts --------------------------------------------------------------------------


def queue_text(*, contact: Contact, body: str, kind: str, sent_by=None, from_number: str = "") -> Message:
    """Write a one-to-one or automatic text into the outbox and hand it to a worker at once."""
    now = timezone.now()
    from_number = from_number or settings.OPENPHONE_FROM_NUMBER
    if not from_number:
        raise CannotText("No sending number: set OPENPHONE_FROM_NUMBER.")
    if refusal := compliance.conversation_refusal(contact, kind):
        raise CannotText(f"{contact.phone} cannot be texted: {refusal}.")
    message = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        body=body,
        segments=sms_cost(body).segments,
        from_number=from_number,
        to_number=contact.phone,
        contact=contact,
        status=Message.Status.QUEUED,
        status_changed_at=now,
        created_at=now,
        next_attempt_at=now,
        enqueued_at=now,
        sent_by=sent_by,
    )
    # Stored is sent: if the broker does not take it now, the dispatch tick hands it over later.
    transaction.on_commit(lambda: hand_to_worker("messaging.tasks.deliver_messages", [message.pk]))
    return message
