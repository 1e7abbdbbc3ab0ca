"""No reply lost when webhooks fail: catching up from OpenPhone's own message history.

Every inbound text reaches us by webhook, and a webhook can be lost (our server down, the URL or
the signing key changed, OpenPhone giving up its retries). A catch-up asks OpenPhone
(``GET /v1/messages``, per sending number and contact, every page) for the texts of every
conversation that could have a reply we have not heard: the contacts texted in the last
CATCH_UP_REPLY_DAYS, and those who texted us in the window. What we do not have goes through the
same processing as a webhook (a STOP opts out and cancels what is pending; a reply is attributed),
and nothing is stored twice: messages are keyed by OpenPhone's id, whichever way they came first.

While the webhooks are quiet, campaign texts to the people a catch-up covers wait for one
(``messaging.quiet``).
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from campaigns.calendar import BusinessCalendar
from contacts.models import Contact
from contacts.phones import normalize_phone
from messaging import webhook_processing
from messaging.backends import get_backend
from messaging.backends.base import HistoryRecord, SMSSendError
from messaging.models import CatchUp, Message

logger = logging.getLogger(__name__)

# A catch-up still "running" after this long died with its worker: the next one may start.
ABANDONED_AFTER = dt.timedelta(minutes=30)


def morning_catch_up_due(*, now: dt.datetime) -> bool:
    """Today is a business day still to be booked and no catch-up has started today: the campaign
    clock runs one before its first booking of the day (which may come before the window opens)."""
    calendar = BusinessCalendar.from_settings()
    today = calendar.local_date(now)
    window = calendar.window(today)
    if window is None or now >= window.closes:
        return False
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=calendar.zone)
    return not CatchUp.objects.filter(started_at__gte=midnight).exists()


def conversations(*, covers_from: dt.datetime, now: dt.datetime) -> list[tuple[str, str]]:
    """(sending number, contact's number) of every conversation that could hold a text we missed."""
    texted = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, created_at__gte=now - dt.timedelta(days=settings.CATCH_UP_REPLY_DAYS)
    ).filter(Q(sent_at__isnull=False) | Q(status=Message.Status.UNKNOWN))
    heard = Message.objects.filter(direction=Message.Direction.INBOUND, created_at__gte=covers_from)
    pairs = set(texted.values_list("from_number", "to_number").distinct())
    pairs |= set(heard.values_list("to_number", "from_number").distinct())
    return sorted(pairs)


def _covers_from(since: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """From the start of the last successful catch-up (a little before, for clocks that disagree),
    never further back than CATCH_UP_MAX_DAYS."""
    earliest = now - dt.timedelta(days=settings.CATCH_UP_MAX_DAYS)
    if since is None:
        last = CatchUp.objects.filter(status=CatchUp.Status.SUCCEEDED).aggregate(at=Max("started_at"))["at"]
        since = last - dt.timedelta(minutes=5) if last else earliest
    return min(max(since, earliest), now)


def run_catch_up(*, trigger: str, since: dt.datetime | None = None, now: dt.datetime | None = None) -> CatchUp | None:
    """Ask OpenPhone for what the webhooks should have told us since ``since`` (default: since the
    last successful catch-up, at most CATCH_UP_MAX_DAYS) and apply what we do not have. Returns
    the record of the run, or None when another catch-up is running."""
    now = now or timezone.now()
    CatchUp.objects.filter(status=CatchUp.Status.RUNNING, started_at__lt=now - ABANDONED_AFTER).update(
        status=CatchUp.Status.FAILED, finished_at=now, error="Abandoned: its worker stopped before it finished"
    )
    try:
        with transaction.atomic():
            run = CatchUp.objects.create(trigger=trigger, started_at=now, covers_from=_covers_from(since, now))
    except IntegrityError:
        return None  # one is running: it covers this moment too
    backend = None
    try:
        backend = get_backend()
        for from_number, participant in conversations(covers_from=run.covers_from, now=now):
            records = backend.message_history(from_number=from_number, participant=participant, since=run.covers_from)
            run.conversations += 1
            for record in records:
                _apply(run, record, now=now)
    except SMSSendError as error:
        run.status, run.error = CatchUp.Status.FAILED, str(error)[:2000]
        logger.error("Catch-up from OpenPhone failed: %s", error)
    except Exception as error:
        run.status, run.error = CatchUp.Status.FAILED, f"{type(error).__name__}: {error}"[:2000]
        logger.exception("Catch-up from OpenPhone failed")
    else:
        run.status = CatchUp.Status.SUCCEEDED
    run.requests = getattr(backend, "requests_made", 0)
    run.finished_at = timezone.now()
    run.save()
    return run


def _apply(run: CatchUp, record: HistoryRecord, *, now: dt.datetime) -> None:
    """One text from the history: stored and acted on if we did not have it, as its webhook would have."""
    if record.direction == "incoming":
        if Message.objects.filter(external_id=record.external_id).exists():
            return
        phone = normalize_phone(record.from_number)
        contact = Contact.objects.filter(phone=phone).first() if phone else None
        already_out = contact is not None and contact.is_opted_out
        pending = contact.messages.filter(status=Message.Status.QUEUED).count() if contact is not None else 0
        try:
            with transaction.atomic():
                webhook_processing.apply_message_event("message.received", record, received_at=now)
        except IntegrityError:
            return  # its webhook stored it a moment ago
        run.replies_found += 1
        message = Message.objects.select_related("contact").get(external_id=record.external_id)
        if message.contact.is_opted_out and not already_out:
            _report_missed_opt_out(run, message, cancelled=pending)
        return
    # OpenPhone's message statuses: queued, sent, delivered, undelivered.
    event_type = {"delivered": "message.delivered", "undelivered": "message.failed"}.get(record.status)
    # A text sent from OpenPhone itself, not by this system, has no outgoing message here.
    ours = Message.objects.filter(external_id=record.external_id, direction=Message.Direction.OUTBOUND)
    if event_type and ours.exclude(status__in=[Message.Status.DELIVERED, Message.Status.FAILED]).exists():
        webhook_processing.apply_message_event(event_type, record, received_at=now)
        run.reports_found += 1


def _report_missed_opt_out(run: CatchUp, message: Message, *, cancelled: int) -> None:
    """Loudly: who, when they wrote, what was cancelled, and what reached them in between."""
    texted_after = Message.objects.filter(
        contact=message.contact,
        direction=Message.Direction.OUTBOUND,
        sent_at__gt=message.created_at,
        status__in=[Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNKNOWN],
    ).exclude(kind__in=[Message.Kind.OPT_OUT_CONFIRMATION, Message.Kind.HELP_REPLY])
    report = {
        "contact_id": message.contact_id,
        "contact": str(message.contact),
        "wrote": message.body[:60],
        "written_at": message.created_at.isoformat(),
        "cancelled": cancelled,
        "texted_after": texted_after.count(),
    }
    run.missed_opt_outs = [*run.missed_opt_outs, report]
    logger.error("Catch-up: %s", describe_missed_opt_out(report))


def describe_missed_opt_out(report: dict) -> str:
    written_at = timezone.localtime(dt.datetime.fromisoformat(report["written_at"]))
    return (
        f"An opt-out the webhooks missed: {report['contact']} wrote {report['wrote']!r} at "
        f"{written_at:%Y-%m-%d %H:%M}. They are opted out now; {report['cancelled']} pending text(s) were "
        f"cancelled, and {report['texted_after']} text(s) had reached them after they wrote."
    )
