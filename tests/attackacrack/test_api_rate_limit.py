"""The API's rate limit: ``API_REQUESTS_PER_MINUTE`` for each user."""

import pytest
from freezegun import freeze_time

pytestmark = pytest.mark.django_db


def test_the_api_answers_429_in_its_error_shape_past_the_rate_per_user(api_client, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    with freeze_time("2026-12-02 14:00:00Z") as clock:
        answers = [api_client.get("/api/contacts").status_code for _ in range(4)]
        refused = api_client.get("/api/contacts")
        clock.tick(61)
        again = api_client.get("/api/contacts")

    assert answers == [200, 200, 200, 429]
    assert refused.json()["detail"][0]["type"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert again.status_code == 200


def test_the_api_keeps_answering_uncounted_while_the_throttles_redis_is_away(api_client, settings):
    # A real Redis client pointed at a port nothing listens on: the cache is down, as in a restart.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    settings.API_REQUESTS_PER_MINUTE = 1

    answers = [api_client.get("/api/contacts").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
