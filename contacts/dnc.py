"""Do-Not-Call lists: loading the registry's files, and which lists hold a number.

The National Do-Not-Call Registry is downloaded by area code as flat files (zipped or not): a
full list holds one ``area code,number`` per line (``617,5551234``) and replaces what we hold for
the area codes it covers; a change list adds and deletes numbers (``617,5551234,A`` or ``,D``,
further fields such as a date ignored) and brings every area code of the list up to its date.
Massachusetts' own list comes in the same form (``--list state``).

A seller must scrub against a copy at most 31 days old: an area code whose copy is older stops
marketing texts until a newer one is loaded (the ``dnc_list_current`` rule, and Today). An area code
the National Registry was never loaded for stops nothing: Today and the start confirmation say that
nothing has checked those numbers (``registry_loaded_for``).
"""

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import BigIntegerField, Exists, OuterRef
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from attackacrack.errors import ApplicationError
from contacts import lawful_basis
from contacts.models import Contact, DoNotCallCoverage, DoNotCallList, DoNotCallLoad, DoNotCallNumber

MAX_AGE_DAYS = 31
LINE = re.compile(r"\s*(\d{3})\s*,\s*(\d{3})-?(\d{4})\s*(?:,(.*))?")
ADD, DELETE = "A", "D"
FLAGS = {"a": ADD, "add": ADD, "added": ADD, "d": DELETE, "del": DELETE, "delete": DELETE, "deleted": DELETE}
BATCH = 10_000


class DncFileError(ApplicationError, ValueError):
    """A file that is not a Do-Not-Call flat file, naming the line at fault. Nothing was stored."""

    status = 422
    code = "invalid_file"

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.loc = ("body", field)


def read_batches(file, *, file_name: str = "", kinds: set[str]) -> Iterator[list[tuple[int, str]]]:
    """The (number, change) entries of a flat file or a zip of them (a binary file object), a batch
    at a time, read as a stream: ``number`` is the E.164 digits (16175551234), ``change`` ADD or
    DELETE. ``kinds`` collects "full" and "changes" as they are seen; a file may not mix them."""
    file.seek(0)
    if not zipfile.is_zipfile(file):
        file.seek(0)
        yield from _read_batches(file, file_name or "The file", kinds)
        return
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        for member in archive.infolist():
            if not member.is_dir():
                with archive.open(member) as inner:
                    yield from _read_batches(inner, f"{file_name}:{member.filename}", kinds)


def _read_batches(file, where: str, kinds: set[str]) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for line_number, line in enumerate(io.TextIOWrapper(file, encoding="utf-8-sig", errors="replace"), 1):
        area_code, _, subscriber = line.strip().partition(",")
        if len(area_code) == 3 and len(subscriber) == 7 and (area_code + subscriber).isdigit() and area_code[0] > "1":
            kinds.add("full")  # the common line, read without a pattern: a million of them take ~1 s
            entry = (int(f"1{area_code}{subscriber}"), ADD)
        elif not line.strip():
            continue
        else:
            entry = _read_line(line.strip(), f"{where}, line {line_number}", kinds)
        if len(kinds) > 1:
            raise DncFileError(f"{where}, line {line_number}: the file mixes full-list lines with change-list lines")
        batch.append(entry)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _read_line(line: str, where: str, kinds: set[str]) -> tuple[int, str]:
    match = LINE.fullmatch(line)
    if match is None:
        raise DncFileError(f"{where}: expected 'area code,number' (e.g. 617,5551234), got {line[:60]!r}")
    area_code, exchange, rest, extra = match.groups()
    if area_code[0] in "01":
        raise DncFileError(f"{where}: {area_code} is not an area code")
    number = int(f"1{area_code}{exchange}{rest}")
    if extra is None:
        kinds.add("full")
        return number, ADD
    flags = [FLAGS[field.strip().lower()] for field in extra.split(",") if field.strip().lower() in FLAGS]
    if not flags:
        raise DncFileError(f"{where}: a change list's line needs A (added) or D (deleted), got {line[:60]!r}")
    kinds.add("changes")
    return number, flags[0]


