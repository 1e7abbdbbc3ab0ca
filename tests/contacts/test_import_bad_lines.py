"""A bad line of a file is rejected on its own, with its line number and why, or the whole file is
refused naming the line: never merged into the lines around it, dropped, or cut to fit."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.importing import BadFile, entries, pipeline
from contacts.models import Contact, ContactImport, Property
from tests.contacts.csv_files import contacts_csv, hundred_contacts, propertyradar_csv
from tests.contacts.test_import_pipeline import HOUSEHOLDS

pytestmark = pytest.mark.django_db

HUNDRED_PHONES = {f"+1617555{1000 + i:04d}" for i in range(100)}


def run_import(content: bytes) -> ContactImport:
    return pipeline.import_contacts(file=io.BytesIO(content), file_name="list.csv")


def hundred_contacts_with(line_number: int, text: str) -> bytes:
    """The hundred contacts (header on line 1, Person0 on line 2), with one line written as ``text``."""
    lines = hundred_contacts().decode().split("\n")
    lines[line_number - 1] = text
    return "\n".join(lines).encode()


def person(line_number: int) -> tuple[str, str]:
    """The phone cell and the phone stored for the hundred contacts' line ``line_number``."""
    return f"617-555-{line_number + 998:04d}", f"+1617555{line_number + 998:04d}"


def stored_phones() -> set[str]:
    return set(Contact.objects.values_list("phone", flat=True))


def assert_only_line_rejected(report: ContactImport, line_number: int, reason: str) -> None:
    assert report.status == ContactImport.Status.COMPLETED
    assert list(report.rejections.values_list("line_number", "reason")) == [(line_number, reason)]
    assert report.entries_rejected == 1


# An unclosed quote


@pytest.mark.parametrize(
    ("line_number", "column"),
    [
        (2, "phone"),
        (42, "first_name"),
        (42, "last_name"),
        (42, "email"),
        (100, "first_name"),
        (101, "first_name"),
        (101, "email"),
    ],
)
def test_a_quote_left_open_rejects_its_line_and_every_other_line_is_imported(line_number, column):
    phone, stored = person(line_number)
    cells = [phone, f"Person{line_number - 2}", "Test", f"p{line_number - 2}@example.com"]
    at = ["phone", "first_name", "last_name", "email"].index(column)
    cells[at] = '"' + cells[at]
    text = ",".join(cells)

    report = run_import(hundred_contacts_with(line_number, text))

    # A quote left open on the last line has no line left to swallow.
    swallowed = {
        2: ": it would swallow lines 3-101",
        42: ": it would swallow lines 43-101",
        100: ": it would swallow line 101",
    }
    end = swallowed.get(line_number, "")
    assert_only_line_rejected(report, line_number, f"A quote opened in '{column}' is never closed{end}")
    assert report.rejections.get().raw == text
    assert report.rows_read == 100
    assert (report.entries_read, report.contacts_created) == (100, 99)
    assert stored_phones() == HUNDRED_PHONES - {stored}


def test_a_quote_left_open_until_a_quoted_cell_further_down_takes_only_its_own_line():
    content = hundred_contacts_with(42, '617-555-1040,"Person40,Test,p40@example.com').replace(
        b"617-555-1058,Person58,Test,", b'617-555-1058,Person58,"Smith, Jr",'
    )

    report = run_import(content)

    assert_only_line_rejected(
        report, 42, "A quote opened in 'first_name' is never closed: it would swallow lines 43-60"
    )
    assert (report.rows_read, report.contacts_created) == (100, 99)
    assert Contact.objects.get(phone="+16175551058").last_name == "Smith, Jr"
    assert Contact.objects.get(phone="+16175551041").first_name == "Person41"


def test_a_quote_left_open_just_before_a_line_that_quotes_the_same_cell_is_not_merged_with_it():
    # Read as written, the two lines make one row of the header's width: the quote on line 42 ends
    # at line 43's first quote.
    content = hundred_contacts_with(42, '617-555-1040,"Person40,Test,p40@example.com').replace(
        b"617-555-1041,Person41,", b'617-555-1041,"Person41",'
    )

    report = run_import(content)

    assert_only_line_rejected(report, 42, "A quote opened in 'first_name' is never closed: it would swallow line 43")
    assert Contact.objects.get(phone="+16175551041").first_name == "Person41"
    assert (report.rows_read, report.contacts_created) == (100, 99)


