"""Phone numbers: everything that enters the system is normalised to E.164 here.

``phonenumbers`` is the authority on what is a valid number, but parsing costs ~20 µs a number,
which dominates a million-row import. Plain NANP shapes (``617-555-0123``, ``6175550123``,
``+16175550123``, ``(617) 555-0123``) take a fast path that gives exactly ``phonenumbers``'
answer: for +1 numbers its validity rules only look at the first few digits (area code,
exchange, sometimes one more), so one real ``phonenumbers`` verdict per distinct prefix is
cached and reused. How many digits matter is read off the installed metadata's patterns when
this module loads, never assumed; if any pattern is beyond that reading, the cache is keyed on
the whole number, which is still exact. ``tests/contacts/test_phones.py`` checks the two paths
agree on random input with hypothesis.
"""

import re
import re._parser as sre_parse  # the stdlib's own regex parser: read-only use on metadata patterns
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

DEFAULT_REGION = "US"
NANP_LENGTH = 10

_FAST_SHAPES = re.compile(r"(?:\+1)?(\d{10})|(\d{3})-(\d{3})-(\d{4})|\((\d{3})\) (\d{3})-(\d{4})")
_ALL_DIGITS = frozenset(range(ord("0"), ord("9") + 1))
_NUMBER_TYPES = (
    "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail",
)  # fmt: skip


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of ``raw`` (``+16175551234``), or None if it is not a valid number."""
    if region == DEFAULT_REGION and (shape := _FAST_SHAPES.fullmatch(raw)):
        digits = "".join(group for group in shape.groups() if group)
        if digits[0] in "23456789":
            return f"+1{digits}" if _nanp_prefix_is_valid(digits[:SIGNIFICANT_DIGITS]) else None
    return _normalize_with_phonenumbers(raw, region)


def _normalize_with_phonenumbers(raw: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _significance(parsed: list) -> tuple[int, int] | None:
    """(length, how many leading characters decide a match) of a parsed fixed-length pattern."""
    length = significant = 0
    for op, arg in parsed:
        name = str(op)
        if name == "AT":
            continue
        if name == "LITERAL":
            part = (1, 1)
        elif name == "IN":
            members = set()
            for item_op, item in arg:
                if str(item_op) == "LITERAL":
                    members.add(item)
                elif str(item_op) == "RANGE":
                    members |= set(range(item[0], item[1] + 1))
                elif str(item_op) == "CATEGORY" and str(item) == "CATEGORY_DIGIT":
                    members |= _ALL_DIGITS
                else:
                    return None
            part = (1, 0 if members >= _ALL_DIGITS else 1)
        elif name == "SUBPATTERN":
            part = _significance(arg[3])
        elif name == "BRANCH":
            branches = [_significance(branch) for branch in arg[1]]
            if None in branches or len({b[0] for b in branches}) != 1:
                return None
            part = (branches[0][0], max(b[1] for b in branches))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, body = arg
            inner = _significance(body)
            if inner is None or low != high:
                return None
            part = (inner[0] * low, inner[0] * low if inner[1] else 0)
        else:
            return None
        if part is None:
            return None
        if part[1]:
            significant = length + part[1]
        length += part[0]
    return length, significant


def _longest_match(parsed: list) -> int | None:
    """The most characters a match of a parsed pattern can span (None: unbounded or unknown)."""
    total = 0
    for op, arg in parsed:
        name = str(op)
        if name == "AT":
            continue
        if name in ("LITERAL", "IN"):
            span = 1
        elif name == "SUBPATTERN":
            span = _longest_match(arg[3])
        elif name == "BRANCH":
            spans = [_longest_match(branch) for branch in arg[1]]
            span = None if None in spans else max(spans)
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and arg[1] != sre_parse.MAXREPEAT:
            inner = _longest_match(arg[2])
            span = None if inner is None else inner * arg[1]
        else:
            return None
        if span is None:
            return None
        total += span
    return total


def _deciding_digits(pattern: str, *, prefix_match: bool) -> int:
    """How many leading digits of a ten-digit number decide whether ``pattern`` matches it."""
    parsed = sre_parse.parse(pattern)
    if prefix_match:
        # A prefix match reads no further than its longest possible match.
        return min(_longest_match(parsed) or NANP_LENGTH, NANP_LENGTH)
    top_level_branch = len(parsed) == 1 and str(parsed[0][0]) == "BRANCH"
    deciding = 0
    for alternative in parsed[0][1][1] if top_level_branch else [parsed]:
        result = _significance(alternative)
        if result is None:
            return NANP_LENGTH
        length, significant = result
        if length == NANP_LENGTH:
            deciding = max(deciding, significant)
        # A full match of any other length never matches a ten-digit number.
    return deciding


def _digits_deciding_nanp_validity() -> int:
    deciding = 0
    for region in COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        for kind in _NUMBER_TYPES:
            desc = getattr(metadata, kind)
            if desc and desc.national_number_pattern:
                deciding = max(deciding, _deciding_digits(desc.national_number_pattern, prefix_match=False))
        if metadata.leading_digits:
            deciding = max(deciding, _deciding_digits(metadata.leading_digits, prefix_match=True))
    return deciding


SIGNIFICANT_DIGITS = _digits_deciding_nanp_validity()


def _us_number_matcher():
    """One compiled pattern that matches exactly the ten-digit numbers phonenumbers calls valid US
    numbers, or None if the metadata is not shaped as this relies on.

    phonenumbers gives a +1 number the first NANP region whose patterns know it, and the US comes
    first with no leading-digits rule: a number matching the US general pattern and any US number
    type is therefore valid, in the US. Anything else (Canada, the Caribbean, invalid numbers) is
    left to phonenumbers itself. Saves ~40 µs per new prefix, nearly every phone of a small file.
    """
    us = PhoneMetadata.metadata_for_region("US")
    if COUNTRY_CODE_TO_REGION_CODE[1][0] != "US" or us is None or us.leading_digits:
        return None

    def fits_ten_digits(desc) -> bool:
        lengths = desc.possible_length or ()
        return not lengths or lengths[0] == -1 or NANP_LENGTH in lengths

    if not fits_ten_digits(us.general_desc):
        return None
    kinds = [kind for kind in _NUMBER_TYPES[1:] if not (kind == "mobile" and us.same_mobile_and_fixed_line_pattern)]
    types = [
        f"(?:{desc.national_number_pattern})"
        for desc in (getattr(us, kind) for kind in kinds)
        if desc and desc.national_number_pattern and fits_ten_digits(desc)
    ]
    return re.compile(f"(?=(?:{us.general_desc.national_number_pattern})$)(?:{'|'.join(types)})").fullmatch


_valid_us_number = _us_number_matcher()


@lru_cache(maxsize=None if SIGNIFICANT_DIGITS < NANP_LENGTH else 65536)
def _nanp_prefix_is_valid(prefix: str) -> bool:
    # Any completion of the prefix gets the same verdict; zeros are as good as any digits.
    digits = prefix.ljust(NANP_LENGTH, "0")
    if _valid_us_number is not None and _valid_us_number(digits):
        return True
    return phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1, national_number=int(digits)))


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