def load_list(
    file, *, list_name: str, as_of: dt.date, file_name: str = "", by=None, now: dt.datetime | None = None
) -> DoNotCallLoad:
    """Load one file of a list in one transaction: all of it, or nothing (DncFileError)."""
    if list_name not in DoNotCallList.values:
        raise DncFileError(f"Unknown list {list_name!r}: choose national or state", field="list")
    now = now or timezone.now()
    if as_of > timezone.localdate(now):
        raise DncFileError(f"The list's date {as_of} is in the future", field="as_of")
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Dropped with the transaction when the file is refused (DDL is transactional in both databases).
            cursor.execute("CREATE TEMPORARY TABLE dnc_incoming (number bigint, change char(1))")
            kinds: set[str] = set()
            read = _stage(cursor, read_batches(file, file_name=file_name, kinds=kinds))
            if not read:
                raise DncFileError("The file holds no numbers")
            kind = DoNotCallLoad.Kind.FULL if kinds == {"full"} else DoNotCallLoad.Kind.CHANGES
            area_codes = _area_codes(cursor)
            covered = _coverage(list_name, kind, area_codes, as_of)
            added, removed = _merge(cursor, list_name, kind, area_codes)
            cursor.execute("DROP TABLE dnc_incoming")
        _no_longer_listed(removed, now)
        for area_code in covered:
            DoNotCallCoverage.objects.update_or_create(
                list=list_name, area_code=area_code, defaults={"as_of": as_of, "loaded_at": now}
            )
        return DoNotCallLoad.objects.create(
            list=list_name,
            kind=kind,
            as_of=as_of,
            file_name=file_name[:255],
            area_codes=",".join(sorted(covered)),
            numbers_read=read,
            numbers_added=added,
            numbers_removed=len(removed),
            contacts_matched=contacts_listed(list_name).count(),
            loaded_by=by,
            loaded_at=now,
        )


def summary(load: DoNotCallLoad) -> str:
    """What a load did, in words for the owner (the command and the page say the same)."""
    return (
        f"{load.get_list_display()} of {load.as_of} ({load.get_kind_display().lower()}, "
        f"area codes {load.area_codes.replace(',', ', ')}): {load.numbers_read:,} numbers read, "
        f"{load.numbers_added:,} added, {load.numbers_removed:,} removed; "
        f"{load.contacts_matched:,} of your contacts are on it."
    )


def _stage(cursor, batches: Iterable[list[tuple[int, str]]]) -> int:
    read = 0
    if connection.vendor == "postgresql":
        with cursor.cursor.copy("COPY dnc_incoming (number, change) FROM STDIN") as copy:
            for batch in batches:
                copy.write("".join(f"{number}\t{change}\n" for number, change in batch))
                read += len(batch)
    else:
        for batch in batches:
            cursor.executemany("INSERT INTO dnc_incoming (number, change) VALUES (%s, %s)", batch)
            read += len(batch)
    cursor.execute("ANALYZE dnc_incoming")
    return read


def _area_codes(cursor) -> set[str]:
    # 1NNN0000000 // 10^7 is 1NNN: the area code after the country code.
    cursor.execute("SELECT DISTINCT number / 10000000 - 1000 FROM dnc_incoming")
    return {str(row[0]) for row in cursor.fetchall()}


def _coverage(list_name: str, kind: str, area_codes: set[str], as_of: dt.date) -> set[str]:
    """The area codes the file brings up to ``as_of``: a full list's own, a change list's whole list."""
    held = DoNotCallCoverage.objects.filter(list=list_name)
    if kind == DoNotCallLoad.Kind.CHANGES:
        covered = set(held.values_list("area_code", flat=True))
        if missing := sorted(area_codes - covered):
            raise DncFileError(
                f"A change list for area codes with no full list loaded ({', '.join(missing)}): "
                "load the full list first"
            )
    else:
        covered = area_codes
    newer = held.filter(area_code__in=covered, as_of__gt=as_of).order_by("area_code").first()
    if newer is not None:
        raise DncFileError(f"A newer copy (of {newer.as_of}) is loaded for area code {newer.area_code}")
    return covered


def _merge(cursor, list_name: str, kind: str, area_codes: set[str]) -> tuple[int, list[int]]:
    """Brings the list's numbers to what the file says; returns how many were added, and the
    numbers removed. Numbers are written in order, which fills the index in order."""
    table = DoNotCallNumber._meta.db_table
    if kind == DoNotCallLoad.Kind.FULL:
        placeholders = ", ".join(["%s"] * len(area_codes))
        cursor.execute(
            f"DELETE FROM {table} WHERE list = %s AND number / 10000000 - 1000 IN ({placeholders}) "
            f"AND NOT EXISTS (SELECT 1 FROM dnc_incoming i WHERE i.number = {table}.number) RETURNING number",
            [list_name, *sorted(int(area_code) for area_code in area_codes)],
        )
    else:
        cursor.execute(
            f"DELETE FROM {table} WHERE list = %s AND number IN (SELECT number FROM dnc_incoming WHERE change = 'D') "
            "RETURNING number",
            [list_name],
        )
    removed = [number for (number,) in cursor.fetchall()]
    cursor.execute(
        f"INSERT INTO {table} (number, list) SELECT DISTINCT number, %s FROM dnc_incoming WHERE change = 'A' "
        "ORDER BY number ON CONFLICT DO NOTHING",
        [list_name],
    )
    return cursor.rowcount, removed


