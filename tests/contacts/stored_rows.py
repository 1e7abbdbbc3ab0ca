"""What an import stored, by natural key, so two import paths can be compared row for row.

Run as a script, it imports the files, one after the other, into the SQLite database DATABASE_URL
names and prints the snapshot as JSON: the SQLite side of tests/contacts/test_import_on_sqlite.py.

    DATABASE_URL=sqlite:///db.sqlite3 python -m tests.contacts.stored_rows FILE [FILE ...]
"""

import io
import json
import os
import sys
from pathlib import Path

# Everything an import writes but its moments and its ids, which differ between any two runs.
CONTACT_FIELDS = (
    "phone", "first_name", "last_name", "email", "address", "city", "state", "zip_code", "source", "line_type",
    "time_zone", "time_zone_source", "not_textable_reason", "opt_out_reason", "consent_basis", "consent_at",
    "consent_source", "consent_wording",
)  # fmt: skip
CONSENT_CHANGE_FIELDS = ("contact__phone", "consent_basis", "consent_at", "consent_source", "consent_wording", "via")
PROPERTY_FIELDS = (
    "apn", "address_key", "zip_code", "property_type", "address", "city", "state", "subdivision", "longitude",
    "latitude", "year_built", "purchase_date", "square_feet", "beds", "baths", "estimated_value", "estimated_equity",
    "estimated_equity_percent", "owner", "mail_address", "mail_city", "mail_state", "mail_zip_code", "owner_occupied",
    "listed_for_sale", "listing_status", "foreclosure", "high_equity",
)  # fmt: skip
REPORT_FIELDS = (
    "status", "format", "encoding", "delimiter", "rows_read", "footer_rows_skipped", "entries_read",
    "contacts_created", "contacts_updated", "contacts_unchanged", "duplicates_folded", "entries_rejected",
    "properties_created", "properties_updated", "properties_unchanged", "not_textable", "added_to_campaign",
)  # fmt: skip


def snapshot(report) -> dict:
    """The import's report and every contact, house, link, rejection and consent change stored, as
    plain JSON values."""
    from contacts.models import ConsentChange, Contact, ImportRejection, Property, PropertyContact

    def plain(row: tuple) -> list:
        return [value if value is None or isinstance(value, bool | int | str) else str(value) for value in row]

    return {
        "report": None if report is None else plain(tuple(getattr(report, field) for field in REPORT_FIELDS)),
        "contacts": sorted(plain(row) for row in Contact.objects.values_list(*CONTACT_FIELDS)),
        "properties": sorted(plain(row) for row in Property.objects.values_list(*PROPERTY_FIELDS)),
        "links": sorted(
            plain(row)
            for row in PropertyContact.objects.values_list(
                "contact__phone", "property__apn", "property__address_key", "property__zip_code", "role"
            )
        ),
        "rejections": sorted(plain(row) for row in ImportRejection.objects.values_list("line_number", "reason", "raw")),
        "consent_changes": sorted(plain(row) for row in ConsentChange.objects.values_list(*CONSENT_CHANGE_FIELDS)),
        "houses_searched": sorted(
            [phone, houses_searched(addresses, zip_codes)]
            for phone, addresses, zip_codes in Contact.objects.values_list(
                "phone", "house_addresses", "house_zip_codes"
            )
        ),
    }


def houses_searched(addresses: str, zip_codes: str) -> list[list[str]]:
    """The streets and cities, and the ZIPs, of a contact's houses as its search text holds them,
    sorted: which house comes first is each database's own."""
    from contacts.search_text import SEPARATOR

    parts = addresses.split(SEPARATOR) if addresses else []
    return [
        sorted(f"{street} / {city}" for street, city in zip(parts[::2], parts[1::2], strict=True)),
        sorted(zip_codes.split(SEPARATOR)),
    ]


def import_and_snapshot(*contents: bytes) -> dict:
    """Import each of ``contents`` in turn; the snapshot holds the last one's report (or its
    refusal, for a file refused outright) and everything stored."""
    from contacts.importing import BadFile, pipeline

    refused, report = None, None
    for content in contents:
        try:
            refused, report = None, pipeline.import_contacts(file=io.BytesIO(content), file_name="list.csv")
        except BadFile as error:
            refused, report = str(error), None
    return {"refused": refused, **snapshot(report)}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")
    import django

    django.setup()
    print(json.dumps(import_and_snapshot(*(Path(name).read_bytes() for name in sys.argv[1:]))))
