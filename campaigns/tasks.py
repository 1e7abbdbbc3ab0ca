from celery import shared_task
from django.utils import timezone

from campaigns import booking


@shared_task(ignore_result=True)
def run_campaigns() -> None:
    """Beat's tick (every minute): activate due campaigns and book what each may send today, the
    first booking of a business day after a catch-up from OpenPhone (replies sent overnight, a
    STOP the webhooks lost, are known before anyone is texted)."""
    from messaging import catch_up

    now = timezone.now()
    if catch_up.morning_catch_up_due(now=now):
        catch_up.run_catch_up(trigger="morning", now=now)
    booking.run_campaigns(now=now)
