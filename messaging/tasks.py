import logging

from celery import shared_task
from django.utils import timezone

from attackacrack.celery import hand_to_worker
from messaging import catch_up, outbox, quiet, services, webhook_processing
from messaging.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def dispatch_outbox() -> None:
    """Beat's tick (every 5 s): hand due texts to workers in batches, settle interrupted ones."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="dispatcher", defaults={"seen_at": now})
    outbox.dispatch(now=now)
    if quiet.should_start_for_silence(now=now):
        # Webhooks went quiet and nothing has caught up since: campaign texts to the people a
        # catch-up covers wait until one has.
        hand_to_worker(catch_up_messages, "overdue")


@shared_task(ignore_result=True)
def catch_up_messages(trigger: str = "hourly") -> None:
    """Beat's hourly catch-up from OpenPhone's history (also run for a silence, a morning, staff)."""
    catch_up.run_catch_up(trigger=trigger)


def _each(ids: list[int], work) -> None:
    # One item's failure never holds up the rest of the batch; the item stays in the database
    # in whatever state it has, and a tick or sweep picks it up again.
    for item_id in ids:
        try:
            work(item_id)
        except Exception:
            logger.exception("%s(%s) failed", work.__name__, item_id)


@shared_task(ignore_result=True)
def deliver_messages(message_ids: list[int]) -> None:
    _each(message_ids, services.deliver)


@shared_task(ignore_result=True)
def process_webhook_events(event_ids: list[int]) -> None:
    """Process stored webhook events. Retries are the database's (each event's next_attempt_at,
    handed over again by the sweep), not the broker's: a task lost with its retry loses nothing."""
    _each(event_ids, webhook_processing.process_event)


@shared_task(ignore_result=True)
def hand_over_webhook_events() -> None:
    """Beat's sweep (every 15 s): events stored but not processed in time go to a worker again."""
    webhook_processing.hand_over_due_events()
