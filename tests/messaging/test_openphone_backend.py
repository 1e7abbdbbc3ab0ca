"""The OpenPhone client against OpenPhone's published API, faked at the HTTP boundary (every
exchange is checked against the published file when each test ends: see the `openphone` fixture)."""

import datetime as dt
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from bench.fake_openphone import error_body, gateway_body, message_resource
from messaging.backends import SMSSendError, get_backend
from messaging.backends import openphone as openphone_backend
from tests.messaging.conftest import OPENPHONE, SHOP, SHOP_PN, accepted, messages_listing, numbers_listing

PERSON = "+16175550123"
SINCE = dt.datetime(2024, 1, 15, 15, 0, tzinfo=dt.UTC)


def send():
    return get_backend().send(from_number=SHOP, to_number=PERSON, body="Hi Mary", keep_out_of_inbox=True)


def find(body: str = "Hi Mary", exclude_ids: frozenset[str] = frozenset()):
    return get_backend().find_sent(from_number=SHOP, to_number=PERSON, body=body, since=SINCE, exclude_ids=exclude_ids)


def sent(message_id: str, text: str = "Hi Mary", *, minutes: float = 0.5, to: str = PERSON) -> dict:
    return message_resource(
        message_id=message_id,
        from_number=SHOP,
        to_number=to,
        text=text,
        created_at=SINCE + dt.timedelta(minutes=minutes),
    )


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


def test_send_posts_the_documented_payload_with_the_raw_key_and_returns_data_id(openphone):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("AC3f1c"))

    external_id = send()

    assert external_id == "AC3f1c"
    request = openphone.calls[0].request
    assert request.headers["Authorization"] == "test-key-123"  # no "Bearer"
    assert json.loads(request.body) == {
        "from": SHOP,
        "to": [PERSON],
        "content": "Hi Mary",
        "setInboxStatus": "done",
    }


def test_every_request_to_openphone_waits_for_the_shared_rate_limit(openphone, settings):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 2
    arrived: list[float] = []

    def record(answer):
        def wrapper(request):
            arrived.append(time.monotonic())
            return answer(request)

        return wrapper

    def listing(body):
        return lambda request: (200, {"Content-Type": "application/json"}, json.dumps(body))

    openphone.add_callback(responses.GET, f"{OPENPHONE}/v1/phone-numbers", callback=record(listing(numbers_listing())))
    openphone.add_callback(responses.GET, f"{OPENPHONE}/v1/messages", callback=record(listing(messages_listing())))
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=record(accepted("AC3f1c")))

    find()
    send()

    # Two lookups and a send at 2 per second: the send waits for the first lookup's slot to free.
    assert len(arrived) == 3
    assert arrived[2] - arrived[0] >= 1.0


def test_429_is_retryable_and_carries_retry_after(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, headers={"Retry-After": "7"}, json=gateway_body())

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.maybe_sent, caught.value.retry_after) == (True, False, 7.0)


def test_openphones_500_is_retryable_but_may_have_been_sent_and_keeps_its_code(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", status=500, json=error_body(500))

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.maybe_sent, caught.value.code) == (True, True, "0201500")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_is_retryable_but_may_have_been_sent(openphone, status):
    openphone.post(f"{OPENPHONE}/v1/messages", status=status, json=gateway_body("upstream failed"))

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.maybe_sent, caught.value.account_level) == (True, True, "")


@pytest.mark.parametrize(
    ("status", "code", "cause"),
    [
        (400, "0206400", "account"),  # A2P registration not approved: fixed in OpenPhone
        (401, "0200401", "key_refused"),  # our key: replaced by us
        (402, "0200402", "account"),  # no credits: fixed in OpenPhone
        (403, "0202403", "key_refused"),  # the key's user is not on the number
    ],
)
def test_refusals_of_the_whole_account_are_final_and_name_their_cause(openphone, status, code, cause):
    openphone.post(f"{OPENPHONE}/v1/messages", status=status, json=error_body(status))

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.account_level, caught.value.code) == (False, cause, code)
    assert code in str(caught.value) and str(status) in str(caught.value)


