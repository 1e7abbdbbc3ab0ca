"""Hypothesis-made files through the import: never a 5xx, never a partial write, the counts always
reconcile with what was stored, and one bad line in a good file costs that line and no other."""

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contacts.importing import pipeline
from contacts.models import Contact, ContactImport, Property

# no_cover: untraced, as tests/tracing.py says.
pytestmark = pytest.mark.no_cover

HEADERS = ["phone", "Phone Number", "mobile", "First Name", "first_name", "Last Name", "name", "email", "address",
           "city", "state", "zip", "Notes", "", "phone", "consent", "Consent Date", "consent_source",
           "Consent Text"]  # fmt: skip
PROPERTYRADAR = (
    "Type,Address,City,ZIP,Subdivision,Longitude,Latitude,APN,Yr Built,Purchase Date,Purchase Mos Since,"
    "Sq Ft,Beds,Baths,Est Value,Est Equity $,Owner,Mail Address,Mail City,Mail State,Mail ZIP,Owner Occ?,"
    "Listed for Sale?,Listing Status,Foreclosure?,Est Equity %,High Equity?,Primary Name,Primary Mobile Phone1,"
    "Primary Mobile 1 Status,Primary Email1,Primary Email 1 Status,Primary Email1 Hash,Secondary Name,"
    "Secondary Mobile Phone1,Secondary Mobile 1 Status,Secondary Email1,Secondary Email 1 Status,Secondary Email1 Hash"
)
cells = st.one_of(
    st.sampled_from(
        [
            "(617) 555-0123",
            "617.555.0124",
            "+1 617 555 0125",
            "12",
            "",
            "MARY SULLIVAN",
            "Quincy",
            "02169",
            "=cmd|' /C calc'!A0",
            "José Ñúñez",
            "a,b",
            'say "hi"',
            "line\nbreak",
            "  ",
            "written",
            "Customer",
            "inquiry",
            "2025-03-04",
            "3/4/2025",
            "2099-01-01",
        ]
    ),  # fmt: skip
    st.text(max_size=30),
    st.text(min_size=2000, max_size=5000, alphabet="x"),
)


@st.composite
def csv_files(draw) -> bytes:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.sampled_from([PROPERTYRADAR.split(","), *[draw(st.lists(st.sampled_from(HEADERS), min_size=1,
                                                                              max_size=8))]]))  # fmt: skip
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 2), max_size=15))

    def quote(cell: str) -> str:
        if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(delimiter.join(quote(c) for c in row) for row in [header, *rows]) + newline
    if draw(st.booleans()):  # a quote left open somewhere after the header
        at = draw(st.integers(text.index(newline) + 1, len(text)))
        text = text[:at] + '"' + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        junk = draw(st.binary(max_size=64))
        at = draw(st.integers(0, len(data)))
        data = data[:at] + junk + data[at:]
    return data


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=csv_files())
def test_any_file_is_a_clear_answer_and_what_is_reported_is_what_is_stored(api_client, data):
    with transaction.atomic():
        contacts_before, properties_before = Contact.objects.count(), Property.objects.count()

        response = api_client.post("/api/import/csv", {"file": io.BytesIO(data)}, format="multipart")

        assert response.status_code in (200, 422), response.content[:300]
        event(f"answered {response.status_code}")
        if response.status_code == 422:
            assert response.json()["detail"][0]["loc"][:2] == ["body", "file"]
            assert Contact.objects.count() == contacts_before
            assert Property.objects.count() == properties_before
        else:
            report = response.json()
            stored = ContactImport.objects.get(pk=report["id"])
            assert report["imported"] == stored.contacts_created
            assert stored.entries_read == (
                stored.contacts_created + stored.contacts_updated + stored.contacts_unchanged
                + stored.duplicates_folded + stored.entries_rejected
            )  # fmt: skip
            assert Contact.objects.count() == contacts_before + stored.contacts_created
            assert Property.objects.count() == properties_before + stored.properties_created
            assert stored.rejections.count() <= stored.entries_rejected + stored.rows_read
            # Each record starts on a line of its own: never more of them than lines after the header.
            assert stored.rows_read <= data.count(b"\n") + data.count(b"\r")
        transaction.set_rollback(True)


