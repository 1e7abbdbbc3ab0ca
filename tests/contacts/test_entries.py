"""The staged-row builder's shortcuts give the same values as the careful path."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from contacts.importing.entries import _decimal, _int, plain_decimal, plain_int

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


@given(NUMBER_TEXT)
def test_an_integer_cell_staged_as_is_is_the_number_the_careful_path_gives(text):
    for low, high in ((0, 32767), (0, 2**31 - 1), (-(2**63), 2**63 - 1), (1900, 2100)):
        staged = plain_int(low=low, high=high)(text)
        expected = _int(text, low=low, high=high)
        assert (int(staged) if isinstance(staged, str) else staged) == expected
