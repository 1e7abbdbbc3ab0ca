"""What the API takes in: JSON bodies, and requests at a bounded rate per user.

Kept apart from ``attackacrack.web.api``: DRF loads these classes while ``rest_framework.views`` is
still being imported, so their module may not import it.
"""

import logging
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework import exceptions, parsers, throttling

logger = logging.getLogger(__name__)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with JSON nested too deep for Python's parser refused as malformed."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None


class UserRateThrottle(throttling.UserRateThrottle):
    """``API_REQUESTS_PER_MINUTE`` for each user, counted in the shared cache across processes."""

    def get_rate(self) -> str:
        return f"{settings.API_REQUESTS_PER_MINUTE}/min"

    def timer(self) -> float:
        # DRF keeps a reference to time.time from import; read the clock at call time instead,
        # the one every other rule reads (and the tests pin).
        return time.time()

    def allow_request(self, request: Any, view: Any) -> bool:
        # The counts live in Redis; while it is away (a restart) the API keeps answering, uncounted,
        # rather than failing every call over a limit meant to catch runaway scripts.
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            logger.warning("API throttle skipped: the cache is unavailable (%s)", type(error).__name__)
            return True
