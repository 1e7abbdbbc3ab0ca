"""The contract check itself: it follows OpenPhone's published file, it fails a fake or a client
that drifts from it, and the drills' fake OpenPhone passes it in every outcome it can give."""

import datetime as dt

import pytest
import requests
import responses

from bench.fake_openphone import MESSAGE_ERRORS, FakeOpenPhone, error_body, gateway_body, message_resource, phone_number
from messaging.backends import SMSSendError, get_backend
from messaging.backends import openphone as openphone_backend
from tests.openphone.contract import ContractViolation, check_calls, check_exchange

API = "https://api.openphone.com"
SHOP = "+16175550100"
PERSON = "+16175550123"


def exchange(method: str, url: str, *, answer: dict | None = None, status: int = 200, **request_options):
    """One request through `requests` to a `responses` fake; the calls, for checking."""
    with responses.RequestsMock() as fake:
        fake.add(method, url.split("?")[0], json=answer, status=status)
        requests.request(method, url, headers={"Authorization": "key"}, timeout=5, **request_options)
        return list(fake.calls)


def test_a_phone_number_listing_with_the_field_renamed_fails_the_contract():
    good = {"data": [phone_number(number=SHOP)]}
    renamed = {"data": [{**phone_number(number=SHOP)}]}
    renamed["data"][0]["phoneNumber"] = renamed["data"][0].pop("number")

    check_calls(exchange("GET", f"{API}/v1/phone-numbers", answer=good))
    with pytest.raises(ContractViolation, match="'number' is a required property"):
        check_calls(exchange("GET", f"{API}/v1/phone-numbers", answer=renamed))


def test_participants_with_brackets_fails_the_contract_and_form_style_passes():
    listing = {"data": [], "totalItems": 0, "nextPageToken": None}
    query = {"phoneNumberId": "PNshop0001", "maxResults": 10}

    check_calls(exchange("GET", f"{API}/v1/messages", answer=listing, params={**query, "participants": [PERSON]}))
    with pytest.raises(ContractViolation, match="participants"):
        check_calls(exchange("GET", f"{API}/v1/messages", answer=listing, params={**query, "participants[]": [PERSON]}))


def test_a_send_answer_missing_a_field_or_a_request_missing_one_fails_the_contract():
    message = message_resource(
        message_id="AC1", from_number=SHOP, to_number=PERSON, text="Hi", created_at=dt.datetime.now(dt.UTC)
    )
    del message["phoneNumberId"]
    with pytest.raises(ContractViolation, match="phoneNumberId"):
        check_calls(exchange("POST", f"{API}/v1/messages", answer={"data": message}, status=202, json={
            "from": SHOP, "to": [PERSON], "content": "Hi"}))  # fmt: skip
    with pytest.raises(ContractViolation, match="content"):
        check_calls(exchange("POST", f"{API}/v1/messages", answer={"data": message}, status=202, json={
            "from": SHOP, "to": [PERSON]}))  # fmt: skip


def test_an_error_body_must_be_the_one_the_file_gives_that_status():
    request = {"from": SHOP, "to": [PERSON], "content": "Hi"}
    for status in MESSAGE_ERRORS:
        check_calls(exchange("POST", f"{API}/v1/messages", answer=error_body(status), status=status, json=request))
    check_calls(exchange("POST", f"{API}/v1/messages", answer=error_body(402), status=402, json=request))
    with pytest.raises(ContractViolation, match="0200402"):
        check_calls(exchange("POST", f"{API}/v1/messages", answer={**error_body(402), "code": "X"}, status=402,
                             json=request))  # fmt: skip
    with pytest.raises(ContractViolation, match="lists no such answer"):
        check_calls(exchange("POST", f"{API}/v1/messages", answer=error_body(404), status=422, json=request))
    check_calls(exchange("POST", f"{API}/v1/messages", answer=gateway_body(), status=429, json=request))
    with pytest.raises(ContractViolation, match="gateway"):
        check_calls(exchange("POST", f"{API}/v1/messages", answer={"error": "slow"}, status=429, json=request))


def test_a_request_without_the_api_key_header_fails_the_contract():
    with responses.RequestsMock() as fake:
        fake.get(f"{API}/v1/phone-numbers", json={"data": []})
        requests.get(f"{API}/v1/phone-numbers", timeout=5)
        with pytest.raises(ContractViolation):
            check_exchange(fake.calls[0].request, fake.calls[0].response)


