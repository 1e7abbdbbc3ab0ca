"""The webhook bodies we build (simulate_inbound, the drills, the suite's fakes) have the shapes
OpenPhone documents: the same keys, nested the same way, with the same JSON types, as the
examples in tests/openphone/openphone-api.md. A builder that drifts from the document fails here."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from messaging import webhook_payloads

SPEC = Path(__file__).resolve().parents[1] / "openphone" / "openphone-api.md"


def documented_examples() -> dict[str, dict]:
    """The JSON examples of a ``message.received`` event, by webhook system, from the document."""
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", SPEC.read_text(), re.S)]
    events = [example for example in examples if example.get("type") == "message.received"]
    return {
        webhook_payloads.LEGACY: next(event for event in events if "object" in event["data"]),
        webhook_payloads.CURRENT: next(event for event in events if "resource" in event["data"]),
    }


def shape(value):
    """Keys and JSON types, all the way down; a list by the shape of its first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize("system", webhook_payloads.SYSTEMS)
def test_an_inbound_text_has_the_documented_shape(system):
    built = webhook_payloads.message_event(
        "message.received",
        system=system,
        sender="+16175550123",
        recipient="+16175550100",
        text="Yes, how much?",
        at=dt.datetime(2026, 4, 13, 12, 0, tzinfo=dt.UTC),
    )

    assert shape(built) == shape(documented_examples()[system])


def test_a_change_to_a_builder_would_fail_the_comparison():
    current = documented_examples()[webhook_payloads.CURRENT]
    moved = json.loads(json.dumps(current))
    moved["data"]["resource"]["from"] = moved["data"]["context"].pop("senderIdentifier")

    assert shape(moved) != shape(current)


def test_the_current_systems_signature_verifies_with_the_reference_library():
    secret = "whsec_" + "c2lnbmluZy1zZWNyZXQ="
    raw = json.dumps({"id": "EV1", "type": "message.received"}).encode()
    now = dt.datetime.now(dt.UTC)

    headers = webhook_payloads.signed_headers(raw, system=webhook_payloads.CURRENT, key=secret, at=now)

    assert Webhook(secret).verify(raw, headers) == {"id": "EV1", "type": "message.received"}