@pytest.mark.parametrize(
    ("header", "lines"),
    [
        ("phone,name,address", ['617-555-0101,Mary Sullivan,"12 Elm St', '617-555-0102,John Walsh,"14 Oak St{}Apt 3"']),
        ("phone,address,name", ['617-555-0101,12 Elm St,"Mary Sullivan', '617-555-0102,"14 Oak St{}Apt 3",John Walsh']),
    ],
    ids=["same-column", "earlier-column"],
)
def test_a_quote_left_open_just_before_a_real_address_over_two_lines_leaves_that_address_whole(header, lines):
    # Read as written, the quote on line 2 ends at the one that opens the address on line 3.
    reason = f"A quote opened in '{header.split(',')[2]}' is never closed: it would swallow line 3"
    ann = {"phone": "617-555-0103", "name": "Ann Kelly", "address": "9 Sea St"}
    content = "\n".join([header, lines[0], lines[1].format("\n"), ",".join(ann[c] for c in header.split(",")), ""])

    report = run_import(content.encode())

    assert_only_line_rejected(report, 2, reason)
    assert report.rows_read == 3
    assert dict(Contact.objects.values_list("phone", "address")) == {
        "+16175550102": "14 Oak St Apt 3",
        "+16175550103": "9 Sea St",
    }


def test_a_quote_left_open_that_outgrows_the_largest_cell_rejects_its_line_not_the_file():
    rows = [
        [f"617-{200 + i // 10000:03d}-{i % 10000:04d}", "Mary", "Sullivan", f"mary{i}@example.com"] for i in range(3000)
    ]
    lines = contacts_csv(["phone", "first_name", "last_name", "email"], rows).decode().split("\n")
    lines[1] = lines[1].replace(",Mary,", ',"Mary,')

    report = run_import("\n".join(lines).encode())

    [rejection] = report.rejections.all()
    assert rejection.line_number == 2
    assert rejection.reason.startswith("A quote opened in 'first_name' is never closed: it would swallow lines 3-")
    assert (report.rows_read, report.contacts_created) == (3000, 2999)


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize(
    ("header", "row", "address"),
    [
        ("phone,address,city", '617-555-0101,"12 Elm St{end}Apt 3",Quincy', "12 Elm St Apt 3"),
        ("address,phone,city", '"12 Elm St{end}Apt 3",617-555-0101,Quincy', "12 Elm St Apt 3"),
        ("phone,city,address", '617-555-0101,Quincy,"12 Elm St{end}Apt 3{end}Rear door"', "12 Elm St Apt 3 Rear door"),
        ("phone,city,address", '617-555-0101,Quincy,"12 Elm St, Apt 3{end}Rear"', "12 Elm St, Apt 3 Rear"),
    ],
    ids=["middle", "first", "last-three-lines", "comma"],
)
def test_an_address_typed_over_several_lines_in_a_quoted_cell_is_one_contact(header, row, address, line_end):
    another = {"phone": "617-555-0102", "address": "9 Sea St", "city": "Milton"}
    another_row = ",".join(another[column] for column in header.split(","))
    content = line_end.join([header, row.format(end=line_end), another_row, ""]).encode()

    report = run_import(content)

    assert (report.rows_read, report.contacts_created, report.entries_rejected) == (2, 2, 0)
    mary = Contact.objects.get(phone="+16175550101")
    assert (mary.address, mary.city) == (address, "Quincy")
    assert Contact.objects.get(phone="+16175550102").address == "9 Sea St"


def test_notes_over_two_lines_whose_second_reads_as_a_row_are_rejected_whole_never_read_as_a_contact():
    """A well-formed cell whose second line happens to read as a row of its own (a tenant's name
    and number in the notes) could as well be a quote left open and closed by a later one: the two
    lines are rejected together, named; nobody in the notes becomes a contact."""
    content = b'name,phone,notes\nAnn,6175550101,"call first\nMary (tenant),6175550199,evenings"\nJoe,6175550102,\n'

    report = run_import(content)

    assert (report.rows_read, report.contacts_created, report.entries_rejected) == (2, 1, 1)
    assert stored_phones() == {"+16175550102"}
    rejection = report.rejections.get()
    assert rejection.line_number == 2
    assert rejection.reason.startswith("Lines 2-3 read as one row whose quoted cell holds a line that is a row")
    assert "Mary (tenant)" in rejection.raw


def test_a_header_that_leaves_a_quote_open_refuses_the_file_naming_line_1():
    content = b'phone,"first_name,last_name\n617-555-0101,Mary,Sullivan\n617-555-0102,"John",Walsh\n'

    with pytest.raises(BadFile, match="^Line 1, the header, cannot be read: a quote opened in it is not closed"):
        run_import(content)

    assert not ContactImport.objects.exists()
    assert not Contact.objects.exists()


