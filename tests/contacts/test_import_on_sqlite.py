"""`make run` uses SQLite: the same import pipeline must give the same answers there."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.contacts.csv_files import propertyradar_csv
from tests.contacts.test_import_pipeline import HOUSEHOLDS

PROJECT = Path(__file__).resolve().parents[2]


def manage(tmp_path: Path, *arguments: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_and_reimport_on_sqlite_report_what_postgresql_reports(tmp_path):
    path = tmp_path / "radar.csv"
    path.write_bytes(propertyradar_csv(HOUSEHOLDS))
    manage(tmp_path, "migrate", "--noinput")

    first = manage(tmp_path, "import_contacts", str(path))
    second = manage(tmp_path, "import_contacts", str(path))

    def count(report: str, label: str) -> int:
        return int(re.search(rf"{label}\s+([\d,]+)\n", report)[1])

    assert [count(first, label) for label in ("contacts created", "duplicate phones folded", "rejected")] == [4, 2, 2]
    assert count(first, "Properties created") == 5
    assert count(second, "contacts unchanged") == 4
    assert count(second, "Properties unchanged") == 5
    assert count(second, "contacts created") == 0