GOOD_HEADER = ["phone", "first_name", "last_name", "email", "address", "city"]
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'-", max_size=12)
# Commas and quotes get a cell quoted. (Not a cell that starts with the delimiter: the quote opening
# it can end a quote left open earlier as a well-formed closing quote would, and nothing then tells
# the two apart.)
name_cells = st.one_of(
    words, words.filter(str.strip).map(lambda word: f"{word}, Jr"), words.map(lambda w: f'{w} "Bud"')
)
# An address typed over two or three lines with Alt+Enter.
address_cells = st.one_of(
    words, st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz 0123456789", min_size=1, max_size=12), min_size=2,
                    max_size=3).map("\n".join),
)  # fmt: skip
FAULTS = ["none", "open_quote", "too_few", "too_many", "too_long"]
TOO_LONG = {
    "first_name": ("a" * 101, "'first_name' is 101 characters; at most 100 fit"),
    "last_name": ("b" * 101, "'last_name' is 101 characters; at most 100 fit"),
    "address": ("1" * 256, "'address' is 256 characters; at most 255 fit"),
    "city": ("q" * 101, "'city' is 101 characters; at most 100 fit"),
}


@st.composite
def files_with_one_bad_line(draw) -> tuple[bytes, list[list[str]], str, int | None, str]:
    """A contact CSV as a spreadsheet writes it, maybe with blank lines, with at most one fault: the
    file, its rows, the fault, the index of the faulty row (None for no fault) and the reason it is
    rejected for (for a quote left open, how the reason starts)."""
    rows = [
        [f"617-555-{1000 + i:04d}", draw(name_cells), draw(name_cells), draw(words), draw(address_cells), draw(words)]
        for i in range(draw(st.integers(1, 12)))
    ]
    fault = draw(st.sampled_from(FAULTS))
    bad = None if fault == "none" else draw(st.integers(0, len(rows) - 1))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(GOOD_HEADER)
    lines = [buffer.getvalue()]
    reason = ""
    for index, row in enumerate(rows):
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(newline)  # a blank line: not a data line
        buffer.seek(0)
        buffer.truncate()
        if index != bad:
            writer.writerow(row)
        elif fault == "open_quote":
            row[1:] = ["Mary", "Sullivan", "mary@example.com", "12 Elm St", "Quincy"]
            column = draw(st.integers(0, len(row) - 1))
            cells = [f'"{cell}' if at == column else cell for at, cell in enumerate(row)]
            buffer.write(",".join(cells) + newline)
            reason = f"A quote opened in '{GOOD_HEADER[column]}' is never closed"
        elif fault == "too_few":
            del row[draw(st.integers(1, len(row) - 1)) :]
            writer.writerow(row)
            reason = f"Has {len(row)} {'cell' if len(row) == 1 else 'cells'} but the header has {len(GOOD_HEADER)}"
        elif fault == "too_many":
            row.append(draw(words))
            writer.writerow(row)
            reason = f"Has {len(row)} cells but the header has {len(GOOD_HEADER)}"
        else:
            field = draw(st.sampled_from(sorted(TOO_LONG)))
            row[GOOD_HEADER.index(field)], reason = TOO_LONG[field]
            writer.writerow(row)
        lines.append(buffer.getvalue())
    return "".join(lines).encode(), rows, fault, bad, reason


def line_numbers(content: bytes) -> dict[str, int]:
    """The line each phone's row starts on, found by the row's own text."""
    found = {}
    for number, line in enumerate(io.StringIO(content.decode(), newline=""), start=1):
        phone = line.lstrip('"')[:12]
        if phone.startswith("617-555-"):
            found[phone] = number
    return found


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=files_with_one_bad_line())
def test_one_bad_line_in_a_good_file_is_rejected_alone_and_every_other_line_is_imported_whole(case):
    content, rows, fault, bad, reason = case
    event(fault)
    with transaction.atomic():
        report = pipeline.import_contacts(file=io.BytesIO(content), file_name="list.csv")

        assert report.rows_read == len(rows)
        rejections = list(report.rejections.values_list("line_number", "reason"))
        if bad is None:
            assert rejections == []
        else:
            [(line, said)] = rejections
            assert line == line_numbers(content)[rows[bad][0]]
            assert said.startswith(reason) if fault == "open_quote" else said == reason
        good = [row for index, row in enumerate(rows) if index != bad]
        assert report.contacts_created == len(good) == Contact.objects.count()
        stored = {contact.phone: contact for contact in Contact.objects.all()}
        for row in good:
            # Nothing of another line in it, nothing cut: the same words, in the case the import shows.
            contact = stored["+1" + row[0].replace("-", "")]
            assert contact.first_name.lower().split() == row[1].lower().split()
            assert contact.address.lower().split() == row[4].lower().split()
            assert contact.city.lower().split() == row[5].lower().split()
        transaction.set_rollback(True)
