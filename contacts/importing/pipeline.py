"""The import driver: a file from any entry point (the API, the pages, the admin, ``manage.py
import_contacts``, the Celery task) is inspected, staged and merged all or nothing, and its
ContactImport record tells what happened. The steps live beside it in this package."""

import logging
import time
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from attackacrack.errors import ApplicationError
from campaigns.audience import add_members, require_open
from campaigns.errors import CampaignClosed
from campaigns.models import Campaign, CampaignContact
from contacts.importing import loader
from contacts.importing.columns import ColumnMapping, map_columns
from contacts.importing.entries import EntryBuilder
from contacts.importing.readers import BadFile, CsvRows, read_csv
from contacts.models import ContactImport
from contacts.timezones import assign_time_zones

logger = logging.getLogger(__name__)

# progress(rows_read, bytes_read, bytes_total)
Progress = Callable[[int, int, int], None]
PROGRESS_EVERY = 100_000


class ImportFailed(Exception):
    """The import stopped; nothing it read was stored. ``contact_import`` records why."""

    def __init__(self, contact_import: ContactImport) -> None:
        super().__init__(contact_import.error)
        self.contact_import = contact_import


class ImportRefused(ImportFailed, ApplicationError):
    """The import stopped on a file it cannot read (BadFile, found past the header), or on a
    campaign that closed meanwhile: refused as BadFile is, with the failed record kept."""

    def __init__(self, contact_import: ContactImport, cause: ApplicationError) -> None:
        super().__init__(contact_import)
        self.status, self.code, self.loc = cause.status, cause.code, cause.loc


def inspect_file(*, file: BinaryIO, format: str | None = None) -> tuple[CsvRows, ColumnMapping]:
    """Read the header and first row, or raise BadFile: done before anything is stored."""
    rows = read_csv(file)
    return rows, map_columns(rows.header, format=format)


def import_contacts(
    *,
    file: BinaryIO,
    file_name: str,
    created_by: AbstractBaseUser | None = None,
    campaign: Campaign | None = None,
    format: str | None = None,
    progress: Progress | None = None,
) -> ContactImport:
    """Import a contact CSV or PropertyRadar export, all or nothing; returns the completed record.

    Raises BadFile or CampaignClosed (nothing stored) when the file cannot be read at all or the
    campaign takes no members, and ImportFailed (only the failed ContactImport stored) when it
    breaks part-way.
    """
    if campaign is not None:
        require_open(campaign)
    rows, mapping = inspect_file(file=file, format=format)
    contact_import = ContactImport.objects.create(
        file_name=_shown_name(file_name),
        file_size=_size(file),
        created_by=created_by,
        campaign=campaign,
        status=ContactImport.Status.RUNNING,
        **_detected(rows, mapping),
    )
    _run(contact_import, file, rows, mapping, progress)
    return contact_import


def queue_import(
    *,
    file: File,
    file_name: str,
    created_by: AbstractBaseUser | None = None,
    campaign: Campaign | None = None,
    format: str | None = None,
) -> ContactImport:
    """Check the header now, keep the file, and import it in a worker; returns the queued record."""
    from contacts.tasks import run_queued_import

    if campaign is not None:
        require_open(campaign)
    rows, mapping = inspect_file(file=file, format=format)
    contact_import = ContactImport(
        file_name=_shown_name(file_name),
        file_size=_size(file),
        created_by=created_by,
        campaign=campaign,
        status=ContactImport.Status.QUEUED,
        **_detected(rows, mapping),
    )
    file.seek(0)
    contact_import.stored_file.save(f"{timezone.now():%Y%m%d%H%M%S}.csv", file, save=False)
    contact_import.save()
    transaction.on_commit(lambda: run_queued_import.delay(contact_import.id))
    return contact_import


def import_upload(
    *,
    file: File,
    file_name: str,
    created_by: AbstractBaseUser | None = None,
    campaign: Campaign | None = None,
    format: str | None = None,
) -> ContactImport:
    """An uploaded file from any entry point: imported now when small, by a worker when large
    (``IMPORT_SYNC_MAX_BYTES``); the record's status says which."""
    arguments = {"file": file, "file_name": file_name, "created_by": created_by, "campaign": campaign, "format": format}
    if file.size > settings.IMPORT_SYNC_MAX_BYTES:
        return queue_import(**arguments)
    return import_contacts(**arguments)


