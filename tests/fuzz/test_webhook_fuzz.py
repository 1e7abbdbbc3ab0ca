"""Hypothesis-made deliveries to the webhook endpoint: no 5xx for any headers and body, and every
validly signed UTF-8 JSON body is stored exactly once, byte for byte.

CI runs WEBHOOK_FUZZ_EXAMPLES (default 60) examples of each property; run it by hand with more:
``WEBHOOK_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz/test_webhook_fuzz.py``.
"""

import base64
import hashlib
import hmac
import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import WebhookEvent

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.getenv("WEBHOOK_FUZZ_EXAMPLES", "60"))
KEY = b"fuzzing-webhook-key"
URL = "/api/webhooks/openphone"
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def _keys(settings, eager_tasks):
    settings.OPENPHONE_WEBHOOK_SECRET = "whsec_" + base64.b64encode(KEY).decode()
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = base64.b64encode(KEY).decode()
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"


header_text = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"hmac;1;[0-9]{1,20};[A-Za-z0-9+/=]{0,60}", fullmatch=True),
    st.from_regex(r"(v1,[A-Za-z0-9+/=]{0,50} ?){1,3}", fullmatch=True),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just("9" * 400),
)
headers = st.dictionaries(
    st.sampled_from(
        ["HTTP_OPENPHONE_SIGNATURE", "HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE"]
    ),
    header_text,
)
# Any text, lone surrogates and NUL included, and every number JSON can spell.
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=20,
)


@st.composite
def events(draw) -> bytes:
    event = draw(st.dictionaries(any_text, json_values, max_size=4))
    if draw(st.booleans()):
        event["id"] = draw(st.one_of(any_text, st.integers(), st.text(min_size=60, max_size=300)))
    if draw(st.booleans()):
        event["type"] = draw(
            st.sampled_from(["message.received", "message.delivered", "message.failed", "call.missed"])
        )
        event["data"] = draw(
            st.fixed_dictionaries(
                {
                    "resource": st.dictionaries(
                        st.sampled_from(["id", "text", "from", "to", "createdAt", "direction"]),
                        json_values | any_text,
                        max_size=6,
                    ),  # fmt: skip
                    "context": st.dictionaries(
                        st.sampled_from(["senderIdentifier", "recipientIdentifiers"]),
                        json_values | any_text,
                        max_size=2,
                    ),
                }  # fmt: skip
            )
        )
    # Python writes NaN, Infinity and \ud800 escapes, as a sender that is not strict might.
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def standard_headers(body: bytes, webhook_id: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(KEY, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_WEBHOOK_SIGNATURE": "v1," + base64.b64encode(digest).decode(),
    }


@fuzz
@given(headers=headers, body=st.binary(max_size=300) | events())
def test_no_headers_and_no_body_make_the_endpoint_answer_5xx(client, headers, body):
    response = client.post(URL, body, content_type="application/json", **headers)

    assert response.status_code in (200, 400, 401, 413)


@fuzz
@given(body=events(), webhook_id=st.from_regex(r"msg_[A-Za-z0-9]{1,30}", fullmatch=True))
def test_every_validly_signed_event_is_stored_once_byte_for_byte(
    client, django_capture_on_commit_callbacks, body, webhook_id
):
    WebhookEvent.objects.all().delete()
    is_utf8 = True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        is_utf8 = False  # a lone surrogate written raw is not UTF-8: refused, as any non-UTF-8 body

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(URL, body, content_type="application/json", **standard_headers(body, webhook_id))
        again = client.post(URL, body, content_type="application/json", **standard_headers(body, webhook_id))

    if not is_utf8:
        assert (first.status_code, again.status_code) == (400, 400)
        assert not WebhookEvent.objects.exists()
        return
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    [event] = WebhookEvent.objects.all()
    assert bytes(event.raw_body) == body
    assert event.processed_at is not None or event.error, "processed, or marked failed for a person to see"
