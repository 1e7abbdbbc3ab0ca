"""Webhooks gone quiet: the reads that tell whether OpenPhone's webhooks still reach us, and what
waits until a catch-up has covered their silence.

Webhooks have gone quiet when texts went out WEBHOOKS_QUIET_MINUTES ago and no event has arrived
since. While they are quiet and no catch-up has covered the silence, campaign texts to contacts a
catch-up would cover wait (the dispatch rule ``catch_up_current``): an outage never turns into
texting someone who wrote STOP. The catch-up itself is ``messaging.catch_up``.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from contacts.models import Contact
from messaging.models import CatchUp, Message, WebhookEvent

# While webhooks are quiet, a campaign text to someone in conversation with us goes only this
# soon after a catch-up (the dispatch tick starts one when it is overdue): a STOP the webhooks
# lost can be missed for this long at most.
COVERED_FOR = dt.timedelta(minutes=15)
# A catch-up is started for an overdue silence at most this often, whatever the outcome.
OVERDUE_RETRY_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Silence:
    """Texts went out and no webhook event followed them."""

    first_unheard_text_at: dt.datetime  # the first text sent after the last event
    since: dt.datetime  # the last webhook event of any kind, or the first unheard text if none ever came


def webhooks_silence(*, now: dt.datetime) -> Silence | None:
    """The silence of the webhooks, if texts went out WEBHOOKS_QUIET_MINUTES ago and no event has
    arrived since (each text we send is followed by a delivery report when webhooks work). A
    backend that reports nothing by webhook (the console) is never quiet."""
    if not import_string(settings.SMS_BACKEND).reports_by_webhook:
        return None
    # Both read one row of an index: this runs for every campaign text the dispatcher takes.
    last_event_at = WebhookEvent.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    since = now - dt.timedelta(days=settings.CATCH_UP_REPLY_DAYS)
    if last_event_at is not None:
        since = max(since, last_event_at + dt.timedelta(microseconds=1))
    first_unheard = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND, sent_at__gte=since)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    if first_unheard is None or first_unheard > now - dt.timedelta(minutes=settings.WEBHOOKS_QUIET_MINUTES):
        return None
    return Silence(first_unheard_text_at=first_unheard, since=last_event_at or first_unheard)


def catch_up_overdue(*, now: dt.datetime) -> Silence | None:
    """The silence no catch-up has covered: quiet webhooks and no successful catch-up since the
    first unheard text (or none within the last COVERED_FOR while the silence goes on)."""
    silence = webhooks_silence(now=now)
    if silence is None:
        return None
    covered_since = max(silence.first_unheard_text_at, now - COVERED_FOR)
    if CatchUp.objects.filter(status=CatchUp.Status.SUCCEEDED, started_at__gte=covered_since).exists():
        return None
    return silence


def may_text_while_quiet(contact: Contact, *, now: dt.datetime) -> bool:
    """The dispatch rule ``catch_up_current`` for a campaign text to this contact: a catch-up would
    not ask about them (we texted them, or they us, within CATCH_UP_REPLY_DAYS) or is not overdue."""
    if catch_up_overdue(now=now) is None:
        return True
    recent = now - dt.timedelta(days=settings.CATCH_UP_REPLY_DAYS)
    return not contact.messages.written().filter(created_at__gte=recent).exists()


def should_start_for_silence(*, now: dt.datetime) -> bool:
    """The dispatch tick starts a catch-up for an overdue silence, but not more than every few minutes."""
    if catch_up_overdue(now=now) is None:
        return False
    return not CatchUp.objects.filter(started_at__gte=now - OVERDUE_RETRY_EVERY).exists()
