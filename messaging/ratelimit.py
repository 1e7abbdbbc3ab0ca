"""The global OpenPhone rate limit: N requests per second across every worker on every machine.

A fixed one-second window counted in Redis, keyed by Redis' own clock (``TIME``) so workers on
machines whose clocks disagree still share one window. Without Redis (``make run`` on its
embedded defaults, one machine) the window is counted in the process.
"""

import logging
import threading
import time

from django.conf import settings

# Returns {count in this second, milliseconds left in it}.
_WINDOW_SCRIPT = """
local now = redis.call('TIME')
local key = KEYS[1] .. ':' .. now[1]
local count = redis.call('INCR', key)
if count == 1 then redis.call('EXPIRE', key, 2) end
return {count, 1000 - math.floor(tonumber(now[2]) / 1000)}
"""

logger = logging.getLogger(__name__)

_local_lock = threading.Lock()
_local_window = {"second": 0, "count": 0}
_redis_script = None


def _redis_window(key: str) -> tuple[int, float]:
    global _redis_script
    if _redis_script is None:
        import redis

        _redis_script = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).register_script(_WINDOW_SCRIPT)
    count, ms_left = _redis_script(keys=[key])
    return int(count), int(ms_left) / 1000


def _local_window_count() -> tuple[int, float]:
    with _local_lock:
        now = time.time()
        second = int(now)
        if _local_window["second"] != second:
            _local_window.update(second=second, count=0)
        _local_window["count"] += 1
        return _local_window["count"], second + 1 - now


def wait_for_slot(key: str = "ratelimit:openphone") -> None:
    """Block until this process may make one more request to OpenPhone."""
    import redis

    limit = settings.OPENPHONE_RATE_LIMIT_PER_SECOND
    while True:
        try:
            count, seconds_left = _redis_window(key) if settings.REDIS_URL else _local_window_count()
        except redis.RedisError:
            # Redis is restarting: keep to the limit in this process rather than stop sending.
            logger.warning("Rate limit: Redis unavailable, counting in this process")
            count, seconds_left = _local_window_count()
        if count <= limit:
            return
        time.sleep(seconds_left + 0.001)
