import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from messaging import catch_up
from messaging.models import CatchUp


def hours(value: str) -> float:
    parsed = float(value)  # argparse turns a ValueError into "invalid hours value"
    if not 0 < parsed <= settings.CATCH_UP_MAX_DAYS * 24:
        raise ValueError(value)
    return parsed


class Command(BaseCommand):
    help = (
        "Catch up from OpenPhone's own message history: store the replies, STOPs and delivery reports the "
        "webhooks missed, processed as their webhooks would have been."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            type=hours,
            metavar="HOURS",
            help=f"Look back this many hours (default: since the last successful catch-up, at most "
            f"{settings.CATCH_UP_MAX_DAYS} days)",
        )

    def handle(self, *args, since: float | None, **options) -> None:
        now = timezone.now()
        start = now - dt.timedelta(hours=since) if since else None
        run = catch_up.run_catch_up(trigger="command", since=start, now=now)
        if run is None:
            raise CommandError("A catch-up is already running; try again when it has finished.")
        self.stdout.write(
            f"Caught up from {timezone.localtime(run.covers_from):%Y-%m-%d %H:%M}: {run.conversations} "
            f"conversation(s), {run.requests} request(s) to OpenPhone, {run.replies_found} missed repl(ies), "
            f"{run.reports_found} missed delivery report(s)."
        )
        for missed in run.missed_opt_outs:
            self.stdout.write(self.style.ERROR(catch_up.describe_missed_opt_out(missed)))
        if run.status != CatchUp.Status.SUCCEEDED:
            raise CommandError(f"The catch-up failed: {run.error}")
