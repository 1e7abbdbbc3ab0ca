"""The staging tables an import streams its lines into: one temporary table of lines (COPY on
PostgreSQL, batched inserts on SQLite) and the views the merge reads it through."""

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction

from contacts.importing.entries import LINE_COLUMNS, PROPERTY_COLUMNS

BATCH = 10_000

SLOT = """role_{n} varchar(10) NOT NULL, phone_{n} varchar(16) NOT NULL, reject_reason_{n} text NOT NULL,
    first_name_{n} varchar(100) NOT NULL, last_name_{n} varchar(100) NOT NULL, email_{n} varchar(254) NOT NULL"""
LINE_TABLE = f"""
CREATE TEMP TABLE import_line (
    line_number integer NOT NULL, raw text NOT NULL, line_type varchar(10) NOT NULL,
    {SLOT.format(n=1)}, {SLOT.format(n=2)},
    apn varchar(100) NOT NULL, address_key varchar(255) NOT NULL, property_type varchar(50) NOT NULL,
    address varchar(255) NOT NULL, city varchar(100) NOT NULL, state varchar(2) NOT NULL,
    zip_code varchar(10) NOT NULL, subdivision varchar(255) NOT NULL, longitude decimal(9, 6),
    latitude decimal(9, 6), year_built integer, purchase_date date, square_feet integer, beds integer,
    baths decimal(4, 1), estimated_value bigint, estimated_equity bigint, estimated_equity_percent decimal(7, 2),
    owner varchar(255) NOT NULL, mail_address varchar(255) NOT NULL, mail_city varchar(100) NOT NULL,
    mail_state varchar(2) NOT NULL, mail_zip_code varchar(10) NOT NULL, owner_occupied boolean,
    listed_for_sale boolean, listing_status varchar(50) NOT NULL, foreclosure boolean, high_equity boolean,
    consent_basis varchar(16) NOT NULL, consent_at timestamp with time zone, consent_source varchar(255) NOT NULL,
    consent_wording text NOT NULL
)"""
# A line names a house when it has an APN or an address (PropertyRadar); generic lines never do.
HAS_HOUSE = "apn <> '' OR address_key <> ''"


def _slot_entries(n: int) -> str:
    # A line's consent is its first slot's (see entries.LINE_COLUMNS).
    consent = (
        "consent_basis, consent_at, consent_source, consent_wording"
        if n == 1
        else "'' AS consent_basis, NULL AS consent_at, '' AS consent_source, '' AS consent_wording"
    )
    return f"""SELECT line_number * 2 + {n - 1} AS seq, line_number, role_{n} AS role, phone_{n} AS phone, line_type,
        reject_reason_{n} AS reject_reason, CASE WHEN reject_reason_{n} <> '' THEN raw ELSE '' END AS raw,
        first_name_{n} AS first_name, last_name_{n} AS last_name, email_{n} AS email, address, city, state, zip_code,
        {consent}
    FROM import_line WHERE phone_{n} <> '' OR reject_reason_{n} <> ''"""


def _slot_links(n: int) -> str:
    return f"""SELECT apn, address_key, zip_code, phone_{n} AS phone, role_{n} AS role
    FROM import_line WHERE phone_{n} <> '' AND ({HAS_HOUSE})"""


VIEWS = (
    # One row per contact entry (a phone, or the reason there is none), in file order by seq.
    f"CREATE TEMP VIEW import_entry AS {_slot_entries(1)} UNION ALL {_slot_entries(2)}",
    f"CREATE TEMP VIEW import_property AS SELECT {', '.join(PROPERTY_COLUMNS)} FROM import_line WHERE {HAS_HOUSE}",
    # Who lives at which house, as the file says: a phone and the key of the house on its line.
    f"CREATE TEMP VIEW import_household AS {_slot_links(1)} UNION ALL {_slot_links(2)}",
)
TEMP_TABLES = ("import_link", "import_residence", "import_entry_first", "import_property_first", "import_line")
TEMP_VIEWS = ("import_entry", "import_property", "import_household")


def _drop_staging(cursor) -> None:
    for view in TEMP_VIEWS:
        cursor.execute(f"DROP VIEW IF EXISTS {view}")
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


@contextmanager
def staging_tables() -> Iterator[None]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Temporary tables live in per-session buffers, 8 MB unless raised before first use;
            # a million staged rows would otherwise spill to disk. Later imports on the same
            # connection keep the value set by the first.
            with contextlib.suppress(DatabaseError), transaction.atomic():
                cursor.execute("SET temp_buffers = '256MB'")
        _drop_staging(cursor)
        cursor.execute(LINE_TABLE)
        for view in VIEWS:
            cursor.execute(view)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            _drop_staging(cursor)


class Stager:
    """Ships staged rows to the database as they come: one long COPY on PostgreSQL, so the
    server ingests while Python parses; batched inserts elsewhere. ``pause`` ends the COPY
    (the connection is free for other statements) and the next ``add`` starts a new one."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self._open: contextlib.ExitStack | None = None
        self._copy = None

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self._ship()

    def pause(self) -> None:
        self._ship()
        if self._open is not None:
            self._open.close()  # ends the COPY: waits until the server has every row
            self._open = self._copy = None

    def abort(self) -> None:
        if self._open is not None:
            self._open.__exit__(RuntimeError, RuntimeError("import aborted"), None)
            self._open = self._copy = None

    def _ship(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            if self._copy is None:
                self._open = contextlib.ExitStack()
                cursor = self._open.enter_context(connection.cursor())
                statement = f"COPY import_line ({', '.join(LINE_COLUMNS)}) FROM STDIN"
                self._copy = self._open.enter_context(cursor.copy(statement))
            # psycopg escapes each value for COPY's text format in C: None is NULL, '' stays '',
            # and a line end inside a cell cannot end the row.
            write_row = self._copy.write_row
            for row in self.rows:
                write_row(row)
        else:
            with connection.cursor() as cursor:
                placeholders = ", ".join(["%s"] * len(LINE_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO import_line ({', '.join(LINE_COLUMNS)}) VALUES ({placeholders})", self.rows
                )
        self.rows = []
