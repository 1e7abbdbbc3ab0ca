"""The API's rate limit: ``API_REQUESTS_PER_MINUTE`` for each user, exact however many processes
and threads race for it, counted in real Redis (or in the process when there is none)."""

import logging
import threading
import time

import pytest
import redis
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from attackacrack.web import api_input
from attackacrack.web.api_input import UserRateThrottle
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def race(user, *, threads: int, tries_each: int) -> int:
    """How many of ``threads`` x ``tries_each`` requests by ``user``, all started at once, the
    throttle let through."""
    request = Request(APIRequestFactory().get("/api/contacts"))
    request.user = user
    start = threading.Barrier(threads)
    allowed: list[bool] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        for _ in range(tries_each):
            answer = UserRateThrottle().allow_request(request, view=None)
            with lock:
                allowed.append(answer)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(allowed) == threads * tries_each
    return sum(allowed)


def test_twelve_racing_threads_get_exactly_the_limit_through_redis(settings):
    settings.API_REQUESTS_PER_MINUTE = 60
    user = StaffUserFactory()

    through = race(user, threads=12, tries_each=20)

    assert through == 60  # of 240
    window = f"{settings.REDIS_KEY_PREFIX}:{UserRateThrottle.key_prefix}:user:{user.pk}"
    counted = redis.Redis.from_url(settings.REDIS_URL).zcard(window)
    assert counted == 60


def test_without_redis_racing_threads_get_exactly_the_limit_through_in_the_process(settings):
    settings.REDIS_URL = ""  # `make run` on its embedded defaults
    settings.API_REQUESTS_PER_MINUTE = 60

    through = race(StaffUserFactory(), threads=12, tries_each=20)

    assert through == 60  # of 240


def test_the_api_answers_429_in_its_error_shape_past_the_rate_per_user(api_client, owner_client, settings):
    settings.API_REQUESTS_PER_MINUTE = 3

    answers = [api_client.get("/api/contacts").status_code for _ in range(4)]
    refused = api_client.get("/api/contacts")
    someone_else = owner_client.get("/api/contacts")

    assert answers == [200, 200, 200, 429]
    assert refused.json()["detail"][0]["type"] == "throttled"
    assert 58 <= int(refused["Retry-After"]) <= 60  # when the first of the three leaves the minute
    assert someone_else.status_code == 200


def test_anonymous_callers_are_counted_by_address(anonymous_client, settings):
    settings.API_REQUESTS_PER_MINUTE = 2

    answers = [anonymous_client.get("/api/no-such-thing", REMOTE_ADDR="203.0.113.7").status_code for _ in range(3)]
    elsewhere = anonymous_client.get("/api/no-such-thing", REMOTE_ADDR="198.51.100.20")

    assert answers == [404, 404, 429]
    assert elsewhere.status_code == 404


def test_a_refused_user_is_let_in_again_once_their_first_request_leaves_the_window(api_client, settings, monkeypatch):
    monkeypatch.setattr(api_input, "WINDOW_SECONDS", 1.0)  # a minute is long to wait in a test
    settings.API_REQUESTS_PER_MINUTE = 2
    answers = [api_client.get("/api/contacts").status_code for _ in range(3)]
    refused = api_client.get("/api/contacts")

    time.sleep(1.05)
    again = api_client.get("/api/contacts")

    assert answers == [200, 200, 429]
    assert refused["Retry-After"] == "1"
    assert again.status_code == 200


def test_the_api_keeps_answering_uncounted_while_redis_is_away(api_client, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # a real client, a port nothing listens on: a restart
    settings.API_REQUESTS_PER_MINUTE = 1

    with caplog.at_level(logging.WARNING, logger="attackacrack.web.api_input"):
        answers = [api_client.get("/api/contacts").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert "API throttle skipped" in caplog.text
