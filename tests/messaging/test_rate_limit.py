"""The OpenPhone rate limit holds across workers: counted in real Redis, on Redis' clock."""

import threading
import time

import redis
from django.conf import settings

from messaging import ratelimit


def most_in_any_second(times: list[float]) -> int:
    """Times are read just after each slot is granted, late by however long the thread waited for
    the CPU (over 100 ms seen on this 2-core machine under the whole suite). The limiter keeps N in
    any 1.1 s window, so readings up to 200 ms late still hold N in any 0.9 s; a fixed window's 2N,
    within milliseconds, is caught all the same."""
    times = sorted(times)
    return max(sum(1 for later in times[i:] if later - at < 0.9) for i, at in enumerate(times))


def test_many_threads_never_get_more_than_the_limit_in_any_one_second(settings):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 10
    key = f"test:ratelimit:{time.time_ns()}"
    server = redis.Redis.from_url(settings.REDIS_URL)
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            ratelimit.wait_for_slot(key)
            seconds, micros = server.time()
            with lock:
                granted.append(seconds + micros / 1_000_000)

    threads = [threading.Thread(target=worker) for _ in range(4)]  # 32 requests, as from 4 workers
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Not only per calendar second: across the turn of a second too (a fixed window lets 20 through).
    assert len(granted) == 32
    assert most_in_any_second(granted) <= 10
    assert max(granted) - min(granted) >= 3.0  # 32 requests at 10/s: the 31st waits for the 21st + 1 s


def test_without_redis_the_window_is_kept_in_the_process(settings):
    settings.REDIS_URL = ""
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 5
    started = time.monotonic()

    granted = []
    for _ in range(11):
        ratelimit.wait_for_slot()
        granted.append(time.monotonic())

    assert most_in_any_second(granted) <= 5
    assert granted[-1] - started >= 2.0  # the 6th waited for the 1st + 1 s, the 11th for the 6th + 1 s


def test_the_suite_talks_to_real_redis():
    assert settings.REDIS_URL.startswith("redis://")
