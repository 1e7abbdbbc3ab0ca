"""`make run` uses SQLite: the same import pipeline must give the same answers there.

PostgreSQL's path streams the staged lines through COPY, keeps the first line of each phone and
house with DISTINCT ON and spares the row-by-row foreign-key checks; SQLite's inserts in batches,
keeps the first by GROUP BY and checks every row. Same file, same answers: every contact, house,
link and rejection, and the report's every count, compared by natural key
(tests/contacts/stored_rows.py) on hypothesis-made files, on generated PropertyRadar exports, and
on a later export imported over an earlier one (the re-import's updates and fills).
The same comparison is the one to run against any new path for the import.
"""

import csv
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contacts.importing.samples import write_propertyradar_csv
from tests.contacts.csv_files import propertyradar_csv
from tests.contacts.stored_rows import REPORT_FIELDS, import_and_snapshot
from tests.contacts.test_import_pipeline import HOUSEHOLDS
from tests.fuzz.test_csv_fuzz import csv_files
from tests.sqlite import copy_of, on_sqlite


def test_import_and_reimport_on_sqlite_report_what_postgresql_reports(sqlite_database, tmp_path):
    path = tmp_path / "radar.csv"
    path.write_bytes(propertyradar_csv(HOUSEHOLDS))
    database = sqlite_database

    first = on_sqlite(database, "manage.py", "import_contacts", str(path))
    second = on_sqlite(database, "manage.py", "import_contacts", str(path))

    def count(report: str, label: str) -> int:
        return int(re.search(rf"{label}\s+([\d,]+)\n", report)[1])

    assert [count(first, label) for label in ("contacts created", "duplicate phones folded", "rejected")] == [4, 2, 2]
    assert count(first, "Properties created") == 5
    assert count(second, "contacts unchanged") == 4
    assert count(second, "Properties unchanged") == 5
    assert count(second, "contacts created") == 0


def stored_on_sqlite(template: Path, *contents: bytes) -> dict:
    """The files imported one after the other into a copy of ``template``, in a folder of their own."""
    folder = Path(tempfile.mkdtemp(dir=template.parent))
    files = [folder / f"import-{n}.csv" for n in range(len(contents))]
    for file, content in zip(files, contents, strict=True):
        file.write_bytes(content)
    database = copy_of(template, folder)
    return json.loads(on_sqlite(database, "-m", "tests.contacts.stored_rows", *map(str, files)).splitlines()[-1])


def stored_on_postgresql(*contents: bytes) -> dict:
    with transaction.atomic():
        stored = json.loads(json.dumps(import_and_snapshot(*contents)))  # the same plain values SQLite's side prints
        transaction.set_rollback(True)
    return stored


SNAPSHOT_PARTS = ("refused", "report", "contacts", "properties", "links", "rejections", "consent_changes")


def assert_same(postgresql: dict, sqlite: dict) -> None:
    for part in (*SNAPSHOT_PARTS, "houses_searched"):
        assert postgresql[part] == sqlite[part], part


# no_cover: untraced, as tests/tracing.py says.
@pytest.mark.long
@pytest.mark.no_cover
@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=csv_files())
def test_a_hypothesis_made_file_stores_the_same_rows_on_both_paths(migrated_sqlite, content):
    postgresql = stored_on_postgresql(content)
    event("refused" if postgresql["refused"] else f"imported, {min(len(postgresql['contacts']), 3)}+ contacts")
    assert_same(postgresql, stored_on_sqlite(migrated_sqlite, content))


def generated_export(seed: int) -> bytes:
    text = io.StringIO(newline="")
    write_propertyradar_csv(text, rows=400, seed=seed)
    return text.getvalue().encode()


@pytest.mark.no_cover
@pytest.mark.django_db
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000))
def test_a_generated_propertyradar_export_stores_the_same_rows_on_both_paths(migrated_sqlite, seed):
    content = generated_export(seed)

    postgresql = stored_on_postgresql(content)

    assert postgresql["refused"] is None
    assert len(postgresql["contacts"]) > 300  # a real file, not an empty agreement
    assert_same(postgresql, stored_on_sqlite(migrated_sqlite, content))


def newer_export(earlier: bytes, other: bytes, *, every: int) -> bytes:
    """A later export of ``earlier``'s houses, every ``every``-th with its value and equity moved,
    and ``other``'s (new houses, many of the same phones under other names)."""

    def houses(content: bytes) -> list[dict[str, str]]:
        return [row for row in csv.DictReader(io.StringIO(content.decode())) if row["APN"]]  # not the footer

    moved = houses(earlier)
    for row in moved[::every]:
        row["Est Value"], row["Est Equity $"] = str(int(row["Est Value"]) + 5000), str(int(row["Est Equity $"]) + 5000)
    return propertyradar_csv(moved + houses(other))


@pytest.mark.no_cover
@pytest.mark.django_db
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(seeds=st.lists(st.integers(0, 10_000), min_size=2, max_size=2, unique=True), every=st.integers(2, 7))
def test_a_later_export_over_an_earlier_one_stores_the_same_rows_on_both_paths(migrated_sqlite, seeds, every):
    earlier = generated_export(seeds[0])
    later = newer_export(earlier, generated_export(seeds[1]), every=every)

    postgresql = stored_on_postgresql(earlier, later)

    report = dict(zip(REPORT_FIELDS, postgresql["report"], strict=True))
    assert report["properties_updated"] > 0 and report["properties_unchanged"] > 0, report
    assert report["properties_created"] > 0 and report["contacts_unchanged"] > 0, report
    assert_same(postgresql, stored_on_sqlite(migrated_sqlite, earlier, later))