# A line with too few cells


def test_a_line_with_too_few_cells_is_rejected_naming_the_counts():
    report = run_import(hundred_contacts_with(42, "617-555-1040,Person40"))

    assert_only_line_rejected(report, 42, "Has 2 cells but the header has 4")
    assert report.rejections.get().raw == "617-555-1040,Person40"
    assert (report.rows_read, report.contacts_created) == (100, 99)
    assert "+16175551040" not in stored_phones()


def test_a_row_over_several_lines_with_a_cell_missing_is_one_line_rejected_for_its_cells():
    content = b'phone,city,address,zip\n617-555-0101,Quincy,"12 Elm St\nApt 3"\n617-555-0102,Milton,9 Sea St,02186\n'

    report = run_import(content)

    assert_only_line_rejected(report, 2, "Has 3 cells but the header has 4")
    assert (report.rows_read, report.contacts_created) == (2, 1)


def test_a_last_line_of_one_cell_is_rejected_unless_it_is_propertyradars_licence():
    report = run_import(hundred_contacts_with(101, "617-555-1099"))

    assert_only_line_rejected(report, 101, "Has 1 cell but the header has 4")
    assert (report.rows_read, report.footer_rows_skipped, report.contacts_created) == (100, 0, 99)


def test_propertyradars_licence_on_the_last_line_is_still_skipped_and_counted_as_the_footer():
    report = run_import(propertyradar_csv(HOUSEHOLDS))

    assert (report.rows_read, report.footer_rows_skipped, report.entries_rejected) == (6, 1, 2)
    assert not report.rejections.filter(reason__startswith="Has ").exists()


def test_a_propertyradar_line_with_too_few_cells_is_rejected_and_its_house_not_stored():
    content = propertyradar_csv(HOUSEHOLDS).decode().split("\r\n")
    content[2] = ",".join(content[2].split(",")[:30])

    report = run_import("\r\n".join(content).encode())

    assert (3, "Has 30 cells but the header has 39") in report.rejections.values_list("line_number", "reason")
    assert not Property.objects.filter(apn="RAND-000002-B").exists()
    assert (report.rows_read, report.properties_created) == (6, 4)


def test_blank_lines_are_skipped_and_not_counted_as_data_lines():
    content = b"phone,first_name\n617-555-0101,Mary\n\n,\n\r\n617-555-0102,John\n\n"

    report = run_import(content)

    assert (report.rows_read, report.contacts_created, report.entries_rejected) == (2, 2, 0)


# A cell longer than the field it is stored in


@pytest.mark.parametrize(
    ("header", "cell", "reason"),
    [
        ("first_name", "A" * 101, "'first_name' is 101 characters; at most 100 fit"),
        ("Last Name", "b" * 143, "'Last Name' is 143 characters; at most 100 fit"),
        ("name", "MARY " + "S" * 101, "The last name in 'name' is 101 characters; at most 100 fit"),
        ("name", "M" * 101 + " SULLIVAN", "The first name in 'name' is 101 characters; at most 100 fit"),
        ("email", "m" * 250 + "@x.com", "'email' is 256 characters; at most 254 fit"),
        ("address", "1" * 256, "'address' is 256 characters; at most 255 fit"),
        ("city", "Q" * 101, "'city' is 101 characters; at most 100 fit"),
        ("zip", "02169-1234-5", "'zip' is 12 characters; at most 10 fit"),
    ],
)
def test_a_contact_csv_cell_too_long_for_its_field_rejects_its_line_naming_the_column_and_limit(header, cell, reason):
    rows = [["617-555-0101", "Mary"], ["617-555-0102", cell], ["617-555-0103", "Ann"]]

    report = run_import(contacts_csv(["phone", header], rows))

    assert_only_line_rejected(report, 3, reason)
    assert (report.rows_read, report.contacts_created) == (3, 2)
    assert stored_phones() == {"+16175550101", "+16175550103"}