def run_queued_import(*, contact_import_id: int) -> ContactImport:
    """Import a queued file (the Celery task's body). A record already run is left alone."""
    claimed = ContactImport.objects.filter(pk=contact_import_id, status=ContactImport.Status.QUEUED).update(
        status=ContactImport.Status.RUNNING
    )
    contact_import = ContactImport.objects.get(pk=contact_import_id)
    if not claimed:
        return contact_import
    # The file holds homeowners' names and numbers: it is deleted once read, whatever happened.
    try:
        with contact_import.stored_file.open("rb") as file:
            try:
                rows, mapping = inspect_file(file=file, format=contact_import.format or None)
            except BadFile as error:
                _fail(contact_import, str(error))
                raise ImportRefused(contact_import, error) from error
            _run(contact_import, file, rows, mapping, progress=None)
    finally:
        contact_import.stored_file.delete(save=False)
        ContactImport.objects.filter(pk=contact_import.pk).update(stored_file="")
    return contact_import


def _shown_name(file_name: str) -> str:
    """The upload's name as the report shows it, cut to the 255 characters ContactImport.file_name
    holds: it tells staff which file this was and is none of the file's data."""
    return file_name[:255]


def _size(file: BinaryIO) -> int:
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        size = file.seek(0, 2)
        file.seek(position)
    return size


def _detected(rows: CsvRows, mapping: ColumnMapping) -> dict:
    return {
        "format": mapping.format,
        "encoding": rows.encoding,
        "delimiter": rows.delimiter,
        "column_mapping": mapping.for_report(),
    }


def _run(
    contact_import: ContactImport,
    file: BinaryIO,
    rows: CsvRows,
    mapping: ColumnMapping,
    progress: Progress | None,
) -> None:
    total_bytes = contact_import.file_size
    started = time.perf_counter()
    try:
        with loader.staging_tables():
            rows_read, footer = _stage(contact_import, file, rows, mapping, progress, total_bytes)
            staged = time.perf_counter()
            with transaction.atomic():
                counts = loader.merge(import_id=contact_import.id, source=mapping.format)
                assign_time_zones()
                added = 0
                if contact_import.campaign_id:
                    added = add_members(
                        campaign=contact_import.campaign,
                        contact_ids_sql=loader.STAGED_CONTACT_IDS,
                        added_via=CampaignContact.AddedVia.UPLOAD,
                    )
                for field, value in vars(counts).items():
                    setattr(contact_import, field, value)
                contact_import.rows_read = rows_read
                contact_import.footer_rows_skipped = footer
                contact_import.added_to_campaign = added
                contact_import.status = ContactImport.Status.COMPLETED
                contact_import.finished_at = timezone.now()
                contact_import.save()
                merged = time.perf_counter()
            committed = time.perf_counter()  # the commit runs whatever checks are still deferred
    except (BadFile, CampaignClosed) as error:
        _fail(contact_import, str(error))
        raise ImportRefused(contact_import, error) from error
    except Exception as error:
        logger.exception("Import %s failed", contact_import.id)
        _fail(contact_import, f"The import stopped and stored nothing: {type(error).__name__}: {error}")
        raise ImportFailed(contact_import) from error
    seconds = {"staging": staged - started, "merge": merged - staged, "commit": committed - merged}
    logger.info(
        "Import %s completed: %s rows in %.2f s (staging %.2f s, merge %.2f s, commit %.2f s)",
        contact_import.id, rows_read, committed - started, *seconds.values(),
        extra={"import_seconds": seconds},
    )  # fmt: skip
    if progress:
        progress(rows_read, total_bytes, total_bytes)


def _stage(
    contact_import: ContactImport,
    file: BinaryIO,
    rows: CsvRows,
    mapping: ColumnMapping,
    progress: Progress | None,
    total_bytes: int,
) -> tuple[int, int]:
    builder = EntryBuilder(mapping, rows.delimiter)
    stager = loader.Stager()
    width = len(rows.header)
    rows_read = footer = 0
    pending = None
    try:
        for row in rows.rows:
            if pending is not None:
                stager.add(builder.build(*pending))
            pending = row
            rows_read += 1
            if rows_read % PROGRESS_EVERY == 0:
                stager.pause()
                ContactImport.objects.filter(pk=contact_import.pk).update(rows_read=rows_read)
                if progress:
                    progress(rows_read, file.tell(), total_bytes)
        if pending is not None and _is_licence_footer(pending, width):
            footer = 1
        elif pending is not None:
            stager.add(builder.build(*pending))
        stager.pause()
    except BaseException:
        stager.abort()
        raise
    return rows_read, footer


def _is_licence_footer(record: tuple, width: int) -> bool:
    """PropertyRadar ends its exports with a one-cell licence sentence that names it: the last line,
    not data. Any other last line of one cell is a row short of cells, rejected as such."""
    return len(record) == 2 and len(record[1]) == 1 < width and "propertyradar" in record[1][0].lower()


def _fail(contact_import: ContactImport, reason: str) -> None:
    contact_import.status = ContactImport.Status.FAILED
    contact_import.error = reason
    contact_import.finished_at = timezone.now()
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=contact_import.status, error=reason, finished_at=contact_import.finished_at
    )
