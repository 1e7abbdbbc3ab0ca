"""POST /api/webhooks/openphone: both signature schemes, raw storage, idempotency, processing."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from campaigns.models import CampaignContact
from contacts.models import Contact, OptOutEvent
from messaging import webhook_payloads
from messaging.models import ConsentReview, Message, WebhookEvent
from tests.campaigns.conftest import text_of
from tests.factories import CampaignContactFactory, CampaignSendFactory, ContactFactory
from tests.messaging.conftest import STOP_CONFIRMATION

pytestmark = pytest.mark.django_db

LEGACY_KEY = base64.b64encode(b"legacy-signing-key-bytes").decode()
STANDARD_KEY = b"standard-webhooks-secret"
STANDARD_SECRET = "whsec_" + base64.b64encode(STANDARD_KEY).decode()
URL = "/api/webhooks/openphone"


@pytest.fixture(autouse=True)
def _webhook_keys(settings, eager_tasks):
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = LEGACY_KEY
    settings.OPENPHONE_WEBHOOK_SECRET = STANDARD_SECRET
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    settings.SMS_BACKEND = "messaging.backends.locmem.SMSBackend"


def received(body: str, *, sender: str = "+16175550123", message_id: str = "AC7e1f", event_id: str = "EVd39d") -> dict:
    """A legacy inbound text in the older spelling OpenPhone's docs allow: ``body`` for the text and
    ``to`` as a string (openphone-api.md), with the message's time at receipt."""
    event = webhook_payloads.message_event(
        "message.received",
        system=webhook_payloads.LEGACY,
        sender=sender,
        recipient="+16175550100",
        text=body,
        at=dt.datetime(2026, 1, 15, 14, 2, 10, 900000, tzinfo=dt.UTC),
        message_id=message_id,
        event_id=event_id,
    )
    message = event["data"]["object"]
    message["body"], message["to"] = message.pop("text"), message["to"][0]
    return event


def legacy_headers(raw: bytes, *, at_ms: int | None = None, key: str = LEGACY_KEY) -> dict[str, str]:
    at = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC) if at_ms is not None else dt.datetime.now(dt.UTC)
    return {"HTTP_OPENPHONE_SIGNATURE": webhook_payloads.legacy_signature(raw, key=key, at=at)}


def standard_headers(raw: bytes, *, webhook_id: str = "msg_1", at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(STANDARD_KEY, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_WEBHOOK_SIGNATURE": f"v1,bm90LXRoaXMtb25l v1,{base64.b64encode(digest).decode()}",
    }


def deliver(client, payload: dict | bytes, *, scheme: str = "legacy", **header_options):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = legacy_headers(raw, **header_options) if scheme == "legacy" else standard_headers(raw, **header_options)
    return client.post(URL, raw, content_type="application/json", **headers)


def test_a_legacy_signed_reply_is_stored_raw_and_becomes_a_message(client, django_capture_on_commit_callbacks):
    payload = received("Yes, how much?")

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, payload)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": "EVd39d", "duplicate": False}
    event = WebhookEvent.objects.get()
    assert json.loads(bytes(event.raw_body)) == payload and event.signature_scheme == "legacy"
    assert event.processed_at is not None and event.error == ""
    message = Message.objects.get(external_id="AC7e1f")
    assert (message.direction, message.kind, message.body) == ("inbound", "reply", "Yes, how much?")
    # An unknown number becomes a contact.
    assert message.contact.phone == "+16175550123" and message.contact.source == "inbound text"


def test_the_standard_webhooks_scheme_with_data_resource_is_accepted(client, django_capture_on_commit_callbacks):
    payload = received("Hello")
    payload["data"] = {"resource": payload["data"]["object"], "context": {}, "links": {}}

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, payload, scheme="standard")

    assert response.status_code == 200
    assert WebhookEvent.objects.get().signature_scheme == "standard"
    assert Message.objects.get().body == "Hello"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_OPENPHONE_SIGNATURE": "hmac;1;123;bm9wZQ=="},
        {"HTTP_OPENPHONE_SIGNATURE": "garbage"},
        {"HTTP_WEBHOOK_ID": "x", "HTTP_WEBHOOK_TIMESTAMP": "1", "HTTP_WEBHOOK_SIGNATURE": "v1,bm9wZQ=="},
    ],
)
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(client, headers):
    response = client.post(URL, json.dumps(received("Hi")), content_type="application/json", **headers)

    assert response.status_code == 401
    assert response.json()["detail"][0]["type"] == "invalid_signature"
    assert not WebhookEvent.objects.exists() and not Message.objects.exists()


