import datetime
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from attackacrack import celery as celery_module
from attackacrack.celery import app as celery_app
from messaging.backends import locmem
from messaging.backends import openphone as openphone_backend
from tests import migrations, shared_servers, sqlite
from tests.factories import StaffUserFactory
from tests.openphone import FAKE_API_URL
from tests.openphone.contract import check_calls


def pytest_collection_modifyitems(config, items: list[pytest.Item]) -> None:
    """In a parallel run, each process starts with the tests marked ``long``, shared out among
    them: pytest-xdist's worksteal gives each process an equal run of the list to begin with
    (others take from its end later), so a long test left near the end would finish last alone.
    A module's long tests stay together, so a module-scoped fixture is set up once."""
    processes = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    long = [item for item in items if item.get_closest_marker("long")]
    if processes < 2 or not long:
        return
    modules: dict[str, list[pytest.Item]] = {}
    for item in long:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    shares: list[list[pytest.Item]] = [[] for _ in range(processes)]
    for module in sorted(modules.values(), key=len, reverse=True):
        min(shares, key=len).extend(module)
    rest = iter([item for item in items if not item.get_closest_marker("long")])
    ordered, remaining = [], len(items)
    for process, mine in enumerate(shares):
        share = remaining // (processes - process)  # as worksteal shares out the list
        ordered += mine + [next(rest) for _ in range(share - len(mine))]
        remaining -= share
    items[:] = ordered + list(rest)


