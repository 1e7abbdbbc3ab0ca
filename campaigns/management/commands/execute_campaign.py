from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime

from attackacrack.errors import ApplicationError
from campaigns import booking
from campaigns.models import Campaign


class Command(BaseCommand):
    help = (
        "Book today's sends for a campaign within the daily limit and business hours, and queue the "
        "rest for later business days (what the clock does every minute). --all runs the clock's tick."
    )

    def add_arguments(self, parser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("campaign", nargs="?", type=int, help="Campaign id")
        target.add_argument("--all", action="store_true", help="Activate due campaigns and run every active one")

    def handle(self, *args, campaign: int | None, all: bool, **options) -> None:
        if all:
            results = booking.run_campaigns()
            if not results:
                self.stdout.write("No active campaign.")
        else:
            try:
                results = [booking.run_campaign(campaign_id=campaign)]
            except Campaign.DoesNotExist as error:
                raise CommandError(f"No campaign has id {campaign}.") from error
            except ApplicationError as error:
                raise CommandError(str(error)) from error
        for result in results:
            name = Campaign.objects.values_list("name", flat=True).get(pk=result.campaign_id)
            next_send = (
                f", next send {localtime(result.next_send_at):%a %Y-%m-%d %H:%M %Z}" if result.next_send_at else ""
            )
            self.stdout.write(
                f"{name} (#{result.campaign_id}, {result.status}): booked {result.sent} for today "
                f"({result.booked_today} in all today), {result.queued} queued for later days, "
                f"{result.ineligible} ineligible, {result.flagged} flagged for review{next_send}."
            )