def test_a_body_changed_after_signing_is_401(client):
    raw = json.dumps(received("Hi")).encode()
    headers = legacy_headers(raw)

    response = client.post(URL, raw.replace(b"Hi", b"STOP"), content_type="application/json", **headers)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_a_stale_signature_is_a_replay_and_401(client):
    ten_minutes_ago = int((time.time() - 600) * 1000)

    legacy = deliver(client, received("Hi"), at_ms=ten_minutes_ago)
    standard = deliver(client, received("Hi"), scheme="standard", at=int(time.time()) - 600)

    assert (legacy.status_code, standard.status_code) == (401, 401)
    assert "Stale" in legacy.json()["detail"][0]["msg"]


def test_a_rotated_key_list_accepts_either_key(client, settings):
    new_key = base64.b64encode(b"the-new-key").decode()
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = f"{new_key}, {LEGACY_KEY}"

    assert deliver(client, received("Hi", event_id="EV1", message_id="AC1")).status_code == 200
    assert deliver(client, received("Hi", event_id="EV2", message_id="AC2"), key=new_key).status_code == 200


def test_malformed_json_with_a_good_signature_is_400(client):
    response = deliver(client, b"{not json")

    assert response.status_code == 400
    assert response.json()["detail"][0]["type"] == "parse_error"
    assert not WebhookEvent.objects.exists()


def test_an_oversized_body_is_413(client, settings):
    settings.OPENPHONE_WEBHOOK_MAX_BYTES = 1000

    response = deliver(client, received("x" * 2000))

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_the_same_event_twice_is_stored_and_processed_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, received("Yes"))
        second = deliver(client, received("Yes"))

    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert first.json()["duplicate"] is False
    assert WebhookEvent.objects.count() == 1 and Message.objects.count() == 1


def test_the_same_message_under_a_new_event_id_is_stored_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("Yes", event_id="EV1"))
        deliver(client, received("Yes", event_id="EV2"))

    assert Message.objects.count() == 1
    # The second event was processed too, without an error: it found the text already stored.
    assert list(WebhookEvent.objects.order_by("id").values_list("event_id", "status", "error")) == [
        ("EV1", "processed", ""),
        ("EV2", "processed", ""),
    ]


@freeze_time("2026-01-15 14:02:30")
def test_a_reply_is_attributed_to_the_latest_campaign_send_within_72_hours(client, django_capture_on_commit_callbacks):
    contact = ContactFactory(phone="+16175550123")
    sent_at = dt.datetime(2026, 1, 14, 15, 0, tzinfo=dt.UTC)
    older = CampaignSendFactory(contact=contact, status="sent", sent_at=sent_at - dt.timedelta(days=1))
    latest = CampaignSendFactory(contact=contact, status="sent", sent_at=sent_at)

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("Interested"))

    assert Message.objects.get(direction="inbound").in_reply_to_send_id == latest.pk != older.pk


@freeze_time("2026-01-15 14:02:30")
def test_a_reply_after_72_hours_is_not_attributed(client, django_capture_on_commit_callbacks):
    contact = ContactFactory(phone="+16175550123")
    CampaignSendFactory(contact=contact, status="sent", sent_at=dt.datetime(2026, 1, 12, 14, 0, tzinfo=dt.UTC))

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("Interested"))

    assert Message.objects.get(direction="inbound").in_reply_to_send is None


@pytest.mark.parametrize(
    "body", ["STOP", "stop", "Stop.", " STOP! ", "StopAll", "unsubscribe", "Cancel", "end", "QUIT", "Remove",
             "revoke", "OPTOUT", "opt-out", "Opt out", "remove me", "Stop texting", "STOP TEXTING ME"]
)  # fmt: skip
def test_every_revocation_opts_out_cancels_pending_sends_and_confirms_once(
    client, django_capture_on_commit_callbacks, _sms_outbox, body
):
    contact = ContactFactory(phone="+16175550123")
    pending = CampaignSendFactory(contact=contact)
    member = CampaignContactFactory(contact=contact, status=CampaignContact.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received(body))

    contact.refresh_from_db()
    assert contact.is_opted_out
    [event] = OptOutEvent.objects.filter(contact=contact)
    assert event.kind == "opt_out" and event.message.external_id == "AC7e1f"
    assert (text_of(pending).status, text_of(pending).error) == ("cancelled", "Not sent: the contact opted out")
    member.refresh_from_db()
    assert (member.status, member.ineligible_reason) == ("ineligible", "Opted out")
    assert [sms.body for sms in _sms_outbox] == [STOP_CONFIRMATION]


