from django.core.management.base import BaseCommand

from contacts.models import ZipCode
from contacts.timezones import load_zip_codes


class Command(BaseCommand):
    help = "Refill the ZIP code → state and time zone table from the installed `zipcodes` data set."

    def handle(self, *args, **options) -> None:
        count = load_zip_codes(ZipCode)
        self.stdout.write(f"Loaded {count:,} ZIP codes.")
