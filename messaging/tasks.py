import logging

from celery import shared_task
from django.utils import timezone

from messaging import catch_up, outbox, webhook_processing
from messaging.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def dispatch_outbox() -> None:
    """Beat's tick (every 5 s): hand due texts to workers in batches, settle interrupted ones."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="dispatcher", defaults={"seen_at": now})
    outbox.dispatch(now=now)
    if catch_up.should_start_for_silence(now=now):
        # Webhooks went quiet and nothing has caught up since: campaign texts to the people a
        # catch-up covers wait until one has.
        catch_up_messages.delay("overdue")


@shared_task(ignore_result=True)
def catch_up_messages(trigger: str = "hourly") -> None:
    """Beat's hourly catch-up from OpenPhone's history (also run for a silence, a morning, staff)."""
    catch_up.run_catch_up(trigger=trigger)


def _each(ids: list[int], deliver) -> None:
    # One recipient's failure never holds up the rest of the batch; the text stays in the
    # outbox in whatever state the database has, and the tick picks it up again.
    for item_id in ids:
        try:
            deliver(item_id)
        except Exception:
            logger.exception("Delivering %s %s failed", deliver.__name__, item_id)


@shared_task(ignore_result=True)
def deliver_campaign_sends(send_ids: list[int]) -> None:
    _each(send_ids, outbox.deliver_campaign_send)


@shared_task(ignore_result=True)
def deliver_messages(message_ids: list[int]) -> None:
    _each(message_ids, outbox.deliver_message)


@shared_task(ignore_result=True, bind=True, max_retries=5)
def process_webhook_event(self, event_id: int) -> None:
    """Process one stored webhook; failures retry with backoff, then stay visible on the event."""
    try:
        webhook_processing.process_event(event_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            logger.exception("Webhook event %s failed for good", event_id)
            return
        raise self.retry(exc=error, countdown=min(600, 5 * 2**self.request.retries)) from error
