"""A real Celery worker on the Redis broker, in a thread, for tests that need one (they need a
transactional database: the worker's connection sees only what is committed)."""

import contextlib
import threading
from collections.abc import Iterator

from celery.contrib.testing.worker import start_worker
from django.db import connection

from attackacrack.celery import app as celery_app

_closed = threading.Event()


@celery_app.task(name="tests.worker_closes_its_connection")
def _close_connection() -> None:
    connection.close()  # the worker thread keeps its connection; let the test database go
    _closed.set()


@contextlib.contextmanager
def real_worker() -> Iterator[object]:
    _closed.clear()
    with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING") as worker:
        yield worker
        _close_connection.delay()  # the solo pool runs tasks in order: this one last
        assert _closed.wait(timeout=10), "the worker did not finish its tasks"
