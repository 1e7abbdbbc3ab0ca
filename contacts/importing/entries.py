"""One CSV row → the tuples staged for the merge: contact entries and, for PropertyRadar, a property.

Nothing here touches the database. A row never fails as a whole over a bad optional cell (a
garbled "Beds" is stored as unknown); only a row that gives no textable phone is rejected, and
the reason names what was wrong.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from contacts.importing.columns import ColumnMapping
from contacts.phones import normalize_phone

ENTRY_COLUMNS = (
    "seq", "line_number", "role", "phone", "line_type", "reject_reason", "raw",
    "first_name", "last_name", "email", "address", "city", "state", "zip_code",
)  # fmt: skip
PROPERTY_COLUMNS = (
    "line_number", "apn", "address_key", "property_type", "address", "city", "state", "zip_code", "subdivision",
    "longitude", "latitude", "year_built", "purchase_date", "square_feet", "beds", "baths",
    "estimated_value", "estimated_equity", "estimated_equity_percent", "owner", "mail_address",
    "mail_city", "mail_state", "mail_zip_code", "owner_occupied", "listed_for_sale", "listing_status",
    "foreclosure", "high_equity",
)  # fmt: skip

RAW_LIMIT = 1000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
BUSINESS_WORDS = {"TRUST", "LLC", "INC", "CORP", "CO", "LTD", "ESTATE", "TRUSTEE", "TRS", "REVOCABLE", "LP"}
KEEP_UPPER = {"LLC", "INC", "LP", "II", "III", "IV"}


def display_name(name: str) -> str:
    """'MARY SULLIVAN' → 'Mary Sullivan', with O'Brien, McCarthy and Smith-Jones right.

    Names already in mixed case are somebody's deliberate spelling and are kept.
    """
    name = " ".join(name.split())
    if not (name.isupper() or name.islower()):
        return name
    return " ".join(_display_word(word) for word in name.split(" "))


def _display_word(word: str) -> str:
    if word.upper().strip(".,") in KEEP_UPPER:
        return word.upper()
    parts = re.split(r"([-'])", word.lower())
    shown = "".join(part.capitalize() for part in parts)
    if len(shown) > 3 and shown.startswith("Mc"):
        shown = "Mc" + shown[2:].capitalize()
    return shown


def split_name(full_name: str) -> tuple[str, str]:
    """A person's 'FIRST LAST' → (first, last); a trust or company name stays whole, as last name."""
    words = full_name.split()
    if not words:
        return "", ""
    if BUSINESS_WORDS & {w.upper().strip(".,") for w in words}:
        return "", display_name(full_name)[:100]
    return display_name(words[0])[:100], display_name(" ".join(words[1:]))[:100]


def clean_email(value: str) -> str:
    value = value.strip().lower()
    return value if len(value) <= 254 and EMAIL.match(value) else ""


def clean_zip(value: str) -> str:
    value = value.strip()
    if value.isdigit() and len(value) in (3, 4):  # a spreadsheet ate the leading zeros
        value = value.zfill(5)
    match = ZIP.match(value)
    if not match:
        return value[:10]
    return f"{match[1]}-{match[2]}" if match[2] else match[1]


def clean_state(value: str) -> str:
    value = value.strip().upper()
    return value if len(value) == 2 and value.isalpha() else ""


def _int(value: str, *, low: int, high: int) -> int | None:
    try:
        number = int(Decimal(value.strip().replace(",", "").replace("$", "")))
    except (InvalidOperation, ValueError):
        return None
    return number if low <= number <= high else None


def _decimal(value: str, *, places: int, limit: int) -> Decimal | None:
    try:
        number = Decimal(value.strip().replace(",", "").replace("$", "").rstrip("%"))
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= limit:
        return None
    return round(number, places)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _flag(value: str) -> bool | None:
    return {"1": True, "0": False, "y": True, "n": False, "yes": True, "no": False}.get(value.strip().lower())


