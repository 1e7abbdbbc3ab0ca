"""Rate limits held across every process on every machine: N requests in any window of time.
``take_slot`` answers at once (the API's N a minute per user, ``attackacrack/web/api_input.py``);
``wait_for_slot`` waits for OpenPhone's N in any one second.

A sliding window: the times of the latest requests are kept in a Redis sorted set (its name
starts with ``REDIS_KEY_PREFIX``, as every key of the project's does), keyed by Redis' own clock
(``TIME``) so workers on machines whose clocks disagree share one window. A fixed per-second
counter would let 2N through across the turn of a second, and OpenPhone answers 429 to that.
Taking a slot is one Lua script, so racing processes never share one. Without Redis (``make run``
on its embedded defaults, one machine) the window is kept in the process.
"""

import logging
import threading
import time
import uuid
from collections import deque

import redis
from django.conf import settings
from redis.commands.core import Script

# A request reaches OpenPhone some milliseconds after its slot is taken, and those delays vary:
# counting over a slightly longer window keeps OpenPhone's own count of any second under N.
WINDOW_SECONDS = 1.1

# Takes a slot and returns 0, or returns the microseconds until the oldest request leaves the window.
# Numbers go to Redis through %d: Lua would print a 16-digit number as 1.7e+15.
_WINDOW_SCRIPT = """
local limit, window_us = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now_us - window_us))
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], string.format('%d', now_us), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window_us / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window_us - now_us)
"""

logger = logging.getLogger(__name__)

_local_lock = threading.Lock()
_local_windows: dict[str, deque[float]] = {}
_redis_scripts: dict[str, Script] = {}  # by REDIS_URL


def take_slot(key: str, *, limit: int, window_seconds: float) -> float:
    """Take one of ``limit`` slots in the window ``key`` of the last ``window_seconds``: 0 when it
    is taken, else the seconds until one frees. Raises ``redis.RedisError`` while Redis is away."""
    if not settings.REDIS_URL:
        return _local_wait(key, limit, window_seconds)
    script = _redis_scripts.get(settings.REDIS_URL)
    if script is None:
        server = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        script = _redis_scripts[settings.REDIS_URL] = server.register_script(_WINDOW_SCRIPT)
    window_us = int(window_seconds * 1_000_000)
    keys = [f"{settings.REDIS_KEY_PREFIX}:{key}"]
    return int(script(keys=keys, args=[limit, window_us, uuid.uuid4().hex])) / 1_000_000


def _local_wait(key: str, limit: int, window_seconds: float) -> float:
    with _local_lock:
        window = _local_windows.setdefault(key, deque())
        now = time.monotonic()
        while window and window[0] <= now - window_seconds:
            window.popleft()
        if len(window) < limit:
            window.append(now)
            return 0.0
        return window[0] + window_seconds - now


def wait_for_slot(key: str = "ratelimit:openphone", *, limit: int | None = None) -> None:
    """Block until this process may make one more request to OpenPhone (``limit`` a second in
    the window ``key``; by default the account's whole limit)."""
    limit = limit or settings.OPENPHONE_RATE_LIMIT_PER_SECOND
    while True:
        try:
            wait = take_slot(key, limit=limit, window_seconds=WINDOW_SECONDS)
        except redis.RedisError:
            # Redis is restarting: keep to the limit in this process rather than stop sending.
            logger.warning("Rate limit: Redis unavailable, counting in this process")
            wait = _local_wait(key, limit, WINDOW_SECONDS)
        if wait <= 0:
            return
        time.sleep(wait + 0.001)
