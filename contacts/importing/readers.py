"""Turn an uploaded file into header + rows, or refuse it with a reason a person can act on."""

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from attackacrack.errors import ApplicationError

CHUNK = 1 << 20
DELIMITERS = (",", ";", "\t")
# Generous for any real cell, small enough that a runaway cell cannot eat the worker's memory.
MAX_CELL_CHARACTERS = 100_000


class BadFile(ApplicationError):
    """The file cannot be imported at all; the message says why, naming the line or header."""

    status = 422
    code = "invalid_file"
    loc = ("body", "file")


@dataclass
class CsvRows:
    encoding: str
    delimiter: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    """(line number in the file, cells) for each non-blank row after the header."""


def detect_encoding(binary: BinaryIO) -> str:
    """UTF-8 (with or without BOM) when every byte decodes as UTF-8, else Windows-1252."""
    for encoding in ("utf-8", "cp1252"):
        binary.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            while chunk := binary.read(CHUNK):
                if (nul := chunk.find(b"\x00")) >= 0:
                    raise BadFile(
                        f"This is not a text file (a NUL byte at byte {offset + nul}): export the list as CSV."
                    )
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        binary.seek(0)
        return "utf-8-sig" if encoding == "utf-8" else encoding
    raise BadFile("The file is neither UTF-8 nor Windows-1252 text: export the list as CSV (UTF-8).")


def read_csv(binary: BinaryIO) -> CsvRows:
    encoding = detect_encoding(binary)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    first_line = text.readline()
    if not first_line.strip():
        raise BadFile("The file is empty: there is no header row.")
    delimiter = max(DELIMITERS, key=first_line.count) if any(d in first_line for d in DELIMITERS) else ","
    csv.field_size_limit(MAX_CELL_CHARACTERS)
    reader = csv.reader(itertools.chain([first_line], text), delimiter=delimiter)
    header = [cell.strip() for cell in _next_row(reader)]
    rows = _numbered_rows(reader)
    try:
        first = next(rows)
    except StopIteration:
        raise BadFile("The file has a header row but no data rows.") from None
    return CsvRows(encoding=encoding, delimiter=delimiter, header=header, rows=itertools.chain([first], rows))


def _next_row(reader) -> list[str]:
    try:
        return next(reader)
    except csv.Error as error:
        raise BadFile(f"The header row cannot be read as CSV: {error}.") from None


def _numbered_rows(reader) -> Iterator[tuple[int, list[str]]]:
    last_line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise BadFile(f"Line {last_line + 1} cannot be read as CSV: {error}.") from None
        line_number, last_line = last_line + 1, reader.line_num
        if cells and any(cells):
            yield line_number, cells
