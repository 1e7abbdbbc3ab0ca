"""CSV downloads (contacts, rejected import rows), safe to open in a spreadsheet."""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from operator import itemgetter

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from contacts import not_texted
from contacts.importing.entries import RAW_LIMIT
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
# Digits and the signs of a number or a phone number ("-71.05", "+1 (617) 555-0123"): a spreadsheet
# computes at most arithmetic from them, never a function or a link.
NUMBER_LIKE = re.compile(r"[\d\s().,/+-]+")
# The columns in front of a rejected row, named as no import reads a column (contacts/importing/columns.py).
REJECTED_COLUMNS = ["Rejected line", "Rejected because"]


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def cell_as_written(value: object) -> str:
    """``spreadsheet_safe``, but a number stays as written: a cell given back to be imported again
    must read as it did ("-25000" is an equity, "'-25000" is not)."""
    text = "" if value is None else str(value)
    return text if NUMBER_LIKE.fullmatch(text) else spreadsheet_safe(text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_download(
    *,
    file_name: str,
    header: list[str],
    rows: Iterable[Iterable[object]],
    cell: Callable[[object], str] = spreadsheet_safe,
) -> StreamingHttpResponse:
    """Stream rows as a CSV attachment, a row at a time, whatever the size of the export."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([cell(value) for value in header])
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def rejected_rows_download(contact_import: ContactImport) -> StreamingHttpResponse:
    """The lines an import did not take, for staff to fix and import again: under the file's own
    header, each line's cells as the file had them, after its line number and why (one row a line,
    both reasons when both phones of a PropertyRadar row were rejected). The import reads the two
    columns in front as nothing, and a row with too few or too many cells stays so, to be fixed."""
    delimiter = contact_import.delimiter or ","

    def rows() -> Iterator[list[object]]:
        rejections = contact_import.rejections.values_list("line_number", "reason", "raw").iterator(chunk_size=2000)
        for line_number, group in groupby(rejections, key=itemgetter(0)):
            rejected = list(group)
            because = "; ".join(dict.fromkeys(reason for _, reason, _ in rejected))
            raw = rejected[0][2]
            if len(raw) >= RAW_LIMIT:
                because += f" (only the line's first {RAW_LIMIT:,} characters are kept)"
            records = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
            yield [line_number, because, *(value for record in records for value in record)]

    return csv_download(
        file_name=f"import-{contact_import.id}-rejected-rows.csv",
        header=[*REJECTED_COLUMNS, *contact_import.header],
        rows=rows(),
        cell=cell_as_written,
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
