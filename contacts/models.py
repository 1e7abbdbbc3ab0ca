"""Contacts: the people we text, the houses they own, and how they reached us (imports)."""

from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Substr
from django.db.models.lookups import In
from django.utils.functional import cached_property

from contacts import phones


def validate_time_zones(value: str) -> None:
    """One IANA zone, or several comma-separated when the evidence spans zones."""
    unknown = [zone for zone in value.split(",") if zone.strip() not in available_timezones()]
    if value and unknown:
        raise ValidationError(
            "%(zones)s is not an IANA time zone (e.g. America/New_York).",
            code="invalid_time_zone",
            params={"zones": ", ".join(unknown)},
        )


# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
E164_REGEX = r"^\+[1-9][0-9]{7,14}$"


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


class ZipCode(models.Model):
    """A US ZIP code's state and time zone: reference data, from the `zipcodes` data set.

    The import gives each new contact its zone with one join on this table. A migration creates
    and fills it (``load_zip_codes``); Django does not manage it, so the table flush between
    transactional tests, which empties application tables, leaves this data alone.
    """

    zip = models.CharField("ZIP", max_length=5, primary_key=True)
    state = models.CharField(max_length=2)
    time_zone = models.CharField(max_length=64)

    class Meta:
        managed = False
        db_table = "contacts_zipcode"
        verbose_name = "ZIP code"

    def __str__(self) -> str:
        return f"{self.zip} {self.state} {self.time_zone}"


class ConsentBasis(models.TextChoices):
    """What a marketing text to a person may rely on (FCC 23-107, the Telemarketing Sales Rule)."""

    EXPRESS_WRITTEN = "express_written", "Written consent"
    CUSTOMER = "customer", "Customer (job, payment or delivery)"
    INQUIRY = "inquiry", "Inquiry"
    NONE = "none", "None on record"


def consent_constraints(prefix: str) -> list[models.CheckConstraint]:
    """A basis has its date, and written consent its source and wording; "none" has neither."""
    return [
        models.CheckConstraint(
            condition=Q(consent_basis=ConsentBasis.NONE, consent_at__isnull=True)
            | (~Q(consent_basis=ConsentBasis.NONE) & Q(consent_at__isnull=False)),
            name=f"{prefix}_consent_dated_when_given",
        ),
        models.CheckConstraint(
            condition=~Q(consent_basis=ConsentBasis.EXPRESS_WRITTEN) | (~Q(consent_source="") & ~Q(consent_wording="")),
            name=f"{prefix}_written_consent_has_source_and_wording",
        ),
        models.CheckConstraint(
            condition=Q(consent_basis__in=ConsentBasis.values), name=f"{prefix}_consent_basis_valid"
        ),
    ]


CONSENT_CONSTRAINTS = consent_constraints("contact")


