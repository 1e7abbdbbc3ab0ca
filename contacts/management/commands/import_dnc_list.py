import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contacts import dnc
from contacts.models import DoNotCallList


class Command(BaseCommand):
    help = (
        "Load a Do-Not-Call list's flat file (plain or zipped; a full list or a change list) and say how many "
        "numbers it held and how many contacts it matches."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--list", required=True, choices=DoNotCallList.values, dest="list_name")
        parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat, help="The copy's date, YYYY-MM-DD")

    def handle(self, *args, file: str, list_name: str, as_of: dt.date, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {file}.")
        try:
            with path.open("rb") as handle:
                load = dnc.load_list(handle, list_name=list_name, as_of=as_of, file_name=path.name)
        except dnc.DncFileError as error:
            raise CommandError(f"Nothing loaded: {error}") from error
        self.stdout.write(dnc.summary(load))
