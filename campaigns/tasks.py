from celery import shared_task

from campaigns import booking


@shared_task(ignore_result=True)
def run_campaigns() -> None:
    """Beat's tick (every minute): activate due campaigns and book what each may send today."""
    booking.run_campaigns()
