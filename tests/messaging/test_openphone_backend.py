"""The OpenPhone client against OpenPhone's documented shapes, faked at the HTTP boundary."""

import datetime as dt
import json
import time

import pytest
import requests
import responses

from messaging.backends import SMSSendError, get_backend
from tests.messaging.conftest import OPENPHONE, SHOP_PN, accepted


def send():
    return get_backend().send(
        from_number="+16175550100", to_number="+16175550123", body="Hi Mary", keep_out_of_inbox=True
    )


def test_send_posts_the_documented_payload_with_the_raw_key_and_returns_data_id(openphone):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("AC3f1c"))

    result = send()

    assert result.external_id == "AC3f1c"
    request = openphone.calls[0].request
    assert request.headers["Authorization"] == "test-key-123"  # no "Bearer"
    assert json.loads(request.body) == {
        "from": "+16175550100",
        "to": ["+16175550123"],
        "content": "Hi Mary",
        "setInboxStatus": "done",
    }


def test_every_request_to_openphone_waits_for_the_shared_rate_limit(openphone, settings):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 2
    arrived: list[float] = []

    def record(callback):
        def wrapper(request):
            arrived.append(time.monotonic())
            return callback(request)

        return wrapper

    listing = {"data": [{"id": SHOP_PN, "phoneNumber": "+16175550100"}]}
    openphone.add_callback(
        responses.GET, f"{OPENPHONE}/v1/phone-numbers", callback=record(lambda r: (200, {}, json.dumps(listing)))
    )
    openphone.add_callback(
        responses.GET, f"{OPENPHONE}/v1/messages", callback=record(lambda r: (200, {}, '{"data": []}'))
    )
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=record(accepted("AC3f1c")))

    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    get_backend().find_sent(from_number="+16175550100", to_number="+16175550123", body="Hi Mary", since=since)
    send()

    # Two lookups and a send at 2 per second: the send waits for the first lookup's slot to free.
    assert len(arrived) == 3
    assert arrived[2] - arrived[0] >= 1.0


def test_429_is_retryable_and_carries_retry_after(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, headers={"Retry-After": "7"}, json={"message": "slow"})

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.maybe_sent, caught.value.retry_after) == (True, False, 7.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retryable_but_may_have_been_sent(openphone, status):
    openphone.post(f"{OPENPHONE}/v1/messages", status=status, body="oops")

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.maybe_sent) == (True, True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_4xx_are_final_with_the_providers_reason(openphone, status):
    openphone.post(f"{OPENPHONE}/v1/messages", status=status, json={"message": "Invalid 'to' number"})

    with pytest.raises(SMSSendError) as caught:
        send()

    assert caught.value.retryable is False
    assert "Invalid 'to' number" in str(caught.value)
    assert str(status) in str(caught.value)


def test_a_read_timeout_may_have_been_sent_a_connect_timeout_was_not(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", body=requests.ReadTimeout("slow"))
    with pytest.raises(SMSSendError) as read:
        send()
    openphone.replace(responses.POST, f"{OPENPHONE}/v1/messages", body=requests.ConnectTimeout("no route"))
    with pytest.raises(SMSSendError) as connect:
        send()

    assert (read.value.retryable, read.value.maybe_sent) == (True, True)
    assert (connect.value.retryable, connect.value.maybe_sent) == (True, False)


def test_find_sent_looks_the_text_up_by_number_id_participant_and_time(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json={"data": [{"id": SHOP_PN, "phoneNumber": "+16175550100"}]})
    openphone.get(
        f"{OPENPHONE}/v1/messages",
        json={
            "data": [
                {"id": "ACother", "direction": "outgoing", "text": "Something else"},
                {"id": "ACfound", "direction": "outgoing", "text": "Hi Mary", "status": "sent"},
            ],
            "totalItems": 2,
        },
    )

    found = get_backend().find_sent(
        from_number="+16175550100",
        to_number="+16175550123",
        body="Hi Mary",
        since=dt.datetime(2024, 1, 15, 15, 0, tzinfo=dt.UTC),
    )

    assert found.external_id == "ACfound"
    listing = openphone.calls[-1].request
    assert "phoneNumberId=PNshop0001" in listing.url
    assert "participants%5B%5D=%2B16175550123" in listing.url
    assert "createdAfter=2024-01-15T15%3A00%3A00Z" in listing.url


def test_without_an_api_key_the_backend_refuses_to_start(openphone, settings):
    settings.OPENPHONE_API_KEY = ""

    with pytest.raises(SMSSendError, match="OPENPHONE_API_KEY"):
        get_backend()
