"""Phone numbers: everything that enters the system is normalised to E.164 here."""

import phonenumbers

DEFAULT_REGION = "US"


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of ``raw`` (``+16175551234``), or None if it is not a valid number.

    Validity is ``phonenumbers``' (area code and exchange rules included), so a number that
    carriers would refuse never becomes a contact.
    """
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