TEMPLATE_MIGRATION = pytest.StashKey[threading.Thread]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller of a parallel run (pytest-xdist's) starts migrating the run's template
    while its processes start."""
    database = django_settings.DATABASES["default"]
    if session.config.pluginmanager.hasplugin("dsession") and database["ENGINE"] == "django.db.backends.postgresql":
        session.config.stash[TEMPLATE_MIGRATION] = shared_servers.start_migrating_template()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's template is dropped once every process is done with it: by the controller of a
    parallel run, which made it, or by the only process of another, if it needed one."""
    needed_one = django_settings.DATABASES["default"].get("TEST", {}).get("TEMPLATE")
    if migration := session.config.stash.get(TEMPLATE_MIGRATION, None):
        migration.join()
    elif os.environ.get("PYTEST_XDIST_WORKER") or not needed_one:
        return
    shared_servers.drop_database(shared_servers.template_name())
    shared_servers.drop_database(f"{shared_servers.template_name()}_making")


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory) -> Path:
    """A folder of this run's, shared by its parallel processes."""
    folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = folder.parent  # each process has a folder of its own in the run's
    return folder


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_blocker) -> None:
    """This run's own test database. pytest-django's would be test_<name> for every run, and a
    second run on the same server would drop it under the first. It is a copy of the run's
    migrated template, which the run's controller or else the first process to get here migrates
    (tests/shared_servers.py)."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        with django_db_blocker.unblock():
            template = shared_servers.migrated_template()
        database.setdefault("TEST", {}).update(NAME=shared_servers.database_name(), TEMPLATE=template)


@pytest.fixture(scope="session", autouse=True)
def _suite_runs_on_postgresql(django_db_setup, django_db_blocker) -> None:
    # The suite proves behaviour on the database production uses; SQLite would hide
    # locking, constraint and time-zone differences.
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(
                f"The test suite runs on PostgreSQL, not {connection.vendor}: run `make test` "
                "or set DATABASE_URL=postgres://...",
                returncode=2,
            )


@pytest.fixture(scope="session", autouse=True)
def _the_run_leaves_nothing_on_the_shared_servers(_suite_runs_on_postgresql, django_db_blocker) -> Iterator[None]:
    """Deletes this run's Redis keys when it ends, and what crashed runs left behind once it is
    clearly old (tests/shared_servers.py). pytest-django then drops the test database, which
    PostgreSQL refuses while any other session is on it: a Celery worker thread of a test keeps
    its own connection, so every session but this one is ended first (the database is this run's)."""
    shared_servers.drop_what_crashed_runs_left()
    yield
    shared_servers.delete_redis_keys(django_settings.REDIS_KEY_PREFIX)
    if connection.settings_dict["NAME"] != shared_servers.database_name():
        return  # no test asked for the database: none was made
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def new_database(django_db_blocker) -> Iterator[None]:
    """For a test of a migration that moves data: a new, empty database (tests/migrations.py)."""
    with django_db_blocker.unblock(), migrations.new_database():
        yield


@pytest.fixture(scope="session")
def migrated_sqlite(run_folder) -> Path:
    """A SQLite database migrated once for the run (tests/sqlite.py), by whichever of the run's
    parallel processes first needs it. Never written to: a test that runs anything on it takes
    ``sqlite_database``, a copy."""
    return sqlite.migrated_once(run_folder / "migrated.sqlite3")


@pytest.fixture
def sqlite_database(migrated_sqlite, tmp_path) -> Path:
    return sqlite.copy_of(migrated_sqlite, tmp_path)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Django's default hasher spends ~0.4 s a password by design; the suite makes hundreds of
    # users. Sign-in, lockout and role behaviour are the same whatever the hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sms_outbox(settings) -> list[locmem.SentSMS]:
    """Tests never text anyone: texts land in an in-memory outbox, emptied per test."""
    settings.SMS_BACKEND = "messaging.backends.locmem.SMSBackend"
    locmem.outbox.clear()
    return locmem.outbox


@pytest.fixture
def celery_settings():
    """Override Celery settings for one test: ``celery_settings(task_always_eager=True)``.

    The app reads the Django settings' ``CELERY_*`` names before the plain ones, so a plain
    ``app.conf.task_always_eager = True`` would be shadowed; overrides go under those names."""
    originals: dict[str, object] = {}

    def override(**values: object) -> None:
        for name, value in values.items():
            key = f"CELERY_{name.upper()}"
            originals.setdefault(key, celery_app.conf[name])
            celery_app.conf[key] = value

    yield override
    for key, value in originals.items():
        celery_app.conf[key] = value


@pytest.fixture(autouse=True)
def _broker_reachable_again() -> None:
    # A hand-over that failed makes this process skip the broker for a while: not across tests.
    celery_module._broker_away_until = 0.0


@pytest.fixture
def broker_away(celery_settings, monkeypatch):
    """The broker unreachable (nothing listens where the app looks for it) until the test ends,
    or until it calls the fixture's value to bring the broker back."""

    def point_at(url: str) -> None:
        monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads the environment's before its settings
        celery_settings(broker_url=url)
        celery_app._after_fork()  # as after a fork: the connection pools are built again from settings
        celery_module._broker_away_until = 0.0

    original = celery_app.conf.broker_url
    point_at("redis://127.0.0.1:1/0")
    yield lambda: point_at(original)
    point_at(original)


@pytest.fixture
def openphone(settings):
    """OpenPhone faked at the HTTP boundary. Every request the client made and every answer the
    fake gave is checked against OpenPhone's published OpenAPI file when the test ends."""
    settings.SMS_BACKEND = "messaging.backends.openphone.SMSBackend"
    settings.OPENPHONE_API_KEY = "test-key-123"
    settings.OPENPHONE_API_URL = FAKE_API_URL
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    openphone_backend.forget_phone_number_ids()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        yield fake
        check_calls(fake.calls)


@pytest.fixture
def eager_tasks(celery_settings):
    """Celery tasks run inline when enqueued (the real-worker tests are elsewhere)."""
    celery_settings(task_always_eager=True)


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def owner_user(db):
    return StaffUserFactory(role="owner")


@pytest.fixture
def owner_client(owner_user) -> APIClient:
    """An API client signed in as the owner, who may also do what staff may not."""
    return bearer_client(owner_user)


@pytest.fixture
def staff_client(client, staff_user):
    """The staff pages, signed in as staff (what the owner alone may do is refused)."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def owner_pages(client, owner_user):
    """The staff pages, signed in as the owner, who sees every page (the API token page included);
    what staff may not see is proved in tests/attackacrack/test_roles.py."""
    client.force_login(owner_user)
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_client(staff_user) -> APIClient:
    """A client that authenticates as the user's contract does: ``Authorization: Bearer``."""
    return bearer_client(staff_user)


def bearer_client(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def open_all_day(settings, tmp_path):
    """For tests whose worker thread runs on the real clock: the business and every recipient
    may be texted at any hour, so the outcome does not depend on when the suite runs."""
    settings.BUSINESS_DAYS = frozenset(range(7))
    settings.BUSINESS_OPENS, settings.BUSINESS_CLOSES = datetime.time(0, 0), datetime.time(23, 59, 59)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"default_hours": ["00:00", "23:59:59"], "state_hours": {}, "state_caps": {}}))
    settings.RECIPIENT_RULES_FILE = str(rules)
