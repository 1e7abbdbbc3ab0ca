"""What one run of the suite keeps on the PostgreSQL and Redis servers it shares with other runs.

Everything is named for the run (``settings.TEST_RUN``: when it started and its process, see
tests/settings.py): its databases ``test_<DATABASE_URL's name>_<run>[_<suffix>]`` and its Redis
keys, all under ``settings.REDIS_KEY_PREFIX``. A run drops its databases and deletes its keys when
it ends. A run that crashed cannot; what it left is dropped by a later run once it is a day old
and nobody is connected to it: a whole run takes under a quarter of an hour.
"""

import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import dj_database_url
import psycopg
import redis
from django.conf import settings

from tests.tracing import unmeasured_environment

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


class TemplateNotMigrated(Exception):
    """``manage.py migrate`` failed on the run's template; the message is its output."""


def migrated_template() -> str:
    """The run's template, made by the first process to need it unless the run's controller is
    making it already (``start_migrating_template``), holding the lock waited on here."""
    name = template_name()
    with _locked(name):
        _make_unless_made(name)
    return name


def start_migrating_template() -> threading.Thread:
    """For a parallel run: the template made while the run's processes start and collect the tests
    (about as long), not after, when they would wait. If it fails, the first process to need the
    template tries again and fails with the output."""
    name = template_name()
    lock = _locked(name)  # taken before any process of the run can ask

    def migrate() -> None:
        with lock, contextlib.suppress(TemplateNotMigrated):
            _make_unless_made(name)

    thread = threading.Thread(target=migrate, name="migrate-template", daemon=True)
    thread.start()
    return thread


def _locked(name: str) -> psycopg.Connection:
    """A connection holding the lock on making ``name``, until it is closed: a session-level
    advisory lock, which goes with the connection if the process holding it dies."""
    db = server()
    db.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
    return db


def _make_unless_made(name: str) -> None:
    """``manage.py migrate`` in a Python of its own, unmeasured (tests/tracing.py), into a database
    of another name that is renamed once whole."""
    with server() as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        db.execute(f'DROP DATABASE IF EXISTS "{name}_making" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}_making"')
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}_making").geturl()
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=Path(__file__).resolve().parents[1],
        env=unmeasured_environment() | {"DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if migrated.returncode != 0:
        raise TemplateNotMigrated(migrated.stdout + migrated.stderr)
    with server() as db:
        db.execute(f'ALTER DATABASE "{name}_making" RENAME TO "{name}"')


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
