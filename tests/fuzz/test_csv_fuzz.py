"""Hypothesis-made files through the import API: never a 5xx, never a partial write, and the
counts always reconcile with what was stored."""

import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contacts.models import Contact, ContactImport, Property

HEADERS = ["phone", "Phone Number", "mobile", "First Name", "first_name", "Last Name", "name", "email", "address",
           "city", "state", "zip", "Notes", "", "phone"]  # fmt: skip
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
        transaction.set_rollback(True)
