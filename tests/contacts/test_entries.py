"""The staged-row builder's decimal shortcut gives the same values as the careful path."""

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contacts.importing.entries import _decimal, plain_decimal, split_name

NUMBER_TEXT = st.one_of(
    st.text(alphabet="0123456789-.,$% e", max_size=14),
    st.from_regex(r"-?\d{1,7}(\.\d{1,8})?", fullmatch=True),
)


@given(NUMBER_TEXT)
@example("1e1000000")  # past the decimal context's largest exponent: refused, not an Overflow
def test_a_decimal_cell_staged_as_is_is_the_number_the_careful_path_gives(text):
    for places, limit in ((6, 1000), (1, 1000), (2, 100000)):
        staged = plain_decimal(places=places, limit=limit)(text)
        expected = _decimal(text, places=places, limit=limit)
        # A string is parsed by the database as it stands: the same number, no rounding needed.
        assert (Decimal(staged) if isinstance(staged, str) else staged) == expected


@pytest.mark.parametrize(
    ("written", "first", "last"),
    [
        ("MARY SULLIVAN", "Mary", "Sullivan"),
        ("Sullivan, Mary", "Mary", "Sullivan"),
        ("SULLIVAN,MARY K", "Mary", "Sullivan"),
        ("O'BRIEN, SEAN P.", "Sean", "O'Brien"),
        ("LEE, MARY ANN", "Mary Ann", "Lee"),
        ("Sullivan,", "", "Sullivan"),
        ("SMITH FAMILY TRUST, THE", "", "Smith Family Trust, The"),
    ],
)
def test_a_name_written_family_name_first_is_split_at_its_comma(written, first, last):
    assert split_name(written) == (first, last)


@pytest.mark.parametrize(
    ("cell", "number"),
    [("1999", 1999), ("1,999", 1999), ("$2,500.9", 2500), ("-3", None), ("40000", None), ("1e999999999", None),
     ("NaN", None), ("Infinity", None), ("12abc", None), ("٣", 3)],
)  # fmt: skip
def test_a_whole_number_cell_is_read_within_its_column_range_without_building_huge_numbers(cell, number):
    from contacts.importing.entries import _int

    assert _int(cell, low=0, high=32767) == number
