"""One CSV row → the tuples staged for the merge: contact entries and, for PropertyRadar, a property.

Nothing here touches the database. A row never fails as a whole over a bad optional cell (a
garbled "Beds" is stored as unknown). It is rejected, with a reason that names what was wrong,
when it gives no valid phone, has not as many cells as the header, holds a value longer than
the field it is stored in (nothing is cut to fit), or gives a consent that does not hold together:
a lawful basis is a claim the owner answers for, never guessed at.
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from contacts.importing.columns import PROPERTYRADAR_COLUMNS, ColumnMapping
from contacts.lawful_basis import CONSENT_FIELDS, validate_consent
from contacts.models import ConsentBasis
from contacts.phones import normalize_phone

# Every CSV line is staged as one row of this shape, so a whole file streams through a single
# COPY: the line's house (PropertyRadar; blank apn and address_key when there is none) and its
# two contact slots (primary, secondary; a generic CSV uses the first). A slot holds a phone or
# the reason its entry was rejected; `raw` keeps the line when anything was rejected, written back
# as CSV in the file's own delimiter (as written when it could not be read as a record).
# The address, city, state and ZIP are the house's and also its people's; the consent is the first
# slot's (a generic CSV's only: PropertyRadar exports carry none).
DETAIL_COLUMNS = (
    "subdivision", "longitude", "latitude", "year_built", "purchase_date", "square_feet", "beds", "baths",
    "estimated_value", "estimated_equity", "estimated_equity_percent", "owner", "mail_address", "mail_city",
    "mail_state", "mail_zip_code", "owner_occupied", "listed_for_sale", "listing_status", "foreclosure",
    "high_equity",
)  # fmt: skip
SLOT_FIELDS = ("role", "phone", "reject_reason", "first_name", "last_name", "email")
LINE_COLUMNS = (
    "line_number", "raw", "line_type",
    *(f"{field}_1" for field in SLOT_FIELDS), *(f"{field}_2" for field in SLOT_FIELDS),
    "apn", "address_key", "property_type", "address", "city", "state", "zip_code", *DETAIL_COLUMNS, *CONSENT_FIELDS,
)  # fmt: skip
# What the merge reads of each house.
PROPERTY_COLUMNS = (
    "line_number", "apn", "address_key", "property_type", "address", "city", "state", "zip_code", *DETAIL_COLUMNS,
)  # fmt: skip
NO_DETAILS = ("", None, None, None, None, None, None, None, None, None, None,
              "", "", "", "", "", None, None, "", None, None)  # fmt: skip
NO_SLOT = ("", "", "", "", "", "")
# A blank basis, staged when a line gives none (or "none"), changes nothing: an import never
# clears a consent on record.
NO_CONSENT = ("", None, "", "")


def rejected_slot(reason: str, role: str = "") -> tuple:
    return (role, "", reason, "", "", "")


def no_house(address: str = "", city: str = "", state: str = "", zip_code: str = "") -> tuple:
    """The house columns of a line that names no house: only the people's address, if any."""
    return ("", "", "", address, city, state, zip_code, *NO_DETAILS)


# The longest value each field takes where the import stores it: the models' max_length (and the
# staging table's). A longer value rejects its line; it is never cut to fit.
MAX_LENGTHS = {
    "first_name": 100, "last_name": 100, "email": 254, "address": 255, "city": 100, "zip_code": 10,
    "apn": 100, "address_key": 255, "property_type": 50, "subdivision": 255, "owner": 255, "mail_address": 255,
    "mail_city": 100, "mail_zip_code": 10, "listing_status": 50, "consent_source": 255,
}  # fmt: skip
# The staged columns that hold a value read from the file, as each format fills them.
GENERIC_CHECKED = ("first_name_1", "last_name_1", "email_1", "address", "city", "zip_code", "consent_source")
RADAR_CHECKED = (
    "first_name_1", "last_name_1", "email_1", "address", "city", "zip_code", "first_name_2", "last_name_2",
    "email_2", "apn", "address_key", "property_type", "subdivision", "owner", "mail_address", "mail_city",
    "mail_zip_code", "listing_status",
)  # fmt: skip
# A staged PropertyRadar column → the field of the file it is read from, and which part of it.
RADAR_SOURCES = {
    "first_name_1": ("primary_name", "first name"), "last_name_1": ("primary_name", "last name"),
    "email_1": ("primary_email", ""), "first_name_2": ("secondary_name", "first name"),
    "last_name_2": ("secondary_name", "last name"), "email_2": ("secondary_email", ""), "address_key": ("address", ""),
}  # fmt: skip
# How much of a rejected line is kept for the rejected rows download (contacts/csv_export.py), which
# gives it back to be fixed and imported again: every real row fits; a line of runaway cells is cut.
RAW_LIMIT = 20_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
BUSINESS_WORDS = {"TRUST", "LLC", "INC", "CORP", "CO", "LTD", "ESTATE", "TRUSTEE", "TRS", "REVOCABLE", "LP"}
KEEP_UPPER = {"LLC", "INC", "LP", "II", "III", "IV"}


