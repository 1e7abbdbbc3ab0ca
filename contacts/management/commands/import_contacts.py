import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from attackacrack.errors import ApplicationError
from campaigns.models import Campaign
from contacts.importing import pipeline
from contacts.models import ContactImport

REPORT_LINES = [
    ("Rows read", "rows_read"),
    ("  footer skipped", "footer_rows_skipped"),
    ("Entries read", "entries_read"),
    ("  contacts created", "contacts_created"),
    ("  contacts updated", "contacts_updated"),
    ("  contacts unchanged", "contacts_unchanged"),
    ("  duplicate phones folded", "duplicates_folded"),
    ("  rejected", "entries_rejected"),
    ("Properties created", "properties_created"),
    ("Properties updated", "properties_updated"),
    ("Properties unchanged", "properties_unchanged"),
]


class Command(BaseCommand):
    help = "Import a contact CSV or PropertyRadar export, optionally into a campaign's audience."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--campaign", type=int, help="Add the imported contacts to this campaign")
        parser.add_argument("--format", choices=ContactImport.Format.values, help="Skip format detection")
        parser.add_argument("--user", help="Record the import as done by this user")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs)")

    def handle(self, *args, file: str, campaign: int | None, format: str | None, user: str | None, **options):
        target = None if campaign is None else Campaign.objects.filter(pk=campaign).first()
        if campaign is not None and target is None:
            raise CommandError(f"No campaign with id {campaign}.")
        created_by = None if user is None else get_user_model().objects.filter(username=user).first()
        if user is not None and created_by is None:
            raise CommandError(f"No user named {user!r}.")
        self.started = time.monotonic()
        show_progress = not options["no_progress"] and sys.stderr.isatty()
        try:
            with open(file, "rb") as stream:
                contact_import = pipeline.import_contacts(
                    file=stream,
                    file_name=file.rsplit("/", 1)[-1],
                    created_by=created_by,
                    campaign=target,
                    format=format,
                    progress=self._progress if show_progress else None,
                )
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {file}") from error
        except pipeline.ImportFailed as error:
            raise CommandError(f"Import {error.contact_import.id} failed: {error}") from error
        except ApplicationError as error:
            raise CommandError(str(error)) from error
        if show_progress:
            self.stderr.write("")
        self._report(contact_import)

    def _progress(self, rows: int, done: int, total: int) -> None:
        share = done / total if total else 1
        bar = "#" * int(share * 30)
        rate = rows / max(time.monotonic() - self.started, 1e-6)
        self.stderr.write(f"\r[{bar:<30}] {share:4.0%}  {rows:,} rows  {rate:,.0f} rows/s", ending="")
        self.stderr.flush()

    def _report(self, contact_import: ContactImport) -> None:
        elapsed = time.monotonic() - self.started
        self.stdout.write(f"Import {contact_import.id} of {contact_import.file_name}: {contact_import.status}")
        self.stdout.write(f"Format: {contact_import.get_format_display()} ({contact_import.encoding})")
        for field, header in contact_import.column_mapping.items():
            self.stdout.write(f"  {field:<26} <- {header}")
        for label, field in REPORT_LINES:
            self.stdout.write(f"{label:<28} {getattr(contact_import, field):>10,}")
        if contact_import.campaign_id:
            self.stdout.write(f"{'Added to campaign':<28} {contact_import.added_to_campaign:>10,}")
        self.stdout.write(f"Took {elapsed:.1f} s")
        if contact_import.entries_rejected:
            self.stdout.write("Rejected rows:")
            for rejection in contact_import.rejections.all()[:20]:
                self.stdout.write(f"  line {rejection.line_number}: {rejection.reason}")
            if contact_import.entries_rejected > 20:
                self.stdout.write(f"  ... and {contact_import.entries_rejected - 20:,} more (see the admin or the API)")