# --- The drills' fake, over real HTTP, through our own client --------------------------------


@pytest.fixture
def checked_exchanges():
    """Every exchange our client's session makes, kept for checking against the file."""
    exchanges: list[tuple[requests.PreparedRequest, requests.Response]] = []

    def keep(response, *args, **kwargs):
        exchanges.append((response.request, response))

    session = openphone_backend.session()
    session.hooks["response"].append(keep)
    yield exchanges
    session.hooks["response"].remove(keep)


@pytest.fixture
def fake_openphone(settings, request):
    script, reencode = getattr(request, "param", ([], False))
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=1.0, flaky=False, script=script, reencode=reencode)
    settings.SMS_BACKEND = "messaging.backends.openphone.SMSBackend"
    settings.OPENPHONE_API_KEY = "fake-key"
    settings.OPENPHONE_API_URL = fake.url
    # Short only where a scripted answer is meant to come too late; elsewhere a loaded machine
    # answering in 0.6 s is not a timeout the test is about.
    settings.OPENPHONE_READ_TIMEOUT = 0.5 if "too slow after accepting" in script else 10
    openphone_backend.forget_phone_number_ids()
    yield fake
    fake.stop()


@pytest.mark.parametrize("fake_openphone", [(list(FakeOpenPhone.OUTCOMES), True)], indirect=True)
def test_every_answer_of_the_drills_fake_follows_the_file(fake_openphone, checked_exchanges):
    backend = get_backend()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    outcomes = []
    for outcome in FakeOpenPhone.OUTCOMES:
        try:
            backend.send(from_number=SHOP, to_number=PERSON, body=f"It's text {outcome}", keep_out_of_inbox=True)
            outcomes.append((outcome, "sent"))
        except SMSSendError as error:
            outcomes.append((outcome, "retryable" if error.retryable else "final"))
    # Two texts were kept without a 202 reaching us; both are found by the reconcile lookup.
    found = [
        backend.find_sent(from_number=SHOP, to_number=PERSON, body=f"It's text {outcome}", since=since)
        for outcome in ("500 after accepting", "too slow after accepting")
    ]

    assert outcomes == [
        ("202", "sent"),
        ("429", "retryable"),
        ("500 before accepting", "retryable"),
        ("500 after accepting", "retryable"),
        ("too slow after accepting", "retryable"),
    ]
    assert found == ["AC00000001", "AC00000002"]
    assert len(checked_exchanges) == 7  # five sends (one timed out: no answer), a number lookup, two listings
    for request, response in checked_exchanges:
        check_exchange(request, response)


def test_the_drills_fake_pages_a_long_history_and_the_client_follows_it(fake_openphone, checked_exchanges, settings):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 1000  # a local fake: no need to wait
    backend = get_backend()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    for n in range(230):
        backend.send(from_number=SHOP, to_number=PERSON, body=f"text {n}")

    found = backend.find_sent(from_number=SHOP, to_number=PERSON, body="text 229", since=since)

    assert found == "AC00000229"
    pages = [request for request, _ in checked_exchanges if request.method == "GET" and "/v1/messages" in request.url]
    assert len(pages) == 3 and "pageToken=200" in pages[-1].url
    for request, response in checked_exchanges:
        check_exchange(request, response)


def test_the_drills_fake_lists_texts_both_ways_as_the_file_says_and_the_history_reads_them(
    fake_openphone, checked_exchanges, settings
):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 1000
    settings.CATCH_UP_REQUESTS_PER_SECOND = 1000
    backend = get_backend()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    backend.send(from_number=SHOP, to_number=PERSON, body="Hi, about your foundation")
    fake_openphone.receive(sender=PERSON, text="STOP")
    fake_openphone.receive(sender="+16175550177", text="Someone else's reply")

    history = backend.message_history(from_number=SHOP, participant=PERSON, since=since)

    assert [(record.direction, record.body, record.from_number) for record in history] == [
        ("outgoing", "Hi, about your foundation", SHOP),
        ("incoming", "STOP", PERSON),
    ]
    assert backend.requests_made == 3  # the send, the number's id, one page
    for request, response in checked_exchanges:
        check_exchange(request, response)
