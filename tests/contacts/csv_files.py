"""Small CSV files built in the tests, in the shapes staff import."""

import csv
import io

from contacts.importing.samples import FOOTER, HEADER


def propertyradar_csv(rows: list[dict[str, object]], *, footer: bool = True) -> bytes:
    """A PropertyRadar export: the 39-column header, CRLF, the licence footer, no final newline."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.get(column, "") for column in HEADER])
    text = buffer.getvalue()
    text = text + FOOTER if footer else text.removesuffix("\r\n")
    return text.encode("utf-8")


def contacts_csv(
    header: list[str], rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def hundred_contacts() -> bytes:
    """The seed's upload scenario: 100 distinct, valid contacts."""
    return contacts_csv(
        ["phone", "first_name", "last_name", "email"],
        [[f"617-555-{1000 + i:04d}", f"Person{i}", "Test", f"p{i}@example.com"] for i in range(100)],
    )
