"""Running migrations to a point in a test, for the tests of migrations that move data.

Such a test runs on a new, empty database of its own (``new_database``): migrating forward from
nothing to the point before the migration costs far less than taking the test database back
there (Django works out the models of every migration on the way back, and again on the way to
the latest), and nothing needs putting back afterwards."""

import contextlib
from collections.abc import Iterator

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import shared_servers


def migrate(targets: list[tuple[str, str]]) -> Apps:
    """Migrate the database to ``targets``; returns the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """On to the current schema (a test whose migration is the last step of the upgrade)."""
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@contextlib.contextmanager
def new_database() -> Iterator[None]:
    """The default connection on a new, empty database of this run's until the block ends, when
    that database is dropped and the test database is the connection's again."""
    name = shared_servers.database_name("_migrations")
    with shared_servers.server() as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    test_database = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = test_database
        shared_servers.drop_database(name)