@lru_cache(maxsize=1 << 16)  # cities, streets and first names repeat row after row
def display_name(name: str) -> str:
    """'MARY SULLIVAN' → 'Mary Sullivan', with O'Brien, McCarthy and Smith-Jones right.

    Names already in mixed case are somebody's deliberate spelling and are kept.
    """
    name = " ".join(name.split())
    if not (name.isupper() or name.islower()):
        return name
    return " ".join(_display_word(word) for word in name.split(" "))


@lru_cache(maxsize=1 << 16)
def _display_word(word: str) -> str:
    if word.upper().strip(".,") in KEEP_UPPER:
        return word.upper()
    parts = re.split(r"([-'])", word.lower())
    shown = "".join(part.capitalize() for part in parts)
    if len(shown) > 3 and shown.startswith("Mc"):
        shown = "Mc" + shown[2:].capitalize()
    return shown


@lru_cache(maxsize=1 << 16)
def split_name(full_name: str) -> tuple[str, str]:
    """A person's name → (first, last): 'FIRST LAST', and 'Last, First' or 'LAST,FIRST M' (the
    comma puts the family name first). A trust or company name stays whole, as last name."""
    words = full_name.split()
    if not words:
        return "", ""
    if _is_business(full_name):
        return "", display_name(full_name)
    if "," in full_name:
        last, _, first = full_name.partition(",")
        given = first.replace(",", " ").split()
        if len(given) > 1 and len(given[-1].strip(".")) == 1:
            given = given[:-1]  # 'MARY K': the middle initial is not what she is called
        return display_name(" ".join(given)), display_name(last.strip())
    return display_name(words[0]), display_name(" ".join(words[1:]))


def _is_business(name: str) -> bool:
    return bool(BUSINESS_WORDS & {word.upper().strip(".,") for word in name.split()})


@lru_cache(maxsize=1 << 16)
def owner_name(owner: str) -> tuple[str, str]:
    """The first owner in a PropertyRadar Owner cell → (first, last), for a row whose Primary Name
    is blank. The cell names the owners 'LAST,FIRST & FIRST2' ('O'BRIEN,BRIAN & PATRICIA': Brian
    O'Brien; the co-owner after '&' shares the family name), or a trust or company whole. Anything
    else gives no name rather than a guess (in 'OBRIEN BRIAN' the first word is not the first
    name), and so does a name too long for its field: the fallback never rejects a row."""
    first_owner = owner.partition("&")[0]
    if "," not in first_owner and not _is_business(first_owner):
        return "", ""
    first, last = split_name(first_owner)
    if len(first) > MAX_LENGTHS["first_name"] or len(last) > MAX_LENGTHS["last_name"]:
        return "", ""
    return first, last


def quoted(value: str) -> str:
    """A cell quoted in a reason: its first 40 characters as Python writes them (unprintable ones
    escaped, up to 10 characters each), cut to 100 so that every reason fits ImportRejection.reason.
    A sample for a person to recognise, not a value that is stored."""
    return repr(value[:40])[:100]


def clean_email(value: str) -> str:
    value = value.strip().lower()
    return value if EMAIL.match(value) else ""


def clean_zip(value: str) -> str:
    value = value.strip()
    if value.isdigit() and len(value) in (3, 4):  # a spreadsheet ate the leading zeros
        value = value.zfill(5)
    match = ZIP.match(value)
    if not match:
        return value
    return f"{match[1]}-{match[2]}" if match[2] else match[1]


def clean_state(value: str) -> str:
    value = value.strip().upper()
    return value if len(value) == 2 and value.isalpha() else ""


