"""The staged-row builder's decimal shortcut gives the same values as the careful path."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.importing.entries import _decimal, plain_decimal, split_name

NUMBER_TEXT = st.one_of(
    st.text(alphabet="0123456789-.,$% e", max_size=14),
    st.from_regex(r"-?\d{1,7}(\.\d{1,8})?", fullmatch=True),
)


@given(NUMBER_TEXT)
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