class Contact(models.Model):
    """One SMS recipient. One phone number is one contact."""

    class LineType(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        LANDLINE = "landline", "Landline"
        VOIP = "voip", "VoIP"
        UNKNOWN = "unknown", "Unknown"

    class TimeZoneSource(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        ADDRESS = "address", "State / ZIP"
        AREA_CODE = "area_code", "Phone area code"
        STAFF = "staff", "Set by staff"

    phone = models.CharField(max_length=16, help_text="E.164, e.g. +16175551234")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=50, blank=True, help_text="Where the contact came from")
    line_type = models.CharField(max_length=10, choices=LineType.choices, default=LineType.UNKNOWN)
    # Computed by the database from the phone and its line type, so every way a contact is stored
    # (an import's SQL included) gets it: why the business's US number cannot text it, or "".
    not_textable_reason = models.GeneratedField(
        expression=Case(
            When(line_type="landline", then=Value(phones.NOT_TEXTABLE_LANDLINE)),
            When(~Q(phone__startswith="+1"), then=Value(phones.NOT_TEXTABLE_OUTSIDE_US)),
            When(
                In(Substr("phone", 3, 3), list(phones.TOLL_FREE_AREA_CODES)),
                then=Value(phones.NOT_TEXTABLE_TOLL_FREE),
            ),
            *(
                When(
                    In(Substr("phone", 3, 3), list(codes)),
                    then=Value(f"{phones.NOT_TEXTABLE_OUTSIDE_US} ({where})"),
                )
                for where, codes in phones.NON_US_AREA_CODES.items()
            ),
            default=Value(""),
        ),
        output_field=models.CharField(max_length=100),
        db_persist=True,
    )
    time_zone = models.CharField(
        max_length=128,
        blank=True,
        validators=[validate_time_zones],
        help_text="IANA zone of the recipient; several, comma-separated, when the evidence spans zones",
    )
    time_zone_source = models.CharField(max_length=10, choices=TimeZoneSource.choices, default=TimeZoneSource.UNKNOWN)
    # The lawful basis for marketing texts (contacts/lawful_basis.py says what each allows); kept
    # after an opt-out, as the proof of what we relied on. Every change is a ConsentChange.
    # Database defaults too: the import writes contacts in SQL.
    consent_basis = models.CharField(
        max_length=16, choices=ConsentBasis.choices, default=ConsentBasis.NONE, db_default=ConsentBasis.NONE
    )
    consent_at = models.DateTimeField(
        null=True, blank=True, help_text="When consent was given, or the last job, payment or inquiry"
    )
    consent_source = models.CharField(max_length=255, blank=True, db_default="", help_text="Where and how it was given")
    consent_wording = models.TextField(
        blank=True, db_default="", help_text="The words the person agreed to (written consent)"
    )
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opt_out_reason = models.CharField(max_length=255, blank=True)
    # The import that first brought the contact in (a per-import link table would cost a
    # million rows of foreign-key checks on a million-row import).
    source_import = models.ForeignKey(
        ContactImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_contacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # An owner's right (attackacrack/roles.py): every contact's name and number in one file.
        permissions = [("export_contact", "Can export every contact")]
        ordering = ["-id"]
        constraints = [
            # A constraint rather than unique=True: the same index, without the second
            # (pattern-ops) index Django adds for a unique text field, which no query uses and
            # every imported row pays for.
            models.UniqueConstraint(fields=["phone"], name="contact_phone_unique"),
            models.CheckConstraint(condition=Q(phone__regex=E164_REGEX), name="contact_phone_e164"),
            models.CheckConstraint(
                condition=Q(opted_out_at__isnull=False) | Q(opt_out_reason=""),
                name="contact_opt_out_reason_only_when_opted_out",
            ),
            *CONSENT_CONSTRAINTS,
        ]
        indexes = [
            # The few contacts still without a zone after an import, found without a full scan.
            models.Index(fields=["id"], condition=Q(time_zone_source="unknown"), name="contact_zone_unknown"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} · {self.phone_display}" if self.full_name else self.phone_display

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @cached_property
    def home(self) -> "Property | None":
        """The house the contact is texted about: the one they are the primary owner of, else
        the first linked (PropertyContact.HOME_FIRST); none for a contact not saved yet."""
        if self.pk is None:
            return None
        order = [f"property_contacts__{field}" for field in PropertyContact.HOME_FIRST]
        return self.properties.order_by(*order).first()

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def phone_display(self) -> str:
        return phones.format_phone(self.phone)


class OptOutEvent(models.Model):
    """The audit trail of a contact's consent: every opt-out and every re-subscription."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opted out"
        OPT_IN = "opt_in", "Re-subscribed"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opt_out_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=255, blank=True)
    # The inbound text that triggered it, if any (a STOP reply); null for staff actions.
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "created_at"])]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class Property(models.Model):
    """A house from a PropertyRadar export. Keyed by APN, else by normalised address + ZIP."""

    property_type = models.CharField(max_length=50, blank=True)
    address = models.CharField(max_length=255)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    # Upper-cased, whitespace-collapsed address: the key when a row has no APN.
    address_key = models.CharField(max_length=255)
    subdivision = models.CharField(max_length=255, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    apn = models.CharField("APN", max_length=100, blank=True)
    year_built = models.PositiveSmallIntegerField(null=True, blank=True)
    purchase_date = models.DateField(null=True, blank=True)
    square_feet = models.PositiveIntegerField(null=True, blank=True)
    beds = models.PositiveSmallIntegerField(null=True, blank=True)
    baths = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    estimated_value = models.BigIntegerField(null=True, blank=True)
    # Equity can be negative (underwater mortgages): signed on purpose.
    estimated_equity = models.BigIntegerField(null=True, blank=True)
    estimated_equity_percent = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    owner = models.CharField(max_length=255, blank=True)
    mail_address = models.CharField(max_length=255, blank=True)
    mail_city = models.CharField(max_length=100, blank=True)
    mail_state = models.CharField(max_length=2, blank=True)
    mail_zip_code = models.CharField(max_length=10, blank=True)
    owner_occupied = models.BooleanField(null=True, blank=True)
    listed_for_sale = models.BooleanField(null=True, blank=True)
    listing_status = models.CharField(max_length=50, blank=True)
    foreclosure = models.BooleanField(null=True, blank=True)
    high_equity = models.BooleanField(null=True, blank=True)
    contacts = models.ManyToManyField(Contact, through="PropertyContact", related_name="properties")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "properties"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["apn"], condition=~Q(apn=""), name="property_apn_unique"),
            models.UniqueConstraint(
                fields=["address_key", "zip_code"],
                condition=Q(apn=""),
                name="property_address_zip_unique_without_apn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address}, {self.city} {self.zip_code}".strip()


class PropertyContact(models.Model):
    """A person on a property's record, as PropertyRadar lists them (primary or secondary)."""

    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    # The unique (property, contact) index serves lookups by property: no second index for it.
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="property_contacts", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="property_contacts")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    # A contact's houses, their home first: "primary" sorts before "secondary", then the oldest link.
    HOME_FIRST = ("role", "id")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["property", "contact"], name="property_contact_unique"),
            models.CheckConstraint(condition=Q(role__in=["primary", "secondary"]), name="property_contact_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.role}) at {self.property}"


class ConsentChange(models.Model):
    """The audit trail of a contact's lawful basis: each change, as it was made, who made it and
    how. Kept for good (a person's consent and its changes are what the owner answers with)."""

    class Via(models.TextChoices):
        PAGE = "page", "Contact page"
        API = "api", "API"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Admin"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_changes")
    consent_basis = models.CharField(max_length=16, choices=ConsentBasis.choices)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=255, blank=True)
    consent_wording = models.TextField(blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["contact", "changed_at"])]
        constraints = consent_constraints("consent_change")

    def __str__(self) -> str:
        return f"{self.contact_id} {self.consent_basis} at {self.changed_at:%Y-%m-%d %H:%M}"


