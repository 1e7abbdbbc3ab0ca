import datetime as dt
import json

import pytest

from bench.fake_openphone import PHONE_NUMBER_ID, message_resource, phone_number
from tests.openphone import FAKE_API_URL
from tests.workers import real_worker

OPENPHONE = FAKE_API_URL
SHOP_PN = PHONE_NUMBER_ID
SHOP = "+16175550100"
# The one confirmation of an opt-out names the business, as carriers expect.
STOP_CONFIRMATION = (
    "You've been unsubscribed from Attack-a-Crack Foundation Repair texts and will get no more. "
    "Reply START to resubscribe."
)


def accepted(request_id: str = "AC0001"):
    """A 202 the way OpenPhone answers POST /v1/messages: the message under data."""

    def callback(request):
        sent = json.loads(request.body)
        data = message_resource(
            message_id=request_id,
            from_number=sent["from"],
            to_number=sent["to"][0],
            text=sent["content"],
            created_at=dt.datetime.now(dt.UTC),
        )
        return 202, {"Content-Type": "application/json"}, json.dumps({"data": data})

    return callback


def numbers_listing(number: str = SHOP) -> dict:
    return {"data": [phone_number(number=number)]}


def messages_listing(*messages: dict, next_page_token: str | None = None) -> dict:
    return {"data": list(messages), "totalItems": len(messages), "nextPageToken": next_page_token}


def posts(fake) -> list[dict]:
    return [json.loads(call.request.body) for call in fake.calls if call.request.method == "POST"]


@pytest.fixture
def worker():
    """A real Celery worker on the Redis broker, in a thread (tests using it need a transactional db)."""
    with real_worker() as running:
        yield running
