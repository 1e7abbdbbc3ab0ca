"""The OpenPhone rate limit holds across workers: counted in real Redis, on Redis' clock."""

import threading
import time
from collections import Counter

import redis
from django.conf import settings

from messaging import ratelimit


def test_many_threads_never_get_more_than_the_limit_in_one_second(settings):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 10
    key = f"test:ratelimit:{time.time_ns()}"
    server = redis.Redis.from_url(settings.REDIS_URL)
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            ratelimit.wait_for_slot(key)
            seconds, _micro = server.time()
            with lock:
                granted.append(seconds)

    threads = [threading.Thread(target=worker) for _ in range(4)]  # 32 requests, as from 4 workers
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    per_second = Counter(granted)
    assert sum(per_second.values()) == 32
    assert max(per_second.values()) <= 10
    assert len(per_second) >= 3  # 32 requests at 10/s need at least three seconds


def test_without_redis_the_window_is_kept_in_the_process(settings):
    settings.REDIS_URL = ""
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 5
    started = time.monotonic()

    for _ in range(11):
        ratelimit.wait_for_slot()

    assert time.monotonic() - started >= 1.0  # the 6th and 11th had to wait for a new second


def test_the_suite_talks_to_real_redis():
    assert settings.REDIS_URL.startswith("redis://")
