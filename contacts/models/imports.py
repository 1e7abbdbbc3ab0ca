"""How contacts reached us: each import run, its upload kept until it has run, and its rejections."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from contacts import not_texted
from contacts.not_texted import Reason


class ContactImport(models.Model):
    """One run of the import pipeline over one file, with counts that add up.

    The unit of accounting is the *entry*: a row of a contact CSV, or each phone of a
    PropertyRadar row (a row with no phone at all is one entry, rejected). Every entry ends
    as exactly one of created, updated, unchanged, folded (its phone came earlier in the file)
    or rejected; the database refuses a record whose counts do not add up.

    Its life (``contacts.importing.pipeline``)::

        queued ──(a worker claims it: attempt n)──▶ running ──▶ completed | failed
          ▲                                           │
          └──(no sign of life for IMPORT_STALLED_MINUTES; its upload is kept, attempts left)

    A small file is imported within its request (created ``running``); a large one is kept in
    the database (`ImportUploadChunk`) for whichever worker claims it, handed to a worker when
    queued and again by beat's sweep when none took it. An import that stops showing progress
    (its worker killed, its request's process gone) is queued again while it has its upload and
    attempts left, else failed with the reason: nothing stays running for ever.
    """

    class Format(models.TextChoices):
        PROPERTYRADAR = "propertyradar", "PropertyRadar export"
        GENERIC = "generic", "Contact CSV"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="imports"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    format = models.CharField(max_length=20, choices=Format.choices, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    column_mapping = models.JSONField(default=dict, blank=True)
    # The file's header row as written: the rejected rows download gives it back above the rows.
    header = models.JSONField(default=list, blank=True)
    # Data lines: each line after the header with any text (a row over several lines once), the
    # rejected ones and the licence footer included.
    rows_read = models.PositiveIntegerField(default=0)
    footer_rows_skipped = models.PositiveIntegerField(default=0)
    entries_read = models.PositiveIntegerField(default=0)
    contacts_created = models.PositiveIntegerField(default=0)
    contacts_updated = models.PositiveIntegerField(default=0)
    contacts_unchanged = models.PositiveIntegerField(default=0)
    duplicates_folded = models.PositiveIntegerField(default=0)
    entries_rejected = models.PositiveIntegerField(default=0)
    properties_created = models.PositiveIntegerField(default=0)
    properties_updated = models.PositiveIntegerField(default=0)
    properties_unchanged = models.PositiveIntegerField(default=0)
    added_to_campaign = models.PositiveIntegerField(default=0)
    # Contacts of the file whose number the business cannot text (kept, never booked).
    not_textable = models.PositiveIntegerField(default=0)
    # Of those, how many by reason (landline, toll-free, foreign): empty for imports made before
    # they were told apart.
    not_textable_by_reason = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Each run that claims the import counts one; a run finishes only the attempt it claimed.
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to a worker")
    progress_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life while running")

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The sweep's and /healthz's question: imports that are queued or running.
            models.Index(fields=["status"], condition=Q(status__in=["queued", "running"]), name="contact_import_open"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    entries_read=F("contacts_created")
                    + F("contacts_updated")
                    + F("contacts_unchanged")
                    + F("duplicates_folded")
                    + F("entries_rejected")
                ),
                name="contact_import_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED

    @property
    def not_textable_counts(self) -> list[tuple[Reason, int]]:
        """The numbers of the file the business cannot text, by reason (none when not known)."""
        return not_texted.counted(self.not_textable_by_reason)


class ImportUploadChunk(models.Model):
    """A piece of a large upload, kept in the database until its import has run: web and worker
    processes may be on different machines, and PostgreSQL is what they share. Deleted once the
    import has run, whatever the outcome (it holds homeowners' names and numbers)."""

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="upload_chunks")
    position = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["contact_import", "position"]
        constraints = [
            models.UniqueConstraint(fields=["contact_import", "position"], name="import_upload_chunk_position_unique")
        ]

    def __str__(self) -> str:
        return f"import {self.contact_import_id}, chunk {self.position}"


class ImportRejection(models.Model):
    """A row (or cell) of an import that was not taken, and why."""

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="rejections")
    line_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=255)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["contact_import", "line_number", "id"]
        indexes = [models.Index(fields=["contact_import", "line_number"])]

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"
