"""Where the million-row import's time goes, and what the two rewrites issue 23 proposed would cost.

    .venv/bin/python bench/import_floor.py [--rows 1000000]

On the generated PropertyRadar export (bench/import_contacts.py makes it), in a fresh database
`attackacrack_bench` on DATABASE_URL's server, one after the other:

1. The import as built, first import and re-import: staging and merge (the pipeline's own log),
   and the time of every statement of its merge.
2. Staging in PostgreSQL instead of Python: the raw file COPYed into a table of text columns by
   PostgreSQL's own CSV parser, then the cells Python cleans today (ZIPs, whole numbers, decimals,
   dates, yes/no flags, e-mails, states) cleaned set-based into a second table. The SQL accepts
   only the plain form of each cell (the rules in contacts/importing/entries.py have more
   branches) and leaves names and phones to Python, so its time is a lower bound on that path.
   Python's staging as built reads, cleans and COPYs on one core while the server stores on the
   other; the SQL path runs on the server alone, after the file is in.
3. One pass per table on the re-import: each staged house and phone classified (stored or new,
   changed or not) by one LEFT JOIN into its first-of-each table, against the passes the merge
   makes today for the same answers (deduplicate, count, update, insert).

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

    def spent_on(self, table: str) -> float:
        """Seconds of the merge's statements that deduplicate, count, update or insert ``table``
        (``houses``: contacts_property, ``phones``: contacts_contact), the links' aside."""
        first, stored = {"houses": ("import_property_first", "contacts_property "),
                         "phones": ("import_entry_first", "contacts_contact ")}[table]  # fmt: skip
        return sum(
            seconds
            for seconds, sql in self.seen
            if (first in sql or stored in sql + " ") and "import_household" not in sql and "import_link" not in sql
        )


def import_as_built(path: Path, label: str, phases: import_contacts.PhaseLog) -> StatementTimes:
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
    return times


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
        cursor.execute(f"CREATE TEMP TABLE floor_raw ({', '.join(f'c{n} text' for n in range(len(header)))})")
        started = time.perf_counter()
        with cursor.copy("COPY floor_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, path.open("rb") as file:
            left = end
            while left and (chunk := file.read(min(1 << 20, left))):
                copy.write(chunk)
                left -= len(chunk)
        copied = time.perf_counter()
        columns = ", ".join(f"{expression} AS x{n}" for n, expression in enumerate(cleaned))
        cursor.execute(f"CREATE TEMP TABLE floor_clean AS SELECT {columns} FROM floor_raw")
        done = time.perf_counter()
        cursor.execute("SELECT COUNT(*) FROM floor_clean")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE floor_raw, floor_clean")
    figures = {"raw COPY": copied - started, "set-based cleaning": done - copied}
    print(f"\nstaging in PostgreSQL ({rows:,} rows; names and phones not included)")
    for name, seconds in figures.items():
        print(f"  {seconds:6.2f}  {name}")
    print(f"  {sum(figures.values()):6.2f}  together, on the server's one core")
    return figures


def one_pass_per_table(path: Path, as_built: StatementTimes) -> dict[str, float]:
    """On a database that holds the file already: the re-import's classification in one LEFT JOIN a table."""
    from django.db import connection, transaction

    from contacts.importing import loader, pipeline
    from contacts.importing.entries import PROPERTY_COLUMNS
    from contacts.models import ContactImport

    changed = " OR ".join(f"p.{column} IS DISTINCT FROM f.{column}" for column in PROPERTY_COLUMNS[1:])
    houses = " UNION ALL ".join(
        f"""SELECT f.*, p.id AS stored_id, p.id IS NOT NULL AND ({changed}) AS changed
            FROM (SELECT DISTINCT ON ({key}) * FROM import_property f WHERE {keyed} ORDER BY {key}, line_number) f
            LEFT JOIN contacts_property p ON {same}"""
        for key, keyed, same in loader._house_keys("f")
    )
    statements = {
        "houses classified": f"CREATE TEMP TABLE floor_house AS {houses}",
        "phones classified": """CREATE TEMP TABLE floor_phone AS
            SELECT f.*, c.id AS stored_id, c.not_textable_reason,
                (c.first_name = '' AND c.last_name = '' AND (f.first_name <> '' OR f.last_name <> ''))
                OR (c.email = '' AND f.email <> '') OR (c.state = '' AND f.state <> '')
                OR (c.address = '' AND c.city = '' AND c.zip_code = ''
                    AND (f.address <> '' OR f.city <> '' OR f.zip_code <> '')) AS fills
            FROM (SELECT DISTINCT ON (phone) * FROM import_entry WHERE phone <> '' ORDER BY phone, seq) f
            LEFT JOIN contacts_contact c ON c.phone = f.phone""",
    }  # fmt: skip
    figures = {}
    with path.open("rb") as file, loader.staging_tables():
        rows, mapping = pipeline.inspect_file(file=file)
        contact_import = ContactImport.objects.create(
            file_name=path.name, file_size=0, status=ContactImport.Status.RUNNING
        )
        pipeline._stage(contact_import, file, rows, mapping, None, 0)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '128MB'")
            cursor.execute("ANALYZE import_line (line_number, phone_1, phone_2, apn, address_key, zip_code)")
            for name, sql in statements.items():
                started = time.perf_counter()
                cursor.execute(sql)
                figures[name] = time.perf_counter() - started
            transaction.set_rollback(True)
    print("\none pass per table, re-import (classification only: nothing to write), beside the passes as built")
    for (name, seconds), table in zip(figures.items(), ("houses", "phones"), strict=True):
        print(f"  {seconds:6.2f}  {name}   (as built: {as_built.spent_on(table):.2f})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    path = setup(args.rows)
    phases = import_contacts.PhaseLog()
    import_as_built(path, "import as built", phases)
    staging = phases.seconds["staging"]
    again = import_as_built(path, "re-import as built", phases)
    in_postgresql = staging_in_postgresql(path)
    one_pass = one_pass_per_table(path, again)
    # The totals are bench/import_contacts.py's to judge; here, the parts to weigh against each other.
    rows = f"{args.rows:,} rows"
    record("import floor", f"{rows}: staging as built", staging, "s", target="staging in Python")
    record("import floor", f"{rows}: raw COPY", in_postgresql["raw COPY"], "s", target="staging in PostgreSQL")
    record(
        "import floor", f"{rows}: set-based cleaning", in_postgresql["set-based cleaning"], "s",
        target="staging in PostgreSQL (lower bound)",
    )  # fmt: skip
    record("import floor", f"{rows}: one-pass classification", sum(one_pass.values()), "s", target="re-import")
    passes = again.spent_on("houses") + again.spent_on("phones")
    record("import floor", f"{rows}: the same answers as built", passes, "s", target="re-import")


if __name__ == "__main__":
    main()
