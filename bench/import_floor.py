"""Where the million-row import's time goes, and what moving its staging into PostgreSQL would cost.

    .venv/bin/python bench/import_floor.py [--rows 1000000]

On the generated PropertyRadar export (bench/import_contacts.py makes it), in a fresh database
`attackacrack_bench` on DATABASE_URL's server, one after the other:

1. The import as built, first import and re-import: staging and merge (the pipeline's own log),
   and the time of every statement of its merge.
2. Staging in PostgreSQL instead of Python: the raw file COPYed into a table of text columns by
   PostgreSQL's own CSV parser, then the cells Python cleans today (ZIPs, whole numbers, decimals,
   dates, yes/no flags, e-mails, states) cleaned set-based into a second table. The SQL accepts
   only the plain form of each cell (the rules in contacts/importing/entries.py have more
   branches). The cells only Python cleans as the import does (phones, names, addresses) go out
   to Python and back, cleaned by the import's own functions, and are joined to the rest. What it
   leaves out is assembling the two contact slots and their rejections, so its time is still a
   lower bound on that path.

It prints seconds for each and records the parts for `make bench`; bench/import_contacts.py judges
the totals against their targets.
"""

import argparse
import os
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))
import import_contacts  # noqa: E402
from figures import record  # noqa: E402


def setup(rows: int) -> Path:
    path = import_contacts.sample(rows)
    import_contacts.fresh_database()
    os.environ["DATABASE_URL"] = f"{import_contacts.server_url()}/{import_contacts.DATABASE}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    return path


class StatementTimes:
    """Each statement the import runs, with its seconds (a connection wrapper)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seen.append((time.perf_counter() - started, " ".join(sql.split())))


def import_as_built(path: Path, label: str, phases: import_contacts.PhaseLog) -> None:
    from django.db import connection

    from contacts.importing.pipeline import import_contacts as run_import

    import_contacts.settle_writes()
    times = StatementTimes()
    started = time.perf_counter()
    with connection.execute_wrapper(times), path.open("rb") as file:
        report = run_import(file=file, file_name=path.name)
    total = time.perf_counter() - started
    print(f"\n{label}: {total:.2f} s ({report.rows_read:,} rows, {report.contacts_created:,} contacts created)")
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.seconds.items()))
    for seconds, statement in times.seen:
        if seconds > 0.1:
            print(f"  {seconds:6.2f}  {statement[:90]}")


def bytes_without_footer(path: Path) -> int:
    """Where the last line (PropertyRadar's one-cell licence sentence) starts: COPY would refuse it."""
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - 4096))
        tail = file.read()
    return size - len(tail) + tail.rstrip(b"\r\n").rfind(b"\n") + 1


def staging_in_postgresql(path: Path) -> dict[str, float]:
    from django.db import connection

    from contacts.importing.columns import PROPERTYRADAR_COLUMNS
    from contacts.importing.readers import read_csv

    with path.open("rb") as file:
        header = read_csv(file).header
    at = {field: header.index(name) for field, name in PROPERTYRADAR_COLUMNS.items()}

    def cell(field: str) -> str:
        return f"btrim(c{at[field]})"

    def whole(field: str) -> str:
        return f"CASE WHEN {cell(field)} ~ '^[0-9]{{1,9}}$' THEN {cell(field)}::int END"

    def number(field: str, digits: int, places: int) -> str:
        plain = f"'^-?[0-9]{{1,{digits}}}(\\.[0-9]{{1,{places}}})?$'"
        return f"CASE WHEN {cell(field)} ~ {plain} THEN {cell(field)}::numeric END"

    def flag(field: str) -> str:
        value = f"lower({cell(field)})"
        return f"CASE WHEN {value} IN ('1', 'y', 'yes') THEN true WHEN {value} IN ('0', 'n', 'no') THEN false END"

    def zip_code(field: str) -> str:
        return (
            f"CASE WHEN {cell(field)} ~ '^[0-9]{{5}}-?[0-9]{{4}}$' "
            f"THEN regexp_replace({cell(field)}, '^([0-9]{{5}})-?([0-9]{{4}})$', '\\1-\\2') "
            f"ELSE left({cell(field)}, 10) END"
        )

    def email(field: str) -> str:
        value = f"lower({cell(field)})"
        return f"CASE WHEN {value} ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' THEN {value} ELSE '' END"

    cleaned = [
        zip_code("zip_code"), zip_code("mail_zip_code"), whole("year_built"), whole("square_feet"), whole("beds"),
        whole("estimated_value"), whole("estimated_equity"), number("longitude", 3, 6), number("latitude", 3, 6),
        number("baths", 3, 1), number("estimated_equity_percent", 5, 2), flag("owner_occupied"),
        flag("listed_for_sale"), flag("foreclosure"), flag("high_equity"), email("primary_email"),
        email("secondary_email"),
        f"CASE WHEN upper({cell('mail_state')}) ~ '^[A-Z]{{2}}$' THEN upper({cell('mail_state')}) ELSE '' END",
        f"CASE WHEN {cell('purchase_date')} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' "
        f"THEN {cell('purchase_date')}::date END",
        *(cell(field) for field in ("apn", "address", "city", "owner", "primary_phone", "secondary_phone")),
    ]  # fmt: skip
    end = bytes_without_footer(path)
    with connection.cursor() as cursor:
        cursor.execute("SET temp_buffers = '256MB'")
        cursor.execute("SET work_mem = '128MB'")
        raw = [f"c{n}" for n in range(len(header))]
        # n numbers the lines in file order (one COPY fills the table in order), to join them back by.
        cursor.execute(
            f"CREATE TEMP TABLE floor_raw (n bigint GENERATED ALWAYS AS IDENTITY, {' text, '.join(raw)} text)"
        )
        started = time.perf_counter()
        copy_in = f"COPY floor_raw ({', '.join(raw)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        with cursor.copy(copy_in) as copy, path.open("rb") as file:
            left = end
            while left and (chunk := file.read(min(1 << 20, left))):
                copy.write(chunk)
                left -= len(chunk)
        copied = time.perf_counter()
        columns = ", ".join(f"{expression} AS x{n}" for n, expression in enumerate(cleaned))
        cursor.execute(f"CREATE TEMP TABLE floor_clean AS SELECT n, {columns} FROM floor_raw")
        cleaned_at = time.perf_counter()
        in_python = names_and_phones_in_python(cursor, at)
        out_and_back = time.perf_counter()
        cursor.execute("CREATE TEMP TABLE floor_line AS SELECT * FROM floor_clean JOIN floor_people USING (n)")
        joined = time.perf_counter()
        cursor.execute("SELECT COUNT(*) FROM floor_line")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE floor_raw, floor_clean, floor_line, floor_people")
    figures = {
        "raw COPY": copied - started,
        "set-based cleaning": cleaned_at - copied,
        "names, phones and addresses out to Python and back": out_and_back - cleaned_at,
        "joined back": joined - out_and_back,
    }
    print(f"\nstaging in PostgreSQL ({rows:,} rows; {in_python:,} phones valid; slots not yet assembled)")
    for name, seconds in figures.items():
        print(f"  {seconds:6.2f}  {name}")
    print(f"  {sum(figures.values()):6.2f}  together")
    return figures