class EntryBuilder:
    def __init__(self, mapping: ColumnMapping, delimiter: str) -> None:
        self.mapping = mapping
        self.columns = mapping.columns
        self.width = len(mapping.header)
        self.delimiter = delimiter
        self.propertyradar = mapping.format == "propertyradar"

    def raw(self, cells: list[str]) -> str:
        return self.delimiter.join(cells)[:RAW_LIMIT]

    def cell(self, cells: list[str], field: str) -> str:
        index = self.columns.get(field)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def rejected(self, line_number: int, reason: str, cells: list[str], *, slot: int = 0) -> tuple:
        return (
            line_number * 2 + slot,
            line_number,
            "",
            "",
            "",
            reason,
            self.raw(cells),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        )

    def build(self, line_number: int, cells: list[str]) -> tuple[tuple | None, list[tuple]]:
        """(property tuple or None, contact entry tuples) for one row."""
        if len(cells) > self.width:
            reason = f"Has {len(cells)} cells but the header has {self.width}"
            return None, [self.rejected(line_number, reason, cells)]
        if self.propertyradar:
            return self._propertyradar(line_number, cells)
        return None, [self._generic(line_number, cells)]

    def _generic(self, line_number: int, cells: list[str]) -> tuple:
        raw_phone = self.cell(cells, "phone")
        if not raw_phone:
            return self.rejected(line_number, "No phone number", cells)
        phone = normalize_phone(raw_phone)
        if phone is None:
            return self.rejected(line_number, f"Not a valid phone number: {raw_phone[:40]!r}", cells)
        first, last = (
            display_name(self.cell(cells, "first_name"))[:100],
            display_name(self.cell(cells, "last_name"))[:100],
        )
        if not (first or last):
            first, last = split_name(self.cell(cells, "name"))
        return (
            line_number * 2, line_number, "", phone, "unknown", "", "",
            first, last, clean_email(self.cell(cells, "email")),
            display_name(self.cell(cells, "address"))[:255], display_name(self.cell(cells, "city"))[:100],
            clean_state(self.cell(cells, "state")), clean_zip(self.cell(cells, "zip_code")),
        )  # fmt: skip

    def _propertyradar(self, line_number: int, cells: list[str]) -> tuple[tuple | None, list[tuple]]:
        cell = self.cell
        address = " ".join(cell(cells, "address").split())
        city, zip_code = cell(cells, "city"), clean_zip(cell(cells, "zip_code"))
        apn = cell(cells, "apn")[:100]
        # The owner's mailing state is the house's state when they live there.
        state = clean_state(cell(cells, "mail_state")) if cell(cells, "mail_address").upper() == address.upper() else ""
        house = None
        if apn or address:
            house = (
                line_number, apn, address.upper()[:255], cell(cells, "property_type")[:50],
                display_name(address)[:255], display_name(city)[:100], state, zip_code,
                display_name(cell(cells, "subdivision"))[:255],
                _decimal(cell(cells, "longitude"), places=6, limit=1000),
                _decimal(cell(cells, "latitude"), places=6, limit=1000),
                _int(cell(cells, "year_built"), low=0, high=32767), _date(cell(cells, "purchase_date")),
                _int(cell(cells, "square_feet"), low=0, high=2**31 - 1), _int(cell(cells, "beds"), low=0, high=32767),
                _decimal(cell(cells, "baths"), places=1, limit=1000),
                _int(cell(cells, "estimated_value"), low=-(2**63), high=2**63 - 1),
                _int(cell(cells, "estimated_equity"), low=-(2**63), high=2**63 - 1),
                _decimal(cell(cells, "estimated_equity_percent"), places=2, limit=100000),
                cell(cells, "owner")[:255], display_name(cell(cells, "mail_address"))[:255],
                display_name(cell(cells, "mail_city"))[:100], clean_state(cell(cells, "mail_state")),
                clean_zip(cell(cells, "mail_zip_code")),
                _flag(cell(cells, "owner_occupied")), _flag(cell(cells, "listed_for_sale")),
                cell(cells, "listing_status")[:50], _flag(cell(cells, "foreclosure")),
                _flag(cell(cells, "high_equity")),
            )  # fmt: skip
        entries = []
        for slot, role in enumerate(("primary", "secondary")):
            raw_phone = cell(cells, f"{role}_phone")
            if not raw_phone:
                continue
            phone = normalize_phone(raw_phone)
            if phone is None:
                reason = f"{role.capitalize()} phone is not a valid number: {raw_phone[:40]!r}"
                entries.append(self.rejected(line_number, reason, cells, slot=slot))
                continue
            first, last = split_name(cell(cells, f"{role}_name"))
            entries.append((
                line_number * 2 + slot, line_number, role, phone, "mobile", "", "",
                first, last, clean_email(cell(cells, f"{role}_email")),
                display_name(address)[:255], display_name(city)[:100], state, zip_code,
            ))  # fmt: skip
        if not entries:
            stored = " (the property is stored)" if house else ""
            entries.append(self.rejected(line_number, f"No mobile phone{stored}", cells))
        return house, entries