def _int(value: str, *, low: int, high: int) -> int | None:
    # Empty cells are most of a PropertyRadar export's: answered before a parse that raises for them.
    if not value:
        return None
    if value.isdigit() and len(value) < 20:  # the common cell, read without a Decimal
        number = int(value)
        return number if low <= number <= high else None
    try:
        whole = Decimal(value.strip().replace(",", "").replace("$", "")).to_integral_value(rounding=ROUND_DOWN)
    except InvalidOperation:
        return None
    # Compared as a Decimal first: int() of a cell like 1e999999999 would build a billion-digit number.
    if not whole.is_finite() or not low <= whole <= high:
        return None
    return int(whole)


def _decimal(value: str, *, places: int, limit: int) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value.strip().replace(",", "").replace("$", "").rstrip("%"))
    except InvalidOperation:
        return None
    # copy_abs, not abs: abs rounds to the context and signals Overflow for a cell like 1e1000000.
    if not number.is_finite() or number.copy_abs() >= limit:
        return None
    return round(number, places)


def _date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


FLAGS = {"1": True, "0": False, "y": True, "n": False, "yes": True, "no": False}


def _flag(value: str) -> bool | None:
    return FLAGS.get(value.lower())


def plain_decimal(*, places: int, limit: int) -> Callable[[str], Decimal | str | None]:
    """``_decimal`` for one column, with a shortcut: a cell that already reads as the column's
    number (no sign but '-', no separators, no more decimals than the column keeps, in range) is
    staged as it is and the database parses it. The shortcut changes nothing but the speed."""
    fits = re.compile(rf"-?\d{{1,{len(str(limit)) - 1}}}(?:\.\d{{1,{places}}})?").fullmatch

    def read(value: str) -> Decimal | str | None:
        return value if fits(value) else _decimal(value, places=places, limit=limit)

    return read


coordinate = plain_decimal(places=6, limit=1000)
baths_cell = plain_decimal(places=1, limit=1000)
percent_cell = plain_decimal(places=2, limit=100000)


GENERIC_FIELDS = (
    "phone", "first_name", "last_name", "name", "email", "address", "city", "state", "zip_code", *CONSENT_FIELDS,
)  # fmt: skip

# A consent basis as its code or its label, compared without case or punctuation.
BASIS_BY_NAME = {
    re.sub(r"[^a-z0-9]", "", name.lower()): basis for basis, label in ConsentBasis.choices for name in (basis, label)
} | {"written": ConsentBasis.EXPRESS_WRITTEN}
# Dates without a time of day are taken at noon on the shop's wall clock: the middle of the day
# the person gave consent, whatever the zone they gave it in.
CONSENT_TIME_ZONE = ZoneInfo("America/New_York")
NOON = dt.time(12)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}").fullmatch
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})").fullmatch


def consent_moment(value: str) -> tuple[dt.datetime, bool] | None:
    """A consent date cell → (the aware moment, whether the cell gave a date only), or None when
    it reads as none of YYYY-MM-DD, M/D/YYYY or an ISO date and time (one without an offset is
    on the shop's wall clock)."""
    try:
        if ISO_DATE(value):
            return dt.datetime.combine(dt.date.fromisoformat(value), NOON, tzinfo=CONSENT_TIME_ZONE), True
        if match := US_DATE(value):
            month, day, year = map(int, match.groups())
            return dt.datetime.combine(dt.date(year, month, day), NOON, tzinfo=CONSENT_TIME_ZONE), True
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=CONSENT_TIME_ZONE)
    return moment, False