# The cells PostgreSQL cannot clean as the import does: phones (validation's slow path is the
# phonenumbers library), and names and addresses (display_name's casing rules).
IN_PYTHON = ("primary_name", "primary_phone", "secondary_name", "secondary_phone", "address", "city",
             "subdivision", "mail_address", "mail_city")  # fmt: skip


def names_and_phones_in_python(cursor, at: dict[str, int]) -> int:
    """Stream the cells only Python cleans out of the raw table, clean them with the import's own
    functions, and stream them back into `floor_people` by a second connection, so the server
    stores while Python cleans, as staging does today. Returns how many phones were valid."""
    import psycopg
    from django.db import connection

    from contacts.importing.entries import display_name, split_name
    from contacts.phones import normalize_phone

    cells = ", ".join(f"coalesce(btrim(c{at[field]}), '')" for field in IN_PYTHON)
    cursor.execute(
        """CREATE UNLOGGED TABLE floor_people (n bigint NOT NULL, phone_1 text, first_name_1 text,
            last_name_1 text, phone_2 text, first_name_2 text, last_name_2 text, address text, city text,
            subdivision text, mail_address text, mail_city text)"""
    )
    valid = 0
    with (
        psycopg.connect(**connection.get_connection_params()) as other,
        other.cursor().copy("COPY floor_people FROM STDIN") as into,
        cursor.copy(f"COPY (SELECT n, {cells} FROM floor_raw) TO STDOUT") as out,
    ):
        for n, name_1, raw_1, name_2, raw_2, address, city, subdivision, mail_address, mail_city in out.rows():
            phone_1 = normalize_phone(raw_1) if raw_1 else None
            phone_2 = normalize_phone(raw_2) if raw_2 else None
            valid += (phone_1 is not None) + (phone_2 is not None)
            into.write_row((
                n, phone_1, *split_name(name_1), phone_2, *split_name(name_2),
                display_name(" ".join(address.split()))[:255], display_name(city)[:100],
                display_name(subdivision)[:255], display_name(mail_address)[:255], display_name(mail_city)[:100],
            ))  # fmt: skip
    return valid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    path = setup(args.rows)
    phases = import_contacts.PhaseLog()
    import_as_built(path, "import as built", phases)
    staging = phases.seconds["staging"]
    import_as_built(path, "re-import as built", phases)
    in_postgresql = staging_in_postgresql(path)
    # The totals are bench/import_contacts.py's to judge; here, the parts to weigh against each other.
    rows = f"{args.rows:,} rows"
    record("import floor", f"{rows}: staging as built", staging, "s", target="staging in Python")
    for part in in_postgresql:
        record("import floor", f"{rows}: {part}", in_postgresql[part], "s", target="staging in PostgreSQL")
    record(
        "import floor", f"{rows}: staging in PostgreSQL, before its slots are assembled",
        sum(in_postgresql.values()), "s", target=f"< staging as built ({staging:.2f} s) to be worth building",
    )  # fmt: skip


if __name__ == "__main__":
    main()
