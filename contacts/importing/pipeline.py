"""The import driver: a file from any entry point (the API, the pages, the admin, ``manage.py
import_contacts``, the Celery task) is inspected, staged and merged all or nothing, and its
ContactImport record tells what happened. The steps live beside it in this package."""

import contextlib
import datetime as dt
import itertools
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from attackacrack.celery import hand_to_worker
from attackacrack.errors import ApplicationError
from campaigns.audience import add_members, require_open
from campaigns.errors import CampaignClosed
from campaigns.models import Campaign, CampaignContact
from contacts import lawful_basis
from contacts.importing import loader, staging
from contacts.importing.columns import ColumnMapping, map_columns
from contacts.importing.entries import EntryBuilder
from contacts.importing.readers import BadFile, CsvRows, read_csv
from contacts.models import Contact, ContactImport, ImportUploadChunk
from contacts.timezones import assign_time_zones

logger = logging.getLogger(__name__)

# progress(rows_read, bytes_read, bytes_total)
Progress = Callable[[int, int, int], None]
PROGRESS_EVERY = 100_000
# A kept upload is stored in pieces of this size, written a few at a time.
UPLOAD_CHUNK_BYTES = 1 << 20
UPLOAD_CHUNKS_PER_INSERT = 8
# How many contacts whose consent changed are announced at once (lawful_basis.changed).
CONSENT_BATCH = 10_000
# A running import's sign of life, every this many seconds (IMPORT_STALLED_MINUTES without one: dead).
HEARTBEAT_SECONDS = 60


class ImportFailed(Exception):
    """The import stopped; nothing it read was stored. ``contact_import`` records why."""

    def __init__(self, contact_import: ContactImport) -> None:
        super().__init__(contact_import.error)
        self.contact_import = contact_import


class Superseded(Exception):
    """This run's attempt is no longer the import's: the sweep gave up on it (it stopped showing
    progress) and failed or queued the import again. Its merge is rolled back."""


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
    breaks part-way or the sweep gave up on it meanwhile.
    """
    if campaign is not None:
        require_open(campaign)
    rows, mapping = inspect_file(file=file, format=format)
    contact_import = _new_record(
        file, file_name, created_by, campaign, rows, mapping,
        status=ContactImport.Status.RUNNING, attempts=1, progress_at=timezone.now(),
    )  # fmt: skip
    try:
        _run(contact_import, file, rows, mapping, progress)
    except Superseded:
        contact_import.refresh_from_db()  # failed by the sweep, which judged this run dead
        raise ImportFailed(contact_import) from None
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
    (``IMPORT_SYNC_MAX_BYTES``); the record's status says which.

    A large file has its header checked now and is kept in the database until its import has
    run, where every worker can read it (web and worker need not share a disk); the record
    returned is queued."""
    if file.size <= settings.IMPORT_SYNC_MAX_BYTES:
        return import_contacts(file=file, file_name=file_name, created_by=created_by, campaign=campaign, format=format)
    if campaign is not None:
        require_open(campaign)
    rows, mapping = inspect_file(file=file, format=format)
    with transaction.atomic():
        contact_import = _new_record(
            file, file_name, created_by, campaign, rows, mapping,
            status=ContactImport.Status.QUEUED, enqueued_at=timezone.now(),
        )  # fmt: skip
        file.seek(0)
        _keep_upload(contact_import, file)
        transaction.on_commit(lambda: hand_to_worker("contacts.tasks.run_queued_import", contact_import.id))
    return contact_import


def run_queued_import(*, contact_import_id: int) -> ContactImport:
    """Import a queued file (the Celery task's body). An import another run has claimed, or
    that has run, is left alone: handing the same import over twice is harmless."""
    claimed = ContactImport.objects.filter(pk=contact_import_id, status=ContactImport.Status.QUEUED).update(
        status=ContactImport.Status.RUNNING, attempts=F("attempts") + 1, progress_at=timezone.now()
    )
    contact_import = ContactImport.objects.get(pk=contact_import_id)
    if not claimed:
        return contact_import
    try:
        if not contact_import.upload_chunks.exists():
            _fail(contact_import, "Its upload is no longer kept. Import the file again.")
            return contact_import
        with _kept_upload(contact_import) as file:
            try:
                rows, mapping = inspect_file(file=file, format=contact_import.format or None)
            except BadFile as error:
                _fail(contact_import, str(error))
                raise ImportRefused(contact_import, error) from error
            _run(contact_import, file, rows, mapping, progress=None)
    except Superseded:
        pass  # the sweep gave this attempt up: the import and its upload are another attempt's
    finally:
        # The upload holds homeowners' names and numbers: it goes once its import has ended,
        # whichever attempt ended it. A process that dies here deletes nothing, and the sweep
        # runs the import again from it.
        ended = [ContactImport.Status.COMPLETED, ContactImport.Status.FAILED]
        ImportUploadChunk.objects.filter(contact_import=contact_import, contact_import__status__in=ended).delete()
    return contact_import


