"""Phone numbers: everything that enters the system is normalised to E.164 here.

``phonenumbers`` is the authority on what is a valid number, but parsing, checking and formatting
cost ~70 µs a number, which dominates a million-row import. Plain NANP shapes (``617-555-0123``,
``6175550123``, ``+16175550123``, ``(617) 555-0123``) are first matched against one pattern built
at start-up from phonenumbers' own US metadata (under 1 µs); a number that pattern accepts is what
phonenumbers calls a valid US number. Everything else (other shapes, Canada, the Caribbean,
invalid numbers) is asked of phonenumbers itself. ``tests/contacts/test_phones.py`` checks the two
paths agree on random input with hypothesis.
"""

import re

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

DEFAULT_REGION = "US"
NANP_LENGTH = 10

_NANP_SHAPES = re.compile(r"(?:\+1)?(\d{10})|(\d{3})-(\d{3})-(\d{4})|\((\d{3})\) (\d{3})-(\d{4})")
_NUMBER_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail",
)  # fmt: skip


def normalize_phone(raw: str) -> str | None:
    """The E.164 form of ``raw`` (``+16175551234``), or None if it is not a valid number; a number
    written without a country code is read as a US one."""
    if shape := _NANP_SHAPES.fullmatch(raw):
        digits = "".join(group for group in shape.groups() if group)
        if _is_valid_us_number(digits):
            return f"+1{digits}"
    try:
        parsed = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _us_number_matcher():
    """One compiled pattern that matches exactly the ten-digit numbers phonenumbers calls valid US
    numbers, or None if the metadata is not shaped as this relies on.

    phonenumbers gives a +1 number the first NANP region whose patterns know it, and the US comes
    first with no leading-digits rule: a number matching the US general pattern and any US number
    type is therefore valid, in the US.
    """
    us = PhoneMetadata.metadata_for_region("US")
    if COUNTRY_CODE_TO_REGION_CODE[1][0] != "US" or us is None or us.leading_digits:
        return None

    def fits_ten_digits(desc) -> bool:
        lengths = desc.possible_length or ()
        return not lengths or lengths[0] == -1 or NANP_LENGTH in lengths

    if not fits_ten_digits(us.general_desc):
        return None
    kinds = [kind for kind in _NUMBER_TYPES if not (kind == "mobile" and us.same_mobile_and_fixed_line_pattern)]
    types = [
        f"(?:{desc.national_number_pattern})"
        for desc in (getattr(us, kind) for kind in kinds)
        if desc and desc.national_number_pattern and fits_ten_digits(desc)
    ]
    return re.compile(f"(?=(?:{us.general_desc.national_number_pattern})$)(?:{'|'.join(types)})").fullmatch


# Metadata not shaped as the pattern needs: every number is asked of phonenumbers, slower but exact.
_is_valid_us_number = _us_number_matcher() or (lambda digits: False)


# --- Who can receive a text from the business's US number ---------------------------------
# A registered (10DLC) US number texts US numbers. +1 also covers Canada and the Caribbean
# countries, which it does not reach; US territories (PR, VI, GU, MP, AS) are domestic. Written
# out rather than derived at run time so the database can compute it (Contact.not_textable_reason);
# tests/contacts/test_phones.py checks the tables against phonenumbers' metadata.
NON_US_AREA_CODES: dict[str, tuple[str, ...]] = {
    "Canada": (
        "204", "226", "236", "249", "250", "257", "263", "273", "289", "306", "343", "354", "365", "367", "368",
        "382", "403", "416", "418", "428", "431", "437", "438", "450", "468", "474", "506", "514", "519", "548",
        "579", "581", "584", "587", "600", "604", "613", "622", "633", "639", "647", "672", "683", "705", "709",
        "742", "753", "778", "780", "782", "807", "819", "825", "867", "873", "879", "902", "905", "942",
    ),
    "the Caribbean or Bermuda": (
        "242", "246", "264", "268", "284", "345", "441", "473", "649", "658", "664", "721", "758", "767", "784",
        "809", "829", "849", "868", "869", "876",
    ),
}  # fmt: skip
TOLL_FREE_AREA_CODES = ("800", "833", "844", "855", "866", "877", "888")
US_TERRITORIES = frozenset({"PR", "VI", "GU", "MP", "AS"})

NOT_TEXTABLE_LANDLINE = "Not a mobile number (landline)"
NOT_TEXTABLE_TOLL_FREE = "A toll-free number, which a business number cannot text"
NOT_TEXTABLE_OUTSIDE_US = "Not a US number"


def format_phone(phone: str) -> str:
    """How a stored number is shown: (617) 555-0123 for a North American number, else as stored."""
    if len(phone) == 12 and phone.startswith("+1"):
        return f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    return phone
