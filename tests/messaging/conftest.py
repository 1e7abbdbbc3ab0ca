import json

import pytest
import responses

OPENPHONE = "https://api.openphone.test"
SHOP_PN = "PNshop0001"


@pytest.fixture
def openphone(settings):
    """OpenPhone faked at the HTTP boundary, with the shapes its API documents."""
    settings.SMS_BACKEND = "messaging.backends.openphone.SMSBackend"
    settings.OPENPHONE_API_KEY = "test-key-123"
    settings.OPENPHONE_API_URL = OPENPHONE
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        yield fake


def accepted(request_id: str = "AC0001"):
    """A 202 the way OpenPhone answers POST /v1/messages: the id under data.id."""

    def callback(request):
        sent = json.loads(request.body)
        data = {
            "id": request_id,
            "to": sent["to"],
            "from": sent["from"],
            "text": sent["content"],
            "direction": "outgoing",
            "status": "queued",
            "createdAt": "2024-01-15T15:00:00.000Z",
        }
        return 202, {}, json.dumps({"data": data})

    return callback


def posts(fake) -> list[dict]:
    return [json.loads(call.request.body) for call in fake.calls if call.request.method == "POST"]


@pytest.fixture
def eager_tasks(celery_settings):
    """Celery tasks run inline when enqueued (the real-worker tests are elsewhere)."""
    celery_settings(task_always_eager=True)