class DoNotCallList(models.TextChoices):
    NATIONAL = "national", "National Do-Not-Call Registry"
    STATE = "state", "Massachusetts Do-Not-Call list"


class DoNotCallNumber(models.Model):
    """A number on a Do-Not-Call list, as its latest load of the list says."""

    # The E.164 digits as one integer (16175551234): a million of them load and index several
    # times faster than text compared by the database's collation.
    number = models.BigIntegerField()
    list = models.CharField(max_length=8, choices=DoNotCallList.choices)

    class Meta:
        # Number first: the one index answers "which lists hold this number?" too.
        constraints = [models.UniqueConstraint(fields=["number", "list"], name="dnc_number_unique")]

    def __str__(self) -> str:
        return f"+{self.number} on the {self.list} list"


class DoNotCallCoverage(models.Model):
    """An area code of a Do-Not-Call list loaded here, and the date of the copy its numbers are
    from. A copy older than DNC_LIST_MAX_AGE_DAYS stops marketing texts to the area code."""

    list = models.CharField(max_length=8, choices=DoNotCallList.choices)
    area_code = models.CharField(max_length=3)
    as_of = models.DateField()
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["list", "area_code"]
        constraints = [models.UniqueConstraint(fields=["area_code", "list"], name="dnc_coverage_unique")]

    def __str__(self) -> str:
        return f"{self.list} {self.area_code} as of {self.as_of}"


class DoNotCallLoad(models.Model):
    """One file of a Do-Not-Call list loaded: what it held and what it matched."""

    class Kind(models.TextChoices):
        FULL = "full", "Full list"
        CHANGES = "changes", "Change list"

    list = models.CharField(max_length=8, choices=DoNotCallList.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    as_of = models.DateField()
    file_name = models.CharField(max_length=255)
    area_codes = models.TextField(help_text="The area codes the file covers, comma-separated")
    numbers_read = models.PositiveIntegerField()
    numbers_added = models.PositiveIntegerField()
    numbers_removed = models.PositiveIntegerField()
    contacts_matched = models.PositiveIntegerField(help_text="Contacts whose number the list now holds")
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_list_display()} of {self.as_of} ({self.file_name})"
