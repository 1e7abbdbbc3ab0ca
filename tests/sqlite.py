"""`make run` uses SQLite: the tests that prove a path works there run the project's commands in a
subprocess on a SQLite database, each on its own copy of one migrated database (the
``migrated_sqlite`` and ``sqlite_database`` fixtures in tests/conftest.py): migrating costs seconds."""

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.tracing import unmeasured_environment

PROJECT = Path(__file__).resolve().parents[1]


def migrate(database: Path) -> None:
    on_sqlite(database, "manage.py", "migrate", "--noinput", measured=False)


def migrated_once(database: Path) -> Path:
    """``database`` migrated, unless another process of the run did it already. The processes of
    a parallel run share the folder (pytest's base temporary folder's parent): the first to get
    the lock migrates into a file of its own and renames it, so a file there is always whole."""
    with open(database.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            migrating = database.with_suffix(f".{os.getpid()}.sqlite3")
            migrate(migrating)
            migrating.rename(database)
    return database


def on_sqlite(database: Path, *arguments: str, env: dict[str, str] | None = None, measured: bool = True) -> str:
    """Run ``python arguments`` in the project on the SQLite database ``database``; its output.
    Coverage measures it unless ``measured`` is False (tests/tracing.py)."""
    env = {
        **(os.environ if measured else unmeasured_environment()),
        "DATABASE_URL": f"sqlite:///{database}",
        "VAR_DIR": str(database.parent),
        "LOG_LEVEL": "ERROR",
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, *arguments], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def copy_of(template: Path, folder: Path) -> Path:
    database = folder / "db.sqlite3"
    shutil.copyfile(template, database)
    return database