def _no_longer_listed(numbers: list[int], now: dt.datetime) -> None:
    """Members kept out because a list held these numbers may be texted now (unless another does)."""
    phones = [f"+{number}" for number in numbers]
    contact_ids = list(Contact.objects.filter(phone__in=phones).values_list("pk", flat=True))
    if contact_ids:
        lawful_basis.changed.send(sender=DoNotCallNumber, contact_ids=contact_ids, now=now)


def number_of(phone) -> Cast:
    """A contact's E.164 phone (an expression) as the number a list keeps: its digits."""
    return Cast(Substr(phone, 2), BigIntegerField())


def contacts_listed(list_name: str | None = None):
    """Contacts whose number a list holds (any list when ``list_name`` is None)."""
    numbers = DoNotCallNumber.objects.filter(number=number_of(OuterRef("phone")))
    if list_name:
        numbers = numbers.filter(list=list_name)
    return Contact.objects.filter(Exists(numbers))


@dataclass(frozen=True)
class Listing:
    list: str
    label: str
    area_code: str
    as_of: dt.date | None  # the copy's date; None when no copy of the list covers the area code
    listed: bool

    def as_record(self) -> dict:
        return {
            "list": self.list,
            "area_code": self.area_code,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "listed": self.listed,
        }


def listings(phones: Iterable[str]) -> dict[str, list[Listing]]:
    """What every list says of each number: for each list, its copy's date for the number's area
    code and whether it holds the number."""
    phones = list(phones)
    area_codes = {phone[2:5] for phone in phones if phone.startswith("+1")}
    copies = {
        (list_name, area_code): as_of
        for list_name, area_code, as_of in DoNotCallCoverage.objects.filter(area_code__in=area_codes).values_list(
            "list", "area_code", "as_of"
        )
    }
    numbers = {int(phone[1:]): phone for phone in phones}
    held = {(numbers[number], list_name) for number, list_name in DoNotCallNumber.objects.filter(
        number__in=numbers).values_list("number", "list")}  # fmt: skip
    return {
        phone: [
            Listing(value, label, phone[2:5], copies.get((value, phone[2:5])), (phone, value) in held)
            for value, label in DoNotCallList.choices
        ]
        for phone in phones
    }


def stale_before(today: dt.date) -> dt.date:
    """Copies dated before this are too old to text by."""
    return today - dt.timedelta(days=MAX_AGE_DAYS)


def stale_coverage(today: dt.date):
    return DoNotCallCoverage.objects.filter(as_of__lt=stale_before(today))


def registry_loaded_for(phone: str) -> Exists:
    """Whether a copy of the National Do-Not-Call Registry, which may hold any US number, covers the
    area code of the number at ``phone`` (a field path, e.g. "contact__phone"). Without one, that
    no list here holds a number means nothing: nobody checked it."""
    return Exists(
        DoNotCallCoverage.objects.filter(list=DoNotCallList.NATIONAL, area_code=Substr(OuterRef(phone), 3, 3))
    )


@dataclass(frozen=True)
class Copy:
    """A list's copy for one area code, and whether it is too old to text by."""

    area_code: str
    as_of: dt.date
    loaded_at: dt.datetime
    stale: bool


@dataclass(frozen=True)
class Coverage:
    list: str
    label: str
    copies: list[Copy]  # by area code; empty when the list was never loaded


def coverage(today: dt.date) -> list[Coverage]:
    """Every list, loaded or not, with its copy for each area code it covers."""
    oldest_current = stale_before(today)
    copies: dict[str, list[Copy]] = {}
    for row in DoNotCallCoverage.objects.order_by("list", "area_code"):
        copy = Copy(row.area_code, row.as_of, row.loaded_at, stale=row.as_of < oldest_current)
        copies.setdefault(row.list, []).append(copy)
    return [Coverage(value, label, copies.get(value, [])) for value, label in DoNotCallList.choices]
