"""The staged-row builder: the decimal shortcut gives the same values as the careful path, and
names are read as the file writes them."""

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contacts.importing import pipeline
from contacts.importing.entries import _decimal, owner_name, plain_decimal, split_name
from contacts.importing.samples import write_propertyradar_csv
from contacts.models import Contact
from tests.contacts.csv_files import propertyradar_csv

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
    ("owner", "first", "last"),
    [
        ("O'BRIEN,BRIAN & PATRICIA", "Brian", "O'Brien"),
        ("SULLIVAN,MARY K", "Mary", "Sullivan"),
        ("MCCARTHY,SEAN & WALSH,LINDA", "Sean", "McCarthy"),
        ("DOYLE FAMILY TRUST", "", "Doyle Family Trust"),
        ("OBRIEN BRIAN", "", ""),  # not the documented form: no guess at which word is the first name
        (f"{'X' * 120},BRIAN", "", ""),  # too long to store: no name rather than a rejected row
        ("", "", ""),
    ],
)
def test_the_owner_cell_names_its_first_owner_family_name_first(owner, first, last):
    assert owner_name(owner) == (first, last)


@pytest.mark.django_db
def test_a_propertyradar_row_with_a_blank_primary_name_takes_the_first_owners_name():
    rows = [
        {"APN": "RAND-000098-B", "Address": "98 SEA ST", "City": "QUINCY", "ZIP": "02169",
         "Owner": "O'BRIEN,BRIAN & PATRICIA", "Primary Name": "", "Primary Mobile Phone1": "617-555-0198",
         "Primary Email1": "brian.obrien98@example.com",
         "Secondary Name": "", "Secondary Mobile Phone1": "617-555-0199"},
        {"APN": "RAND-000099-B", "Address": "99 SEA ST", "City": "QUINCY", "ZIP": "02169",
         "Owner": "KELLY,JOHN", "Primary Name": "MARY KELLY", "Primary Mobile Phone1": "617-555-0197"},
    ]  # fmt: skip

    report = pipeline.import_contacts(file=io.BytesIO(propertyradar_csv(rows)), file_name="list.csv")

    assert (report.entries_read, report.contacts_created, report.entries_rejected) == (3, 3, 0)
    names = dict(Contact.objects.values_list("phone", "first_name"))
    assert Contact.objects.get(phone="+16175550198").last_name == "O'Brien"
    # The named primary keeps her own name; a nameless secondary is not guessed to be the co-owner.
    assert names == {"+16175550198": "Brian", "+16175550197": "Mary", "+16175550199": ""}


@pytest.mark.parametrize(
    ("cell", "number"),
    [("1999", 1999), ("1,999", 1999), ("$2,500.9", 2500), ("-3", None), ("40000", None), ("1e999999999", None),
     ("NaN", None), ("Infinity", None), ("12abc", None), ("٣", 3)],
)  # fmt: skip
def test_a_whole_number_cell_is_read_within_its_column_range_without_building_huge_numbers(cell, number):
    from contacts.importing.entries import _int

    assert _int(cell, low=0, high=32767) == number


@pytest.mark.django_db
def test_a_generated_export_has_blank_primary_names_and_every_contact_gets_a_name():
    content = io.StringIO(newline="")
    write_propertyradar_csv(content, rows=400)
    rows = list(csv.DictReader(io.StringIO(content.getvalue())))
    assert any(row["Primary Name"] == "" and row["Primary Mobile Phone1"] for row in rows)

    pipeline.import_contacts(file=io.BytesIO(content.getvalue().encode()), file_name="list.csv")

    assert not Contact.objects.filter(first_name="", last_name="").exists()