def test_a_refusal_of_this_text_is_final_for_it_alone_with_the_providers_reason(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", status=404, json=error_body(404, "Invalid 'to' number"))

    with pytest.raises(SMSSendError) as caught:
        send()

    assert (caught.value.retryable, caught.value.account_level, caught.value.code) == (False, "", "0200404")
    assert "Invalid 'to' number" in str(caught.value)


def test_a_read_timeout_may_have_been_sent_a_connect_timeout_was_not(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", body=requests.ReadTimeout("slow"))
    with pytest.raises(SMSSendError) as read:
        send()
    openphone.replace(responses.POST, f"{OPENPHONE}/v1/messages", body=requests.ConnectTimeout("no route"))
    with pytest.raises(SMSSendError) as connect:
        send()

    assert (read.value.retryable, read.value.maybe_sent) == (True, True)
    assert (connect.value.retryable, connect.value.maybe_sent) == (True, False)


def test_find_sent_asks_by_number_id_participant_in_form_style_and_time(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing())
    openphone.get(f"{OPENPHONE}/v1/messages", json=messages_listing(sent("ACother", minutes=-5), sent("ACfound")))

    found = find()

    assert found == "ACfound"
    listing = openphone.calls[-1].request
    assert "participants=%2B16175550123" in listing.url and "participants%5B%5D" not in listing.url
    assert query_of(openphone.calls[-1]) == {
        "phoneNumberId": [SHOP_PN],
        "participants": [PERSON],
        "createdAfter": ["2024-01-15T15:00:00.000Z"],
        "maxResults": ["100"],
    }


def test_find_sent_follows_every_page_and_knows_the_number_id_after_one_lookup(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing())
    pages = [messages_listing(sent("ACx", "Other", to="+16175550999"), next_page_token="tok2"), messages_listing()]
    pages[1] = messages_listing(sent("ACpage2"))

    def page(request):
        token = parse_qs(urlparse(request.url).query).get("pageToken", [""])[0]
        return 200, {"Content-Type": "application/json"}, json.dumps(pages[1] if token == "tok2" else pages[0])

    openphone.add_callback(responses.GET, f"{OPENPHONE}/v1/messages", callback=page)

    assert find() == "ACpage2"
    assert find() == "ACpage2"

    paths = [urlparse(call.request.url).path for call in openphone.calls]
    assert paths.count("/v1/phone-numbers") == 1
    assert [query_of(call).get("pageToken") for call in openphone.calls[1:3]] == [None, ["tok2"]]


def test_a_re_encoded_text_is_still_found_by_recipient_and_time(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing())
    openphone.get(f"{OPENPHONE}/v1/messages", json=messages_listing(sent("ACsmart", "It\u2019s Mary\u2019s offer")))

    assert find("It's Mary's offer") == "ACsmart"


def test_the_body_as_re_encoded_breaks_a_tie_between_two_candidates(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing())
    openphone.get(
        f"{OPENPHONE}/v1/messages",
        json=messages_listing(sent("ACfirst", "Call me", minutes=0.1), sent("ACours", "It\u2019s Mary", minutes=0.2)),
    )

    assert find("It's Mary") == "ACours"


def test_the_exact_body_breaks_a_tie_and_texts_we_know_are_not_ours(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing())
    openphone.get(
        f"{OPENPHONE}/v1/messages",
        json=messages_listing(sent("ACstaff", "Call me", minutes=0.1), sent("ACours", minutes=0.2)),
    )

    assert find() == "ACours"
    assert find("Call me", exclude_ids=frozenset({"ACstaff"})) == "ACours"
    assert find(exclude_ids=frozenset({"ACstaff", "ACours"})) is None


def test_a_number_that_is_not_the_accounts_is_said_plainly(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing("+16175550999"))

    with pytest.raises(SMSSendError, match=r"\+16175550100 is not a number of this OpenPhone account"):
        find()


def test_a_refused_lookup_keeps_openphones_code(openphone):
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing())
    openphone.get(f"{OPENPHONE}/v1/messages", status=402, json=error_body(402))

    with pytest.raises(SMSSendError) as caught:
        find()

    assert (caught.value.code, caught.value.account_level) == ("0200402", "account")


def test_without_an_api_key_the_backend_refuses_to_start(openphone, settings):
    settings.OPENPHONE_API_KEY = ""

    with pytest.raises(SMSSendError, match="OPENPHONE_API_KEY") as caught:
        get_backend()
    assert caught.value.account_level == "no_api_key"


def test_one_pooled_session_per_process_reuses_its_connections():
    openphone_backend.session.cache_clear()  # as in a new process

    pooled = openphone_backend.session()

    assert openphone_backend.session() is pooled
    for url in ("https://api.openphone.com/v1/messages", "http://127.0.0.1:8090/v1/messages"):
        adapter = pooled.get_adapter(url)
        assert (adapter._pool_connections, adapter._pool_maxsize) == (2, 10)
