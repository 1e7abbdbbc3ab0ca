"""Runs of the suite that share a PostgreSQL and a Redis server never meet, and what a crashed run
left behind goes away once it is clearly old (tests/settings.py, tests/shared_servers.py)."""

import datetime as dt
import json
import os
import random
import subprocess
import sys

import psycopg
import pytest
import redis

from tests import shared_servers


@pytest.mark.django_db
def test_the_test_database_and_every_redis_key_are_named_for_this_run(settings):
    from django.db import connection

    database, prefix = connection.settings_dict["NAME"], settings.REDIS_KEY_PREFIX

    assert database == shared_servers.database_name() and settings.TEST_RUN in database
    assert prefix == f"attackacrack_test_{settings.TEST_RUN}"


def test_each_parallel_process_of_a_run_takes_a_name_of_its_own_and_passes_it_on():
    def names(**environment: str) -> dict:
        script = "import json, os; from tests import settings as s; print(json.dumps([s.TEST_RUN, s.REDIS_KEY_PREFIX]))"
        env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"} | environment
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    run = "20261207120000_4242"
    first = names(ATTACKACRACK_TEST_RUN=run, PYTEST_XDIST_WORKER="gw0")
    second = names(ATTACKACRACK_TEST_RUN=run, PYTEST_XDIST_WORKER="gw1")
    started_by_the_first = names(ATTACKACRACK_TEST_RUN=first[0], PYTEST_XDIST_WORKER="gw0")

    assert first == [f"{run}_gw0", f"attackacrack_test_{run}_gw0"]
    assert second == [f"{run}_gw1", f"attackacrack_test_{run}_gw1"]
    assert started_by_the_first == first  # a process it starts inherits the name, not a second suffix
    assert names(ATTACKACRACK_TEST_RUN=run) == [run, f"attackacrack_test_{run}"]


def test_a_crashed_runs_databases_and_keys_are_dropped_once_a_day_old_and_unused(settings):
    base = shared_servers.configured_database()["NAME"]
    process = random.randint(10**9, 10**10)  # above any process id: no real run has this name
    now = f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
    old, in_use, recent = f"20200101000000_{process}", f"20200101000000_{process + 1}", f"{now}_{process}"
    databases = [f"test_{base}_{run}" for run in (old, f"{old}_production", in_use, recent)]
    keys = [f"attackacrack_test_{run}:celery" for run in (old, f"{old}_production", recent)]
    server = redis.Redis.from_url(settings.REDIS_URL)
    with shared_servers.server() as db:
        for name in databases:
            db.execute(f'CREATE DATABASE "{name}"')
    for key in keys:
        server.rpush(key, "a task")
    address = shared_servers.configured_database()

    try:
        with psycopg.connect(dbname=databases[2], host=address["HOST"], port=address["PORT"], user=address["USER"]):
            shared_servers.drop_what_crashed_runs_left()

        with shared_servers.server() as db:
            left = {name for (name,) in db.execute("SELECT datname FROM pg_database").fetchall()}
        assert left & set(databases) == {f"test_{base}_{in_use}", f"test_{base}_{recent}"}
        assert [server.exists(key) for key in keys] == [0, 0, 1]
    finally:
        for name in databases:
            shared_servers.drop_database(name)
        server.delete(*keys)