class EntryBuilder:
    """Builds the staged row (see LINE_COLUMNS) for each CSV line of one file."""

    def __init__(self, mapping: ColumnMapping, delimiter: str, *, now: dt.datetime | None = None) -> None:
        self.now = now or timezone.now()  # what "in the future" means for a consent date
        # A moment as the staging table takes it (SQLite keeps UTC text in the ORM's own format).
        self.stored_moment = connection.ops.adapt_datetimefield_value
        self.width = len(mapping.header)
        self.header = mapping.header
        self.delimiter = delimiter
        self.raw_buffer = io.StringIO()
        # A cell holding a CR or LF is quoted only if the terminator holds it: the line's is cut off.
        self.raw_writer = csv.writer(self.raw_buffer, delimiter=delimiter, lineterminator="\r\n")
        self.propertyradar = mapping.format == "propertyradar"
        # Columns the file lacks read from one extra empty cell at the end of every row.
        self.at = {field: mapping.columns.get(field, self.width) for field in (*GENERIC_FIELDS, *PROPERTYRADAR_COLUMNS)}
        # The PropertyRadar cells a row is built from, in the order _propertyradar unpacks them.
        self.radar_cells = itemgetter(*(self.at[field] for field in PROPERTYRADAR_COLUMNS))
        # (index in the staged row, the longest value it takes) for each value read from the file.
        self.limits = tuple(
            (LINE_COLUMNS.index(column), MAX_LENGTHS[column.removesuffix("_1").removesuffix("_2")])
            for column in (RADAR_CHECKED if self.propertyradar else GENERIC_CHECKED)
        )

    def raw(self, cells: list[str]) -> str:
        """A record's cells as one CSV line in the file's delimiter, quoted where a cell needs it."""
        self.raw_buffer.seek(0)
        self.raw_buffer.truncate()
        self.raw_writer.writerow(cells)
        return self.raw_buffer.getvalue()[:-2][:RAW_LIMIT]

    def rejected(self, line_number: int, reason: str, cells: list[str], *, raw: str | None = None) -> tuple:
        """A line none of whose content is taken: the reason in the first slot."""
        raw = self.raw(cells) if raw is None else raw[:RAW_LIMIT]
        return (line_number, raw, "", *rejected_slot(reason), *NO_SLOT, *no_house(), *NO_CONSENT)

    def build(self, line_number: int, cells: list[str], unreadable: str = "") -> tuple:
        """The staged row for one record of the file (see LINE_COLUMNS); ``unreadable`` is why the
        reader could not take the line as a record, if it could not (see readers.CsvRows.rows)."""
        if unreadable:  # cells is [the line as written]
            return self.rejected(line_number, unreadable, cells, raw=cells[0])
        if len(cells) != self.width:
            count = f"{len(cells)} cell" if len(cells) == 1 else f"{len(cells)} cells"
            return self.rejected(line_number, f"Has {count} but the header has {self.width}", cells)
        row = list(map(str.strip, cells))
        row.append("")  # see self.at
        if self.propertyradar:
            staged = self._propertyradar(line_number, cells, row)
        else:
            staged = self._generic(line_number, cells, row)
        for index, limit in self.limits:
            if len(staged[index]) > limit:
                return self.rejected(line_number, self._too_long(LINE_COLUMNS[index], staged[index], limit, row), cells)
        return staged

    def _too_long(self, column: str, value: str, limit: int, row: list[str]) -> str:
        """Why a staged value does not fit, naming the header it was read from (cut to 40 characters,
        so that any reason fits ImportRejection.reason) and, for a name split from one cell, the part."""
        if self.propertyradar:
            field, part = RADAR_SOURCES.get(column, (column, ""))
        else:
            field, part = self._generic_source(column, row)
        header = f"'{self.header[self.at[field]][:40]}'"
        what = f"The {part} in {header}" if part else header
        return f"{what} is {len(value)} characters; at most {limit} fit"

    def _generic_source(self, column: str, row: list[str]) -> tuple[str, str]:
        field = column.removesuffix("_1")
        # A name is split from the whole-name column only when there is neither first nor last.
        if field in ("first_name", "last_name") and not (row[self.at["first_name"]] or row[self.at["last_name"]]):
            return "name", field.replace("_", " ")
        return field, ""

    def _generic(self, line_number: int, cells: list[str], row: list[str]) -> tuple:
        at = self.at
        raw_phone = row[at["phone"]]
        if not raw_phone:
            return self.rejected(line_number, "No phone number", cells)
        if (phone := normalize_phone(raw_phone)) is None:
            return self.rejected(line_number, f"Not a valid phone number: {quoted(raw_phone)}", cells)
        consent = self._consent(row) if row[at["consent_basis"]] else NO_CONSENT
        if isinstance(consent, str):
            return self.rejected(line_number, consent, cells)
        first, last = display_name(row[at["first_name"]]), display_name(row[at["last_name"]])
        if not (first or last):
            first, last = split_name(row[at["name"]])
        return (
            line_number, "", "unknown", "", phone, "", first, last, clean_email(row[at["email"]]), *NO_SLOT,
            *no_house(display_name(row[at["address"]]), display_name(row[at["city"]]), clean_state(row[at["state"]]),
                      clean_zip(row[at["zip_code"]])),
            *consent,
        )  # fmt: skip

    def _consent(self, row: list[str]) -> tuple | str:
        """The staged consent of a line with a basis cell, or why the line is rejected (naming the
        field at fault, as ``validate_consent`` does)."""
        at = self.at
        cell = row[at["consent_basis"]]
        basis = BASIS_BY_NAME.get(re.sub(r"[^a-z0-9]", "", cell.lower()), cell)
        if basis == ConsentBasis.NONE:
            return NO_CONSENT
        moment, now = None, self.now
        if date_cell := row[at["consent_at"]]:
            if (read := consent_moment(date_cell)) is None:
                return f"consent_at: Not a date: {quoted(date_cell)}; write YYYY-MM-DD or M/D/YYYY"
            moment, date_only = read
            if date_only and moment.date() == timezone.localtime(now, CONSENT_TIME_ZONE).date():
                now = max(now, moment)  # today's date, taken at noon, is not in the future in the morning
        values = {
            "consent_basis": basis,
            "consent_at": moment,
            "consent_source": row[at["consent_source"]],
            "consent_wording": row[at["consent_wording"]],
        }
        try:
            wanted = validate_consent(values, now=now)
        except ValidationError as error:
            reasons = (f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            return " ".join(reasons)[:255]
        return (basis, self.stored_moment(wanted["consent_at"]), wanted["consent_source"], wanted["consent_wording"])

    def _propertyradar(self, line_number: int, cells: list[str], row: list[str]) -> tuple:
        (
            property_type, address, city, zip_code, subdivision, longitude, latitude, apn, year_built, purchase_date,
            square_feet, beds, baths, value, equity, owner, mail_address, mail_city, mail_state, mail_zip_code,
            owner_occupied, listed_for_sale, listing_status, foreclosure, equity_percent, high_equity,
            primary_name, primary_phone, primary_email, secondary_name, secondary_phone, secondary_email,
        ) = self.radar_cells(row)  # fmt: skip
        address = " ".join(address.split())
        shown_address, city = display_name(address), display_name(city)
        zip_code, mail_state = clean_zip(zip_code), clean_state(mail_state)
        # The owner's mailing state is the house's state when they live there.
        state = mail_state if mail_address.upper() == address.upper() else ""
        if apn or address:
            house = (
                apn, address.upper(), property_type, shown_address, city, state, zip_code,
                display_name(subdivision), coordinate(longitude), coordinate(latitude),
                _int(year_built, low=0, high=32767), _date(purchase_date), _int(square_feet, low=0, high=2**31 - 1),
                _int(beds, low=0, high=32767), baths_cell(baths), _int(value, low=-(2**63), high=2**63 - 1),
                _int(equity, low=-(2**63), high=2**63 - 1), percent_cell(equity_percent), owner,
                display_name(mail_address), display_name(mail_city), mail_state, clean_zip(mail_zip_code),
                _flag(owner_occupied), _flag(listed_for_sale), listing_status, _flag(foreclosure), _flag(high_equity),
            )  # fmt: skip
        else:
            house = no_house(shown_address, city, state, zip_code)
        slots = []
        for role, name, raw_phone, email in (
            ("primary", primary_name, primary_phone, primary_email),
            ("secondary", secondary_name, secondary_phone, secondary_email),
        ):
            if not raw_phone:
                slots.append(NO_SLOT)
            elif (phone := normalize_phone(raw_phone)) is None:
                reason = f"{role.capitalize()} phone is not a valid number: {quoted(raw_phone)}"
                slots.append(rejected_slot(reason, role))
            else:
                first, last = split_name(name) if name or role == "secondary" else owner_name(owner)
                slots.append((role, phone, "", first, last, clean_email(email)))
        if not (primary_phone or secondary_phone):
            stored = " (the property is stored)" if apn or address else ""
            slots[0] = rejected_slot(f"No mobile phone{stored}")
        raw = self.raw(cells) if slots[0][2] or slots[1][2] else ""
        return (line_number, raw, "mobile", *slots[0], *slots[1], *house, *NO_CONSENT)