def test_a_second_stop_gets_no_second_confirmation(client, django_capture_on_commit_callbacks, _sms_outbox):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("STOP", event_id="EV1", message_id="AC1"))
        deliver(client, received("STOP", event_id="EV2", message_id="AC2"))

    assert len(_sms_outbox) == 1
    assert OptOutEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "waits_for_a_person"), [("please stop calling my wife", True), ("Don't stop", True), ("yes", False)]
)
def test_words_that_only_contain_stop_do_not_opt_out(
    client, django_capture_on_commit_callbacks, body, waits_for_a_person
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received(body))

    assert not Contact.objects.get().is_opted_out
    assert ConsentReview.objects.filter(decision="").exists() == waits_for_a_person


def test_a_stop_typed_in_a_hurry_opts_out(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("Stopp"))

    assert Contact.objects.get().is_opted_out


def test_only_start_or_unstop_resubscribe_and_yes_does_not(client, django_capture_on_commit_callbacks, _sms_outbox):
    contact = ContactFactory(phone="+16175550123", opted_out_at=timezone.now(), opt_out_reason="STOP")

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("YES", event_id="EV1", message_id="AC1"))
    contact.refresh_from_db()
    assert contact.is_opted_out and _sms_outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("Unstop", event_id="EV2", message_id="AC2"))
    contact.refresh_from_db()
    assert not contact.is_opted_out
    assert OptOutEvent.objects.get(contact=contact).kind == "opt_in"
    assert [sms.body for sms in _sms_outbox] == [
        "You're subscribed to Attack-a-Crack Foundation Repair texts again. Reply STOP to unsubscribe."
    ]


def test_help_gets_the_help_reply(client, django_capture_on_commit_callbacks, _sms_outbox):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("HELP"))

    # The business, how to reach it and how to stop: what carriers expect of the answer to HELP.
    assert [sms.body for sms in _sms_outbox] == [
        "Attack-a-Crack Foundation Repair: foundation repair texts. Reach us at (617) 555-0100. "
        "Reply STOP to unsubscribe. Msg&data rates may apply."
    ]


@freeze_time("2026-01-18 03:00:00")  # Saturday night, 22:00 ET: opt-out is not marketing
def test_opt_out_works_outside_business_hours_for_an_unknown_number(
    client, django_capture_on_commit_callbacks, _sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received("STOP", sender="+13125550188"))

    assert Contact.objects.get(phone="+13125550188").is_opted_out
    assert len(_sms_outbox) == 1


def test_delivered_updates_the_outgoing_campaign_text(client, django_capture_on_commit_callbacks):
    send = CampaignSendFactory(status="sent", sent_at=timezone.now())
    message = send.message
    Message.objects.filter(pk=message.pk).update(external_id="AC3f1c")
    payload = {
        "id": "EVdel",
        "type": "message.delivered",
        "data": {"object": {"id": "AC3f1c", "direction": "outgoing", "status": "delivered"}},
    }

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, payload)

    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and message.delivered_at is not None


def test_a_delivery_report_for_an_unknown_id_stays_visible_as_failed(client, django_capture_on_commit_callbacks):
    payload = {"id": "EVdel", "type": "message.delivered", "data": {"object": {"id": "ACnope"}}}

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, payload)

    assert response.status_code == 200  # stored: OpenPhone must not retry; our worker does
    event = WebhookEvent.objects.get()
    assert event.processed_at is None
    assert "ACnope" in event.error and event.attempts >= 1


@pytest.mark.parametrize("event_type", ["call.completed", "call.ringing", "contact.updated", "something.new"])
def test_other_event_types_are_stored_and_never_an_error(client, django_capture_on_commit_callbacks, event_type):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, {"id": "EVcall", "type": event_type, "data": {"object": {"id": "CA1"}}})

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.event_type, event.error) == (event_type, "")
    assert event.processed_at is not None


@pytest.mark.django_db(transaction=True)
def test_if_the_event_cannot_be_stored_the_answer_is_5xx_so_openphone_retries(client):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE messaging_webhookevent RENAME TO messaging_webhookevent_away")
    try:
        response = deliver(client, received("Yes"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE messaging_webhookevent_away RENAME TO messaging_webhookevent")

    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()
