"""The fast path for plain NANP shapes gives exactly what phonenumbers gives."""

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contacts import phones
from contacts.phones import normalize_phone


def by_phonenumbers(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


ten_digits = st.text(alphabet="0123456789", min_size=10, max_size=10)
nanp_shapes = st.one_of(
    ten_digits,
    ten_digits.map(lambda d: f"+1{d}"),
    ten_digits.map(lambda d: f"{d[:3]}-{d[3:6]}-{d[6:]}"),
    ten_digits.map(lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}"),
)
# Real-looking numbers: the area codes in PropertyRadar files, then any exchange and line.
boston_numbers = st.builds(
    lambda area, rest: f"{area}-{rest[:3]}-{rest[3:]}",
    st.sampled_from(["617", "781", "339", "857", "508", "774", "978", "213", "305", "405", "809", "876"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
)
near_shapes = st.text(alphabet="0123456789+-() .x", min_size=0, max_size=16)


@settings(max_examples=3000, deadline=None)
@given(raw=st.one_of(nanp_shapes, boston_numbers, near_shapes))
@example(raw="617-555-0123")
@example(raw="1617555012")
@example(raw="+18095550123")  # Dominican Republic: a NANP region of its own
@example(raw="(800) 555-0100")
@example(raw="(416) 555-0123")  # Toronto: Canada, after the US in phonenumbers' order
@example(raw="900-555-0123")  # premium rate: a US number type of its own
def test_fast_path_agrees_with_phonenumbers(raw):
    assert normalize_phone(raw) == by_phonenumbers(raw)


@settings(max_examples=300, deadline=None)
@given(raw=st.text(max_size=30))
def test_any_text_agrees_with_phonenumbers(raw):
    assert normalize_phone(raw) == by_phonenumbers(raw)


def test_us_numbers_are_judged_without_a_full_phonenumbers_parse():
    # The metadata is shaped as the shortcut needs; if an upgrade changes that, this says so.
    assert phones._us_number_matcher() is not None
    assert phones._is_valid_us_number("6175550123")
    assert not phones._is_valid_us_number("4165550123")  # Canada's, so phonenumbers decides


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("617-555-0123", "+16175550123"),
        ("(617) 555-0123", "+16175550123"),
        ("+1 617 555 0123", "+16175550123"),
        ("1-617-555-0123", "+16175550123"),
        ("617-155-0123", None),  # exchanges never start with 1
        ("123-456-7890", None),
        ("", None),
        ("not a phone", None),
    ],
)
def test_examples(raw, expected):
    assert normalize_phone(raw) == expected


def region_of_area_code(area_code: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{area_code}5550123"))


def test_the_area_code_tables_are_phonenumbers_own():
    # Every +1 area code outside the US and its territories is listed, and nothing else is.
    outside = {
        str(code)
        for code in range(200, 1000)
        if region_of_area_code(str(code)) not in (None, "US", *phones.US_TERRITORIES)
    }
    assert {code for codes in phones.NON_US_AREA_CODES.values() for code in codes} == outside
    toll_free = {
        str(code)
        for code in range(200, 1000)
        if phonenumbers.number_type(phonenumbers.parse(f"+1{code}5550123")) == phonenumbers.PhoneNumberType.TOLL_FREE
    }
    assert set(phones.TOLL_FREE_AREA_CODES) == toll_free


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "line_type", "reason"),
    [
        ("+16175550123", "mobile", ""),
        ("+17875550123", "unknown", ""),  # Puerto Rico is domestic
        ("+16175550123", "landline", "Not a mobile number (landline)"),
        ("+18885550123", "unknown", "A toll-free number, which a business number cannot text"),
        ("+14165550123", "mobile", "Not a US number (Canada)"),
        ("+18765550123", "mobile", "Not a US number (the Caribbean or Bermuda)"),
        ("+447911123456", "mobile", "Not a US number"),
    ],
)
def test_the_database_marks_each_number_the_business_cannot_text(phone, line_type, reason):
    from contacts.models import Contact

    contact = Contact.objects.create(phone=phone, line_type=line_type)

    assert Contact.objects.get(pk=contact.pk).not_textable_reason == reason


@pytest.mark.parametrize(("stored", "shown"), [("+16175550123", "(617) 555-0123"), ("+447911123456", "+447911123456")])
def test_numbers_are_shown_the_way_people_write_them(stored, shown):
    assert phones.format_phone(stored) == shown
