"""What the API takes in: JSON bodies, and requests at a bounded rate per user.

Kept apart from ``attackacrack.web.api``: DRF loads these classes while ``rest_framework.views`` is
still being imported, so their module may not import it.
"""

import logging
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework import exceptions, parsers, throttling

from attackacrack.web.middleware import client_address
from messaging import ratelimit

logger = logging.getLogger(__name__)

# The window API_REQUESTS_PER_MINUTE is counted over.
WINDOW_SECONDS = 60.0


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with JSON nested too deep for Python's parser refused as malformed."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None


class UserRateThrottle(throttling.BaseThrottle):
    """``API_REQUESTS_PER_MINUTE`` for each user, taken atomically in Redis by every process.

    DRF's own throttle reads a user's list of request times from the cache, appends and writes it
    back, so requests that race read the same list and all get through. This one takes a slot in
    one Redis script. A sliding window (``messaging.ratelimit``, as for OpenPhone): at most N in any 60 seconds. A
    counter per clock minute would be cheaper, one number a user instead of a sorted set of up to N
    request times, but would let 2N through across the turn of a minute and could only tell a
    refused script to wait for the next minute; at the API's N the set is small."""

    key_prefix = "ratelimit:api"

    def allow_request(self, request: Any, view: Any) -> bool:
        self.seconds_to_wait = None
        # Permissions are checked first: only the API-not-found answer lets an anonymous caller
        # here, counted by address as DRF's throttle did.
        if request.user.is_authenticated:
            key = f"{self.key_prefix}:user:{request.user.pk}"
        else:
            key = f"{self.key_prefix}:address:{client_address(request)}"
        try:
            wait = ratelimit.take_slot(key, limit=settings.API_REQUESTS_PER_MINUTE, window_seconds=WINDOW_SECONDS)
        except RedisError as error:
            # While Redis is away (a restart) the API keeps answering, uncounted, rather than failing
            # every call over a limit meant to catch runaway scripts.
            logger.warning("API throttle skipped: Redis is unavailable (%s)", type(error).__name__)
            return True
        self.seconds_to_wait = wait
        return wait <= 0

    def wait(self) -> float | None:
        return self.seconds_to_wait
