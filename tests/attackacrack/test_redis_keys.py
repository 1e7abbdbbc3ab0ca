"""Every key the project writes to Redis starts with REDIS_KEY_PREFIX, so deployments (and runs of
this suite) that share one Redis database never take each other's tasks or counts."""

import uuid

import redis

from attackacrack.celery import app as celery_app
from messaging import ratelimit


def test_the_brokers_queue_and_the_rate_limits_all_keep_under_the_prefix(settings):
    marker = f"prefix-check-{uuid.uuid4().hex}"
    server = redis.Redis.from_url(settings.REDIS_URL)

    celery_app.send_task("tests.never_run", queue=f"{marker}-queue")  # no worker listens there
    ratelimit.take_slot(f"{marker}-count", limit=600, window_seconds=60)  # as the API counts a user's calls
    ratelimit.wait_for_slot(f"{marker}-window")  # as a worker waits for OpenPhone's

    # Every key naming the marker, under any prefix or none, is under this run's own.
    written = {key.decode() for key in server.scan_iter(match=f"*{marker}*", count=1000)}
    server.delete(*written)
    prefix = settings.REDIS_KEY_PREFIX
    assert written == {
        f"{prefix}:{marker}-queue",
        f"{prefix}:_kombu.binding.{marker}-queue",
        f"{prefix}:{marker}-count",
        f"{prefix}:{marker}-window",
    }
