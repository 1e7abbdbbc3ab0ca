"""What the API takes in: JSON bodies, and requests at a bounded rate per user.

Kept apart from ``attackacrack.web.api``: DRF loads these classes while ``rest_framework.views`` is
still being imported, so their module may not import it.
"""

import time
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, throttling


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