@pytest.mark.parametrize(
    ("column", "cell", "reason"),
    [
        ("Address", "12 " + "E" * 253, "'Address' is 256 characters; at most 255 fit"),
        ("City", "Q" * 101, "'City' is 101 characters; at most 100 fit"),
        ("ZIP", "02169-123456", "'ZIP' is 12 characters; at most 10 fit"),
        ("APN", "R" * 101, "'APN' is 101 characters; at most 100 fit"),
        ("Type", "S" * 51, "'Type' is 51 characters; at most 50 fit"),
        ("Subdivision", "S" * 256, "'Subdivision' is 256 characters; at most 255 fit"),
        ("Owner", "O" * 256, "'Owner' is 256 characters; at most 255 fit"),
        ("Mail Address", "M" * 256, "'Mail Address' is 256 characters; at most 255 fit"),
        ("Mail City", "M" * 101, "'Mail City' is 101 characters; at most 100 fit"),
        ("Mail ZIP", "02169-123456", "'Mail ZIP' is 12 characters; at most 10 fit"),
        ("Listing Status", "L" * 51, "'Listing Status' is 51 characters; at most 50 fit"),
        ("Primary Name", "MARY " + "S" * 101, "The last name in 'Primary Name' is 101 characters; at most 100 fit"),
        (
            "Secondary Name",
            "J" * 101 + " WALSH",
            "The first name in 'Secondary Name' is 101 characters; at most 100 fit",
        ),
        ("Primary Email1", "m" * 250 + "@x.com", "'Primary Email1' is 256 characters; at most 254 fit"),
        ("Secondary Email1", "j" * 250 + "@x.com", "'Secondary Email1' is 256 characters; at most 254 fit"),
    ],
)
def test_a_propertyradar_cell_too_long_for_its_field_rejects_its_line_and_stores_nothing_of_it(column, cell, reason):
    house = {"APN": "RAND-000007-B", "Address": "7 ELM ST", "City": "QUINCY", "ZIP": "02169",
             "Primary Name": "MARY SULLIVAN", "Primary Mobile Phone1": "617-555-0107",
             "Secondary Name": "JOHN WALSH", "Secondary Mobile Phone1": "617-555-0108"}  # fmt: skip

    report = run_import(propertyradar_csv([*HOUSEHOLDS, {**house, column: cell}]))

    assert (7, reason) in report.rejections.values_list("line_number", "reason")
    assert (report.rows_read, report.entries_rejected) == (7, 3)
    assert not Property.objects.filter(apn__in=["RAND-000007-B", "R" * 100]).exists()
    assert Property.objects.count() == 5
    assert not {"+16175550107", "+16175550108"} & stored_phones()


def test_a_cell_exactly_as_long_as_its_field_is_stored_whole():
    first, email, address = "Ab" * 50, "m" * 248 + "@x.com", "1" * 255

    run_import(contacts_csv(["phone", "first_name", "email", "address"], [["617-555-0101", first, email, address]]))

    stored = Contact.objects.get()
    assert (stored.first_name, stored.email, stored.address) == (first, email, address)


def test_the_limits_a_value_is_checked_against_are_the_stored_fields():
    stored = {}
    for model in (Contact, Property):
        for field in model._meta.concrete_fields:
            stored.setdefault(field.name, set()).add(field.max_length)

    assert {name: stored[name] for name in entries.MAX_LENGTHS} == {
        name: {limit} for name, limit in entries.MAX_LENGTHS.items()
    }


def test_a_reason_quoting_an_unprintable_phone_still_fits_the_rejections_table():
    report = run_import(contacts_csv(["phone", "first_name"], [["\U000e0001" * 40, "Mary"], ["617-555-0101", "Ann"]]))

    [rejection] = report.rejections.all()
    assert rejection.reason.startswith("Not a valid phone number: '\\U000e0001")
    assert len(rejection.reason) <= 255
    assert report.contacts_created == 1


# Through the API


def test_the_api_reports_and_lists_the_line_whose_quote_was_left_open(api_client):
    text = '617-555-1040,"Person40,Test,p40@example.com'
    upload = SimpleUploadedFile("contacts.csv", hundred_contacts_with(42, text), content_type="text/csv")

    report = api_client.post("/api/import/csv", {"file": upload}, format="multipart").json()
    download = api_client.get(report["rejections_url"])

    assert (report["status"], report["rows_read"], report["imported"], report["entries_rejected"]) == (
        "completed", 100, 99, 1,
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    # The line as written, read cell by cell: the quote left open holds the rest of the line.
    assert rows[1] == [
        "42", "A quote opened in 'first_name' is never closed: it would swallow lines 43-101",
        "617-555-1040", "Person40,Test,p40@example.com",
    ]  # fmt: skip
    assert Contact.objects.count() == 99 == ContactImport.objects.get().contacts_created


def test_a_file_refused_for_a_line_is_422_naming_that_line(api_client):
    upload = SimpleUploadedFile("contacts.csv", b"phone\n617-555-0101\n" + b"6" * 200_000 + b"\n")

    response = api_client.post("/api/import/csv", {"file": upload}, format="multipart")

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("Line 3 cannot be read as CSV")
    assert not Contact.objects.exists()
