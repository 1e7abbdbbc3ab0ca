"""Contacts: the people we text and the houses they own; how they reached us (``imports``), and
their lawful basis and the Do-Not-Call lists (``consent``)."""

from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Substr, Upper
from django.db.models.lookups import In
from django.utils.functional import cached_property

from contacts import not_texted, phones
from contacts.models.consent import (
    ConsentBasis,
    ConsentChange,
    DoNotCallCoverage,
    DoNotCallList,
    DoNotCallLoad,
    DoNotCallNumber,
    consent_constraints,
)
from contacts.models.imports import ContactImport, ImportRejection, ImportUploadChunk
from contacts.not_texted import NotTexted, Reason
from contacts.search_text import refresh_houses, search_text_expression, search_zip_codes_expression

__all__ = [
    "E164_REGEX",
    "ConsentBasis",
    "ConsentChange",
    "Contact",
    "ContactImport",
    "DoNotCallCoverage",
    "DoNotCallList",
    "DoNotCallLoad",
    "DoNotCallNumber",
    "ImportRejection",
    "ImportUploadChunk",
    "OptOutEvent",
    "Property",
    "PropertyContact",
    "ZipCode",
    "validate_time_zones",
]


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


CONSENT_CONSTRAINTS = consent_constraints("contact")


def _not_textable(*, code: bool) -> Case:
    """Why the business's number cannot text a number, from the number and its line type: the
    reason's code, or (not ``code``) the words that say it."""

    def say(reason: Reason, words: str) -> Value:
        return Value(reason.value if code else words)

    return Case(
        When(line_type="landline", then=say(Reason.LANDLINE, phones.NOT_TEXTABLE_LANDLINE)),
        When(~Q(phone__startswith="+1"), then=say(Reason.FOREIGN_NUMBER, phones.NOT_TEXTABLE_OUTSIDE_US)),
        When(
            In(Substr("phone", 3, 3), list(phones.TOLL_FREE_AREA_CODES)),
            then=say(Reason.TOLL_FREE, phones.NOT_TEXTABLE_TOLL_FREE),
        ),
        *(
            When(
                In(Substr("phone", 3, 3), list(codes)),
                then=say(Reason.FOREIGN_NUMBER, f"{phones.NOT_TEXTABLE_OUTSIDE_US} ({where})"),
            )
            for where, codes in phones.NON_US_AREA_CODES.items()
        ),
        default=Value(""),
    )


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
    # (an import's SQL included) gets them: why the business's US number cannot text it, as a
    # reason of the vocabulary (contacts/not_texted.py) and in words, or "".
    not_textable_because = models.GeneratedField(
        expression=_not_textable(code=True), output_field=models.CharField(max_length=16), db_persist=True
    )
    not_textable_reason = models.GeneratedField(
        expression=_not_textable(code=False), output_field=models.CharField(max_length=100), db_persist=True
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
    # What the search reads (contacts/search_text.py): the houses' streets, cities and ZIPs, kept
    # by whatever links a house or changes one, and the two columns the database computes from
    # them and the row, each with a trigram index on PostgreSQL (migration 0015, not Meta: SQLite
    # has no such index).
    house_addresses = models.TextField(blank=True, default="", db_default="", editable=False)
    house_zip_codes = models.TextField(blank=True, default="", db_default="", editable=False)
    search_text = models.GeneratedField(
        expression=search_text_expression(), output_field=models.TextField(), db_persist=True
    )
    search_zip_codes = models.GeneratedField(
        expression=search_zip_codes_expression(), output_field=models.TextField(), db_persist=True
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
            # The few who opted out: a campaign's results count those its texts lost from them.
            models.Index(fields=["id"], condition=Q(opted_out_at__isnull=False), name="contact_opted_out"),
            # The few without a value a text may read ({name}, {city} …): a campaign page counts the
            # members who lack one starting from them, not by reading its whole audience.
            models.Index(fields=["id"], condition=Q(first_name=""), name="contact_without_first_name"),
            models.Index(fields=["id"], condition=Q(last_name=""), name="contact_without_last_name"),
            models.Index(fields=["id"], condition=Q(city=""), name="contact_without_city"),
            models.Index(fields=["id"], condition=Q(address=""), name="contact_without_address"),
            # The few whose number cannot be texted: with the opted out, what foresight counts
            # beyond the head of a large audience.
            models.Index(fields=["id"], condition=~Q(not_textable_because=""), name="contact_not_textable"),
            # An audience filter's city, compared without case (contacts.selectors.contact_filter):
            # read from the city's contacts, and its statistics give the planner their number.
            models.Index(Upper("city"), name="contact_city_upper"),
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
    def not_texted(self) -> NotTexted | None:
        """Why nobody may text this contact (opted out, not a mobile number), or None."""
        return not_texted.of_contact(
            opted_out=self.is_opted_out,
            opt_out_reason=self.opt_out_reason,
            not_textable_because=self.not_textable_because,
            not_textable_reason=self.not_textable_reason,
        )

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
    """A house from a PropertyRadar export. Keyed by APN, else by normalised address + ZIP.

    Watched: its street, city and ZIP are part of its contacts' search text, which each save and
    delete brings up to date (contacts/search_text.py); a bulk write must call ``refresh_houses``.
    """

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

    def save(self, *args, **kwargs) -> None:
        new = self._state.adding  # nobody lives in a house before it is saved
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if not new and (fields is None or {"address", "city", "zip_code"} & set(fields)):
            refresh_houses(contacts=self.property_contacts.values("contact_id"))

    def delete(self, *args, **kwargs):
        living_here = list(self.property_contacts.values_list("contact_id", flat=True))
        deleted = super().delete(*args, **kwargs)
        refresh_houses(contacts=living_here)
        return deleted


class PropertyContact(models.Model):
    """A person on a property's record, as PropertyRadar lists them (primary or secondary).

    Watched: a link puts its house in the contact's search text, which each save and delete brings
    up to date (contacts/search_text.py); a bulk write must call ``refresh_houses``.
    """

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

    def save(self, *args, **kwargs) -> None:
        # A link moved to another contact or house leaves the one it was on.
        stored = PropertyContact.objects.filter(pk=self.pk)
        before = [] if self._state.adding else list(stored.values_list("contact_id", flat=True))
        super().save(*args, **kwargs)
        refresh_houses(contacts={self.contact_id, *before})

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        refresh_houses(contacts=[self.contact_id])
        return deleted
