"""Turn an uploaded file into header + rows, or refuse it with a reason a person can act on.

A quoted cell may run over several lines (an address typed with Alt+Enter in Excel), so a quote
left open by mistake reads on through the lines after it, up to the next quote in the file or its
end. A record read over several lines is taken only when it is well-formed CSV (see
``_well_formed``); otherwise the line where it starts is handed on as unreadable, with the
reason, and reading starts again at the line after it. A well-formed one with a line inside a cell
that reads as a whole row is handed on as unreadable whole, naming its lines: it may be either.
"""

import codecs
import csv
import io
import itertools
import re
from collections import deque
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
    rows: Iterator[tuple]
    """For each record after the header that holds any text, in file order: (line number, cells),
    or (line number, [the line as written], why it is left out) for a line whose quote is left open.
    A line with no text in any cell is skipped and is not a record."""


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
    lines = Lines(text)
    lines.give_back([first_line])
    reader = lines.reader(delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error as error:
        raise BadFile(f"The header row cannot be read as CSV: {error}.") from None
    if len(lines.record) > 1 or lines.ran_out:
        raise BadFile(
            "Line 1, the header, cannot be read: a quote opened in it is not closed on that line "
            "(a column name cannot run over several lines)."
        )
    rows = _records(lines, reader, header, delimiter)
    try:
        first = next(rows)
    except StopIteration:
        raise BadFile("The file has a header row but no data rows.") from None
    return CsvRows(encoding=encoding, delimiter=delimiter, header=header, rows=itertools.chain([first], rows))


class Lines:
    """The file's lines as a csv reader takes them. It remembers the lines of the record being read,
    so that a record found to be a quote left open can be given back, all but its first line, to be
    read again by a fresh reader."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        # Held to the end: the wrapper closes the caller's file when it is collected.
        self.text = text
        self.given_back: deque[str] = deque()
        self.record: list[str] = []
        # The reader asked for a line past the end of the file: only a quote still open does that.
        self.ran_out = False

    def reader(self, delimiter: str):
        """A csv reader that takes the lines given back, then the rest of the file."""
        self.ran_out = False
        return csv.reader(self._feed(), delimiter=delimiter)

    def give_back(self, lines: list[str]) -> None:
        self.given_back.extendleft(reversed(lines))

    def _feed(self) -> Iterator[str]:
        record, given_back = self.record, self.given_back
        while given_back:
            line = given_back.popleft()
            record.append(line)
            yield line
        append = record.append
        for line in self.text:
            append(line)
            yield line
        self.ran_out = True


def _records(lines: Lines, reader, header: list[str], delimiter: str) -> Iterator[tuple]:
    """The records after the header (see CsvRows.rows), numbered by the line each starts on."""
    width = len(header)
    record = lines.record
    line_number = 2
    while True:
        record.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if len(record) == 1:
                raise BadFile(f"Line {line_number} cannot be read as CSV: {error}.") from None
            cells = None  # a quote left open read on until its cell outgrew MAX_CELL_CHARACTERS
        if lines.ran_out or (len(record) > 1 and (cells is None or not _well_formed(cells, record, delimiter))):
            yield line_number, [record[0].rstrip("\r\n")], _open_quote(record, header, delimiter, line_number)
            lines.give_back(record[1:])
            reader = lines.reader(delimiter)
            line_number += 1
            continue
        if len(record) > 1 and _holds_whole_rows(cells, width, delimiter):
            # Well-formed, but a line inside a cell reads as a row of its own: either a quote left
            # open that a later quote closed as a real one would, or notes that happen to hold a
            # row's worth of commas. Nothing tells the two apart, so the lines are rejected together,
            # named, rather than one guessed wrong (a phone in someone's notes becoming a contact).
            last = line_number + len(record) - 1
            reason = (
                f"Lines {line_number}-{last} read as one row whose quoted cell holds a line that is a row of "
                "its own: check the quotes on these lines"
            )
            yield line_number, ["".join(record).rstrip("\r\n")], reason
            line_number += len(record)
            continue
        if any(cells):
            yield line_number, cells
        line_number += len(record)


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _well_formed(cells: list[str], lines: list[str], delimiter: str) -> bool:
    """Whether a record read over several ``lines`` is well-formed CSV. A quote left open ends at
    the next quote in the file, which opens some later cell: that cell's text follows it where a
    delimiter should, so the record is not well-formed. A real cell over several lines is. (Its row
    may still have too few or too many cells: that is its own reason.)"""
    try:
        return list(csv.reader(lines, delimiter=delimiter, strict=True)) == [cells]
    except csv.Error:
        return False


def _holds_whole_rows(cells: list[str], width: int, delimiter: str) -> bool:
    """Whether a line inside one of the cells reads alone as a row of the header's width."""
    return any(
        len(_read_alone(part, delimiter)) == width
        for cell in cells
        if "\n" in cell or "\r" in cell
        for part in LINE_BREAK.split(cell)[1:]
    )


def _open_quote(lines: list[str], header: list[str], delimiter: str, line_number: int) -> str:
    # The quote opened in the last cell of the first line, which runs on past the line's end. The
    # header is named by its first 40 characters, so that any reason fits ImportRejection.reason.
    column = len(_read_alone(lines[0], delimiter)) - 1
    name = f"'{header[column][:40]}'" if column < len(header) and header[column] else f"cell {column + 1}"
    reason = f"A quote opened in {name} is never closed"
    if len(lines) == 2:
        return f"{reason}: it would swallow line {line_number + 1}"
    if len(lines) > 2:
        return f"{reason}: it would swallow lines {line_number + 1}-{line_number + len(lines) - 1}"
    return reason


def _read_alone(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a cell over MAX_CELL_CHARACTERS: no row
        return []
