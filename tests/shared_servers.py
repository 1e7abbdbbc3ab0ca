"""What one run of the suite keeps on the PostgreSQL and Redis servers it shares with other runs.

Everything is named for the run (``settings.TEST_RUN``: when it started and its process, see
tests/settings.py): its databases ``test_<DATABASE_URL's name>_<run>[_<suffix>]`` and its Redis
keys, all under ``settings.REDIS_KEY_PREFIX``. A run drops its databases and deletes its keys when
it ends. A run that crashed cannot; what it left is dropped by a later run once it is a day old
and nobody is connected to it: a whole run takes under a quarter of an hour.
"""

import datetime as dt
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import psycopg
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.tracing import unmeasured_environment, untraced

STALE_AFTER = dt.timedelta(days=1)
RUN_NAME = r"(?P<started>\d{14})_\d+"
REDIS_RUN_PREFIX = "attackacrack_test_"  # tests/settings.py: REDIS_KEY_PREFIX is this and the run
POSTGRESQL_MAX_NAME = 63  # longer identifiers are cut short, and two runs' names could meet


def configured_database() -> dict:
    """DATABASE_URL's database as the settings read it: once the test database is made, Django
    gives the settings' own its name."""
    return dj_database_url.config()


def database_name(suffix: str = "") -> str:
    """This run's database: ``database_name()`` is the test database, others add a suffix."""
    name = f"test_{configured_database()['NAME']}_{settings.TEST_RUN}{suffix}"
    if len(name.encode()) > POSTGRESQL_MAX_NAME:
        raise ValueError(f"{name} is longer than PostgreSQL's {POSTGRESQL_MAX_NAME} bytes: shorten DATABASE_URL's name")
    return name


def template_name() -> str:
    """The run's migrated database, which each of its parallel processes copies into its own test
    database (CREATE DATABASE … TEMPLATE copies files in about a second; migrating costs about 7 s of
    CPU)."""
    run = settings.TEST_RUN.removesuffix(f"_{os.environ.get('PYTEST_XDIST_WORKER', '')}")
    return f"test_{configured_database()['NAME']}_{run}_template"


def migrated_template() -> str:
    """The run's template, migrated by the first process to need it unless the run's controller
    is migrating it already (``start_migrating_template``): that one holds the lock waited on here."""
    name = template_name()
    with _locked(name):
        if not _exists(name):
            _make_template(name, migrate=_migrate_here)
    return name


def start_migrating_template() -> threading.Thread:
    """For a parallel run: the template migrated in a Python of its own, unmeasured, while the
    run's processes start and collect the tests (about as long), not after, when they would wait.
    If it fails, the first process to need the template migrates it and shows why."""
    name = template_name()
    lock = _locked(name)  # taken before any process of the run can ask

    def migrate() -> None:
        with lock:
            if not _exists(name):
                _make_template(name, migrate=_migrate_in_subprocess)

    thread = threading.Thread(target=migrate, name="migrate-template", daemon=True)
    thread.start()
    return thread


def _locked(name: str) -> psycopg.Connection:
    """A connection holding the lock on making ``name``, until it is closed: a session-level
    advisory lock, which goes with the connection if the process holding it dies."""
    db = server()
    db.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
    return db


def _exists(name: str) -> bool:
    with server() as db:
        return db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _make_template(name: str, *, migrate: Callable[[str], bool]) -> None:
    """Migrated into a database of another name, renamed once whole."""
    making = f"{name}_making"
    with server() as db:
        db.execute(f'DROP DATABASE IF EXISTS "{making}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{making}"')
    if migrate(making):
        with server() as db:
            db.execute(f'ALTER DATABASE "{making}" RENAME TO "{name}"')


def _migrate_here(database: str) -> bool:
    saved = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = database
    try:
        with untraced():
            call_command("migrate", verbosity=0, interactive=False)
    finally:
        connection.close()  # CREATE DATABASE … TEMPLATE refuses a template anyone is connected to
        connection.settings_dict["NAME"] = saved
    return True


def _migrate_in_subprocess(database: str) -> bool:
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=Path(__file__).resolve().parents[1],
        env=unmeasured_environment() | {"DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url},
        capture_output=True,
    )
    return migrated.returncode == 0


def server() -> psycopg.Connection:
    """An autocommit connection to the server's ``postgres`` database, for CREATE and DROP DATABASE."""
    database = configured_database()
    return psycopg.connect(
        dbname="postgres",
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        autocommit=True,
    )


def drop_database(name: str) -> None:
    with server() as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_redis_keys(prefix: str) -> int:
    """Delete every key under ``prefix`` (``<prefix>:...``, as REDIS_KEY_PREFIX names them); never
    FLUSHDB: other runs and deployments share the database."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    deleted = 0
    for batch in _batches(client.scan_iter(match=f"{prefix}:*", count=1000)):
        deleted += client.delete(*batch)
    return deleted


def drop_what_crashed_runs_left() -> None:
    """Drop the databases and Redis keys of runs that started over a day ago, databases only if
    nobody is connected to them."""
    base = re.escape(f"test_{configured_database()['NAME']}_")
    databases = re.compile(rf"{base}{RUN_NAME}(_\w+)?")
    with server() as db:
        names = db.execute(
            "SELECT datname FROM pg_database WHERE NOT EXISTS "
            "(SELECT FROM pg_stat_activity WHERE pg_stat_activity.datname = pg_database.datname)"
        ).fetchall()
    for (name,) in names:
        if (match := databases.fullmatch(name)) and _stale(match["started"]):
            drop_database(name)
    if settings.REDIS_URL:
        keys = re.compile(rf"(?P<prefix>{REDIS_RUN_PREFIX}{RUN_NAME}(_\w+)?):")
        client = redis.Redis.from_url(settings.REDIS_URL)
        stale = {
            match["prefix"]
            for key in client.scan_iter(match=f"{REDIS_RUN_PREFIX}*", count=1000)
            if (match := keys.match(key.decode(errors="replace"))) and _stale(match["started"])
        }
        for prefix in stale:
            delete_redis_keys(prefix)


def _stale(started: str) -> bool:
    started_at = dt.datetime.strptime(started, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC) - started_at > STALE_AFTER


def _batches(keys, size: int = 500):
    batch = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
