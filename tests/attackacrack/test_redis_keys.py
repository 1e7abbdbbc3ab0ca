"""Every key the project writes to Redis starts with REDIS_KEY_PREFIX, so deployments (and runs of
this suite) that share one Redis database never take each other's tasks or counts."""

import uuid

import redis
from django.core.cache import cache

from attackacrack.celery import app as celery_app
from messaging import ratelimit


def test_the_brokers_queue_the_cache_and_the_rate_limit_all_keep_under_the_prefix(settings):
    marker = f"prefix-check-{uuid.uuid4().hex}"
    server = redis.Redis.from_url(settings.REDIS_URL)

    celery_app.send_task("tests.never_run", queue=f"{marker}-queue")  # no worker listens there
    cache.set(f"{marker}-count", 1, timeout=60)
    ratelimit.wait_for_slot(f"{marker}-window")

    # Every key naming the marker, under any prefix or none, is under this run's own.
    written = {key.decode() for key in server.scan_iter(match=f"*{marker}*", count=1000)}
    server.delete(*written)
    prefix = settings.REDIS_KEY_PREFIX
    assert written == {
        f"{prefix}:{marker}-queue",
        f"{prefix}:_kombu.binding.{marker}-queue",
        f"{prefix}:1:{marker}-count",  # the cache adds the entry's version
        f"{prefix}:{marker}-window",
    }