def hand_over_imports(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Beat's sweep (every minute). An import running with no sign of life for IMPORT_STALLED_MINUTES
    (see `_alive`) stopped with its process: queued again while its upload is kept and it has attempts left,
    else failed with the reason. A queued import no worker took within IMPORT_HANDOVER_SECONDS
    is handed over again. Returns how many of each."""
    now = now or timezone.now()
    stalled_before = now - dt.timedelta(minutes=settings.IMPORT_STALLED_MINUTES)
    outcome = {"requeued": 0, "failed": 0, "handed_over": 0}
    stalled = ContactImport.objects.filter(status=ContactImport.Status.RUNNING, progress_at__lt=stalled_before)
    for contact_import in stalled.order_by("id"):
        same_attempt = _this_attempt(contact_import)
        since = timezone.localtime(contact_import.progress_at).strftime("%Y-%m-%d %H:%M")
        kept = contact_import.upload_chunks.exists()
        if kept and contact_import.attempts < settings.IMPORT_MAX_ATTEMPTS:
            outcome["requeued"] += same_attempt.update(
                status=ContactImport.Status.QUEUED,
                enqueued_at=None,
                error=f"Attempt {contact_import.attempts} gave no sign of life after {since}; trying again.",
            )
            continue
        why = "its worker stopped" if kept else "the process importing it stopped"
        failed = same_attempt.update(
            status=ContactImport.Status.FAILED,
            finished_at=now,
            error=f"The import gave no sign of life after {since} ({why}) and stored nothing. "
            + ("It failed this way on every attempt. " if kept else "")
            + "Import the file again.",
        )
        if failed:
            ImportUploadChunk.objects.filter(contact_import=contact_import).delete()
        outcome["failed"] += failed
    stale = now - dt.timedelta(seconds=settings.IMPORT_HANDOVER_SECONDS)
    queued = ContactImport.objects.filter(status=ContactImport.Status.QUEUED).exclude(enqueued_at__gte=stale)
    for contact_import_id in queued.order_by("id").values_list("pk", flat=True):
        ContactImport.objects.filter(pk=contact_import_id).update(enqueued_at=now)
        if not hand_to_worker("contacts.tasks.run_queued_import", contact_import_id):
            break  # the broker is away: the next sweep tries again
        outcome["handed_over"] += 1
    return outcome


def _keep_upload(contact_import: ContactImport, file: BinaryIO) -> None:
    pieces = iter(lambda: file.read(UPLOAD_CHUNK_BYTES), b"")
    chunks = (ImportUploadChunk(contact_import=contact_import, position=n, data=data) for n, data in enumerate(pieces))
    while batch := list(itertools.islice(chunks, UPLOAD_CHUNKS_PER_INSERT)):
        ImportUploadChunk.objects.bulk_create(batch)


@contextlib.contextmanager
def _kept_upload(contact_import: ContactImport) -> Iterator[BinaryIO]:
    """The import's kept upload as a file on this machine's disk (it may be hundreds of MB)."""
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as file:
        pieces = ImportUploadChunk.objects.filter(contact_import=contact_import).order_by("position")
        for data in pieces.values_list("data", flat=True).iterator(chunk_size=UPLOAD_CHUNKS_PER_INSERT):
            file.write(data)
        file.seek(0)
        yield file


def _new_record(
    file: BinaryIO,
    file_name: str,
    created_by: AbstractBaseUser | None,
    campaign: Campaign | None,
    rows: CsvRows,
    mapping: ColumnMapping,
    **state: object,
) -> ContactImport:
    """The import's record, with what the file's inspection found and the state it starts in. The
    upload's name is cut to the 255 characters ContactImport.file_name holds: it tells staff which
    file this was and is none of the file's data."""
    return ContactImport.objects.create(
        file_name=file_name[:255],
        file_size=File(file).size,
        created_by=created_by,
        campaign=campaign,
        format=mapping.format,
        encoding=rows.encoding,
        delimiter=rows.delimiter,
        column_mapping=mapping.for_report(),
        header=rows.header,
        **state,
    )


def _run(
    contact_import: ContactImport,
    file: BinaryIO,
    rows: CsvRows,
    mapping: ColumnMapping,
    progress: Progress | None,
) -> None:
    started = time.perf_counter()
    try:
        with _alive(contact_import), staging.staging_tables():
            rows_read, footer = _stage(contact_import, file, rows, mapping, progress)
            staged = time.perf_counter()
            with transaction.atomic():
                merged_at = timezone.now()
                counts = loader.merge(import_id=contact_import.id, source=mapping.format, now=merged_at)
                _announce_consent_changes(merged_at)
                assign_time_zones()
                added = 0
                if contact_import.campaign_id:
                    added = add_members(
                        campaign=contact_import.campaign,
                        contact_ids_sql=loader.STAGED_CONTACT_IDS,
                        added_via=CampaignContact.AddedVia.UPLOAD,
                    )
                now = timezone.now()
                _record(
                    contact_import,
                    **vars(counts),
                    rows_read=rows_read,
                    footer_rows_skipped=footer,
                    added_to_campaign=added,
                    status=ContactImport.Status.COMPLETED,
                    finished_at=now,
                    progress_at=now,
                    error="",
                )
                merged = time.perf_counter()
            committed = time.perf_counter()  # the commit runs whatever checks are still deferred
    except Superseded:
        logger.warning("Import %s: attempt %s was given up meanwhile, its merge rolled back", contact_import.id,
                       contact_import.attempts)  # fmt: skip
        raise
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
        progress(rows_read, contact_import.file_size, contact_import.file_size)


def _announce_consent_changes(now: dt.datetime) -> None:
    """The contacts whose consent the merge set: members a rule kept out for the lack of it are
    judged again. In batches, as an id list a query can hold on every database."""
    with connection.cursor() as cursor:
        cursor.execute(loader.CONSENT_CHANGED_CONTACT_IDS)
        contact_ids = [contact_id for (contact_id,) in cursor.fetchall()]
    for start in range(0, len(contact_ids), CONSENT_BATCH):
        lawful_basis.changed.send(sender=Contact, contact_ids=contact_ids[start : start + CONSENT_BATCH], now=now)


def _stage(
    contact_import: ContactImport,
    file: BinaryIO,
    rows: CsvRows,
    mapping: ColumnMapping,
    progress: Progress | None,
) -> tuple[int, int]:
    builder = EntryBuilder(mapping, rows.delimiter)
    stager = staging.Stager()
    width = len(rows.header)
    pending = next(rows.rows)  # read_csv has made sure there is one
    rows_read, footer = 1, 0
    try:
        for row in rows.rows:
            stager.add(builder.build(*pending))
            pending = row
            rows_read += 1
            if rows_read % PROGRESS_EVERY == 0:
                stager.pause()
                ContactImport.objects.filter(pk=contact_import.pk).update(
                    rows_read=rows_read, progress_at=timezone.now()
                )
                if progress:
                    progress(rows_read, file.tell(), contact_import.file_size)
        if _is_licence_footer(pending, width):
            footer = 1
        else:
            stager.add(builder.build(*pending))
        stager.pause()
    except BaseException:
        stager.abort()
        raise
    return rows_read, footer


@contextlib.contextmanager
def _alive(contact_import: ContactImport) -> Iterator[None]:
    """While this run works on the import, a thread of its own notes every HEARTBEAT_SECONDS that
    it is alive (``progress_at``), on a connection of its own: a merge of a million rows, or one
    waiting for another import's table locks, says nothing for minutes, and the sweep must not
    take that for a process that died. When the process dies, so does the thread."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                _this_attempt(contact_import).update(progress_at=timezone.now())
        finally:
            connection.close()  # this thread's own

    heart = threading.Thread(target=beat, name=f"import-{contact_import.pk}-alive", daemon=True)
    heart.start()
    try:
        yield
    finally:
        stop.set()
        heart.join()


def _this_attempt(contact_import: ContactImport):
    """The import's row while this run's attempt is still the import's."""
    return ContactImport.objects.filter(
        pk=contact_import.pk, status=ContactImport.Status.RUNNING, attempts=contact_import.attempts
    )


def _is_licence_footer(record: tuple, width: int) -> bool:
    """PropertyRadar ends its exports with a one-cell licence sentence that names it: the last line,
    not data. Any other last line of one cell is a row short of cells, rejected as such."""
    return len(record) == 2 and len(record[1]) == 1 < width and "propertyradar" in record[1][0].lower()


def _record(contact_import: ContactImport, **fields: object) -> None:
    """Write ``fields`` on the import's row and on ``contact_import`` while this run's attempt is
    still the import's; Superseded, writing nothing, once it is not."""
    if not _this_attempt(contact_import).update(**fields):
        raise Superseded(f"Import {contact_import.id} attempt {contact_import.attempts} was given up")
    for field, value in fields.items():
        setattr(contact_import, field, value)


def _fail(contact_import: ContactImport, reason: str) -> None:
    _record(contact_import, status=ContactImport.Status.FAILED, error=reason, finished_at=timezone.now())
