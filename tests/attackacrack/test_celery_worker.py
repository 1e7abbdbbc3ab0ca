"""A real Celery worker on the Redis broker keeps its database connection between tasks."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from attackacrack.celery import app as celery_app

backend_pids: list[int] = []
three_tasks_ran = threading.Event()


@celery_app.task(name="tests.record_backend_pid")
def record_backend_pid() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pids.append(cursor.fetchone()[0])
    if len(backend_pids) == 3:
        connection.close()  # the proof is in; let the test database go at teardown
        three_tasks_ran.set()


@pytest.mark.django_db
def test_worker_reuses_one_database_connection_across_tasks(settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert celery_app.conf.broker_url.startswith("redis://")
    backend_pids.clear()
    three_tasks_ran.clear()

    with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        for _ in range(3):
            record_backend_pid.delay()
        assert three_tasks_ran.wait(timeout=20), f"the worker ran {len(backend_pids)} of 3 tasks"

    # One PostgreSQL backend served all three tasks: no connect/disconnect per task.
    assert len(set(backend_pids)) == 1, backend_pids
