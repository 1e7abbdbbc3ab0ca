"""CSV downloads (contacts, rejected import rows), safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from contacts import not_texted
from contacts.models import Contact, ContactImport

# The columns of a contacts export, the API's and the pages' alike. ``reason`` and
# ``reason_detail`` say why nobody may text the contact (contacts/not_texted.py), or are blank.
CONTACT_EXPORT_FIELDS = [
    "id", "phone", "first_name", "last_name", "email", "address", "city", "state", "zip_code", "source",
    "line_type", "not_textable_reason", "reason", "reason_detail", "time_zone", "time_zone_source",
    "opted_out_at", "opt_out_reason", "consent_basis", "consent_at", "consent_source", "consent_wording",
    "created_at", "updated_at",
]  # fmt: skip

# A cell starting with one of these is run as a formula by Excel and LibreOffice (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_download(*, file_name: str, header: list[str], rows: Iterable[Iterable[object]]) -> StreamingHttpResponse:
    """Stream rows as a CSV attachment, a row at a time, whatever the size of the export."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([spreadsheet_safe(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def rejected_rows_download(contact_import: ContactImport) -> StreamingHttpResponse:
    """The rows an import did not take, for staff to fix and import again."""
    return csv_download(
        file_name=f"import-{contact_import.id}-rejected-rows.csv",
        header=["line_number", "reason", "row"],
        rows=contact_import.rejections.values_list("line_number", "reason", "raw").iterator(chunk_size=2000),
    )


def contacts_download(contacts: QuerySet[Contact]) -> StreamingHttpResponse:
    reason, reason_detail = not_texted.contact_reason()
    return csv_download(
        file_name="contacts.csv",
        header=CONTACT_EXPORT_FIELDS,
        rows=contacts.annotate(reason=reason, reason_detail=reason_detail)
        .values_list(*CONTACT_EXPORT_FIELDS)
        .iterator(chunk_size=2000),
    )
