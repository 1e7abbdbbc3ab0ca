"""Both of OpenPhone's webhook systems, and an intake that never answers 5xx to a bad request
nor loses a signed event, whatever its bytes hold."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from django.utils import timezone
from freezegun import freeze_time

from attackacrack import today
from campaigns.models import CampaignContact
from contacts.models import Contact
from messaging import webhook_payloads
from messaging.models import Message, WebhookEvent
from tests.campaigns.conftest import text_of
from tests.factories import CampaignContactFactory, CampaignSendFactory, ContactFactory, MessageFactory
from tests.messaging.conftest import STOP_CONFIRMATION

pytestmark = pytest.mark.django_db

SECRET_BYTES = b"current-webhooks-secret-bytes!"
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()
LEGACY_KEY = base64.b64encode(b"legacy-signing-key-bytes").decode()
URL = "/api/webhooks/openphone"
SHOP = "+16175550100"
PERSON = "+16175550123"


@pytest.fixture(autouse=True)
def _webhook_keys(settings, eager_tasks):
    settings.OPENPHONE_WEBHOOK_SECRET = SECRET
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = LEGACY_KEY
    settings.OPENPHONE_FROM_NUMBER = SHOP


def incoming(text: str, *, message_id: str = "ACin1", event_id: str = "EVcur1", sender: str = PERSON) -> dict:
    """An inbound text of the current ("beta", 2026-03-30) system: the parties are in data.context."""
    return webhook_payloads.message_event(
        "message.received",
        system=webhook_payloads.CURRENT,
        sender=sender,
        recipient=SHOP,
        text=text,
        at=timezone.now(),
        message_id=message_id,
        event_id=event_id,
    )


def current(event_type: str, resource: dict, *, event_id: str = "EVcur1") -> dict:
    """A current-format event of another type (calls, contacts): its resource as given."""
    event = incoming("", event_id=event_id)
    return {**event, "type": event_type, "data": {**event["data"], "resource": resource}}


def signed_by_the_library(raw: bytes, *, webhook_id: str = "msg_1", secret: str = SECRET) -> dict[str, str]:
    """Headers as the reference standardwebhooks library signs a delivery."""
    return webhook_payloads.as_wsgi(
        webhook_payloads.signed_headers(
            raw, system=webhook_payloads.CURRENT, key=secret, at=dt.datetime.now(dt.UTC), webhook_id=webhook_id
        )
    )


def signed_by_hand(raw: bytes, *, webhook_id: str = "msg_1") -> dict[str, str]:
    """The same scheme for bytes the library will not take (it signs text): HMAC over id.ts.body."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET_BYTES, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_WEBHOOK_SIGNATURE": f"v1,{base64.b64encode(digest).decode()}",
    }


def post(client, raw: bytes, headers: dict[str, str]):
    return client.post(URL, raw, content_type="application/json", **headers)


def deliver(client, payload: dict | bytes, **options):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return post(client, raw, signed_by_the_library(raw, **options))


# --- The current format ---------------------------------------------------------------------


def test_a_current_format_reply_reaches_the_thread(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, incoming("Yes, how much?"))

    assert response.status_code == 200 and response.json()["duplicate"] is False
    message = Message.objects.get(external_id="ACin1")
    assert (message.direction, message.body, message.from_number, message.to_number) == (
        "inbound",
        "Yes, how much?",
        PERSON,
        SHOP,
    )
    event = WebhookEvent.objects.get()
    assert (event.signature_scheme, event.delivery_id, event.error) == ("standard", "msg_1", "")


def test_a_current_format_stop_opts_out_and_cancels_what_was_pending(
    client, django_capture_on_commit_callbacks, _sms_outbox
):
    contact = ContactFactory(phone=PERSON)
    pending = CampaignSendFactory(contact=contact)
    member = CampaignContactFactory(contact=contact, status=CampaignContact.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, incoming("STOP"))

    contact.refresh_from_db()
    member.refresh_from_db()
    assert contact.is_opted_out
    assert (text_of(pending).status, member.status) == ("cancelled", "ineligible")
    assert [sms.body for sms in _sms_outbox] == [STOP_CONFIRMATION]


def test_an_unpadded_whsec_secret_works_as_the_reference_library_accepts_it(
    client, settings, django_capture_on_commit_callbacks
):
    unpadded = "whsec_" + base64.b64encode(b"sixteen byte key").decode().rstrip("=")
    assert not unpadded.endswith("=") and len(unpadded.removeprefix("whsec_")) % 4
    settings.OPENPHONE_WEBHOOK_SECRET = unpadded

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, incoming("Hi"), secret=unpadded)

    assert response.status_code == 200
    assert Message.objects.filter(external_id="ACin1").exists()


def test_a_key_that_cannot_be_decoded_is_reported_on_healthz_and_today(client, settings, admin_client):
    settings.OPENPHONE_WEBHOOK_SECRET = "whsec_not*base64!"

    health = client.get("/healthz").json()
    today = admin_client.get("/")

    assert health["webhook_keys"] == "invalid"
    assert health["webhook_key_problems"] == [
        "OPENPHONE_WEBHOOK_SECRET: the key is not valid base64, so no webhook signed with it is accepted."
    ]
    assert "not*base64" not in json.dumps(health)  # the key itself is never shown
    assert "OPENPHONE_WEBHOOK_SECRET: the key is not valid base64" in today.content.decode()


def test_the_same_delivery_retried_is_stored_once(client, django_capture_on_commit_callbacks):
    payload = json.dumps(incoming("Yes")).encode()
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, payload, webhook_id="msg_same")
        again = deliver(client, payload, webhook_id="msg_same")

    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert WebhookEvent.objects.count() == 1 and Message.objects.count() == 1


def test_one_event_in_two_deliveries_and_one_text_in_two_events_are_each_stored_once(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, incoming("Yes", event_id="EV1"), webhook_id="msg_1")
        second_delivery = deliver(client, incoming("Yes", event_id="EV1"), webhook_id="msg_2")
        deliver(client, incoming("Yes", event_id="EV2"), webhook_id="msg_3")

    assert second_delivery.json()["duplicate"] is True
    assert Message.objects.count() == 1
    assert set(WebhookEvent.objects.values_list("event_id", "status", "error")) == {
        ("EV1", "processed", ""),
        ("EV2", "processed", ""),
    }


def delivered_or_failed(event_type: str, message_id: str, *, status: str = "delivered", **resource) -> dict:
    return webhook_payloads.message_event(
        event_type,
        system=webhook_payloads.CURRENT,
        sender=SHOP,
        recipient=PERSON,
        text="Hi",
        at=timezone.now(),
        direction="outgoing",
        status=status,
        message_id=message_id,
        event_id=f"EV{event_type}",
        **resource,
    )


def test_message_delivered_in_the_current_format_marks_the_text_delivered(client, django_capture_on_commit_callbacks):
    message = CampaignSendFactory(status="sent", sent_at=timezone.now()).message
    Message.objects.filter(pk=message.pk).update(external_id="ACout")

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, delivered_or_failed("message.delivered", "ACout"))

    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and message.delivered_at is not None


def test_message_failed_marks_the_text_failed_with_the_carriers_code_and_the_member_shows_why(
    client, django_capture_on_commit_callbacks
):
    member = CampaignContactFactory(status=CampaignContact.Status.SENT)
    send = CampaignSendFactory(campaign=member.campaign, contact=member.contact, status="sent", sent_at=timezone.now())
    message = send.message
    Message.objects.filter(pk=message.pk).update(external_id="ACout")
    failed = delivered_or_failed("message.failed", "ACout", status="undelivered", errorCode="30006",
                                 errorMessage="Landline or unreachable carrier")  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, failed).status_code == 200

    message.refresh_from_db()
    member.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "30006")
    assert "Landline or unreachable carrier" in message.error and "30006" in message.error
    assert member.status == "ineligible" and "Landline or unreachable carrier" in member.ineligible_reason
    assert WebhookEvent.objects.get().processed_at is not None


def test_message_failed_without_a_code_still_fails_the_text(client, django_capture_on_commit_callbacks):
    message = MessageFactory(external_id="ACout", status="sent")

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, delivered_or_failed("message.failed", "ACout", status="undelivered"))

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error) == (
        "failed",
        "",
        "Not delivered: the carrier did not deliver it",
    )


@pytest.mark.parametrize("event_type", ["call.missed", "call.voicemail.completed", "contact.updated"])
def test_call_and_contact_events_are_stored_processed_and_shown(
    client, django_capture_on_commit_callbacks, admin_client, event_type
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, current(event_type, {"id": "CA1", "status": "missed"}))

    event = WebhookEvent.objects.get()
    assert (event.event_type, event.error) == (event_type, "") and event.processed_at is not None
    page = admin_client.get(f"/admin/messaging/webhookevent/{event.pk}/change/")
    assert page.status_code == 200 and "senderIdentifier" in page.content.decode()


# --- Signatures ------------------------------------------------------------------------------


def legacy_header(raw: bytes, *, key: str = LEGACY_KEY) -> str:
    return webhook_payloads.legacy_signature(raw, key=key, at=dt.datetime.now(dt.UTC))


def test_a_legacy_header_with_several_signatures_is_accepted_when_one_matches(client):
    raw = json.dumps(incoming("Hi")).encode()
    other = base64.b64encode(b"some-other-key").decode()
    header = f"{legacy_header(raw, key=other)},{legacy_header(raw)}"

    assert post(client, raw, {"HTTP_OPENPHONE_SIGNATURE": header}).status_code == 200
    assert post(client, raw, {"HTTP_OPENPHONE_SIGNATURE": legacy_header(raw, key=other)}).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_OPENPHONE_SIGNATURE": "hmac;1;" + "9" * 400 + ";c2ln"},
        {"HTTP_OPENPHONE_SIGNATURE": "hmac;1;١٧٠٠٠٠٠٠٠٠٠٠٠;c2ln"},
        {"HTTP_OPENPHONE_SIGNATURE": "hmac;1;²;c2ln"},
        {"HTTP_OPENPHONE_SIGNATURE": ";;;,,,"},
        {"HTTP_WEBHOOK_ID": "x", "HTTP_WEBHOOK_TIMESTAMP": "9" * 400, "HTTP_WEBHOOK_SIGNATURE": "v1,c2ln"},
        {"HTTP_WEBHOOK_ID": "x", "HTTP_WEBHOOK_TIMESTAMP": "١٧٠٠٠٠٠٠٠٠", "HTTP_WEBHOOK_SIGNATURE": "v1,c2ln"},
        {"HTTP_WEBHOOK_ID": "x", "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())), "HTTP_WEBHOOK_SIGNATURE": "v2,x"},
    ],
)
def test_malformed_signature_headers_are_401_not_500(client, headers):
    response = post(client, json.dumps(incoming("Hi")).encode(), headers)

    assert response.status_code == 401
    assert response.json()["detail"][0]["type"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()


# --- Whatever a signed body holds -------------------------------------------------------------


def raw_event(text_json: str, *, event_id: str = "EVraw") -> bytes:
    """A current-format inbound text whose "text" is written as the given raw JSON."""
    payload = json.dumps(incoming("PLACEHOLDER", event_id=event_id))
    return payload.replace('"PLACEHOLDER"', text_json).encode()


@pytest.mark.parametrize(
    ("text_json", "stored_text"),
    [
        (r'"Stop\u0000 please"', "Stop\ufffd please"),
        (r'"Hi \ud83d there"', "Hi \ufffd there"),
        ('"Call me \U0001f600"', "Call me \U0001f600"),
    ],
)
def test_a_signed_text_with_characters_postgresql_cannot_hold_is_stored_raw_and_processed(
    client, django_capture_on_commit_callbacks, text_json, stored_text
):
    raw = raw_event(text_json)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, raw, signed_by_the_library(raw))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.raw_body) == raw
    assert event.processed_at is not None, event.error
    assert Message.objects.get(external_id="ACin1").body == stored_text


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 5000])
def test_numbers_json_cannot_hold_are_stored_and_do_not_stop_the_event(
    client, django_capture_on_commit_callbacks, number
):
    payload = json.dumps({**incoming("Yes please"), "extra": "PLACEHOLDER"}).replace('"PLACEHOLDER"', number)
    raw = payload.encode()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, raw, signed_by_the_library(raw))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.raw_body) == raw and event.processed_at is not None
    assert Message.objects.get().body == "Yes please"


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"id": "EVx", "type": "message.received"}).encode("utf-16"),
        b"\xff\xfe{}",
        b'{"id": "EV1", "type": "message.received", "data": {',
        b"",
    ],
)
def test_a_signed_body_that_is_not_utf8_json_is_400_and_not_stored(client, raw):
    response = post(client, raw, signed_by_hand(raw))

    assert response.status_code == 400
    assert response.json()["detail"][0]["type"] == "parse_error"
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("raw", [b"[" * 50_000 + b"]" * 50_000, b'"just a string"', b"[1, 2]", b'{"no": "id"}'])
def test_signed_json_that_is_not_an_event_is_stored_and_marked_failed_visibly(
    client, django_capture_on_commit_callbacks, admin_client, raw
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, raw, signed_by_the_library(raw, webhook_id="msg_odd"))
        again = post(client, raw, signed_by_the_library(raw, webhook_id="msg_odd"))

    assert (response.status_code, again.json()["duplicate"]) == (200, True)
    event = WebhookEvent.objects.get()
    assert bytes(event.raw_body) == raw
    assert event.processed_at is None or event.event_type == "unknown"
    if event.processed_at is None:
        assert event.error
        assert "webhook event(s) failed to process" in admin_client.get("/").content.decode()


def test_long_event_ids_are_kept_whole_and_never_collide(client, django_capture_on_commit_callbacks):
    prefix = "EV" + "x" * 100
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, incoming("One", event_id=prefix + "1", message_id="AC1"), webhook_id="msg_1")
        second = deliver(client, incoming("Two", event_id=prefix + "2", message_id="AC2"), webhook_id="msg_2")

    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, False)
    assert WebhookEvent.objects.count() == 2 and Message.objects.count() == 2
    assert all(event.event_id.startswith("sha256:") for event in WebhookEvent.objects.all())


@pytest.mark.parametrize("created_at", ["9999-12-31T23:59:59.000Z", "1970-01-01T00:00:00Z", "2026-13-45T99:00:00Z"])
def test_an_implausible_message_time_is_clamped_to_receipt(client, django_capture_on_commit_callbacks, created_at):
    payload = incoming("Hi")
    payload["data"]["resource"]["createdAt"] = created_at

    with freeze_time("2026-06-01 15:00:00"), django_capture_on_commit_callbacks(execute=True):
        deliver(client, payload)

    message = Message.objects.get()
    assert message.created_at == WebhookEvent.objects.get().received_at
    assert message.created_at.year == 2026


def test_an_event_whose_sender_cannot_be_read_is_failed_once_not_retried(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, incoming("Hi", sender="not a number"))

    event = WebhookEvent.objects.get()
    assert event.processed_at is None and event.attempts == 1
    assert "Cannot read the sender's number" in event.error
    assert not Contact.objects.exists()


# --- What a failure says of the recipient and of the campaign (issue 37) -----------------------------


def test_a_text_refused_because_the_number_opted_out_with_openphone_opts_the_contact_out_everywhere(
    client, django_capture_on_commit_callbacks
):
    member = CampaignContactFactory(status=CampaignContact.Status.SENT)
    send = CampaignSendFactory(campaign=member.campaign, contact=member.contact, status="sent", sent_at=timezone.now())
    Message.objects.filter(pk=send.message.pk).update(external_id="ACout")
    waiting = CampaignSendFactory(contact=member.contact).message  # another campaign's text, booked
    refused = delivered_or_failed("message.failed", "ACout", status="undelivered", errorCode="21610",
                                  errorMessage="Attempt to send to unsubscribed recipient")  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, refused).status_code == 200

    contact = Contact.objects.get(pk=member.contact_id)
    assert contact.is_opted_out
    assert contact.opt_out_reason == "A text was refused: the number opted out with OpenPhone (STOP or a like word)"
    waiting.refresh_from_db()
    assert waiting.status == Message.Status.CANCELLED
    assert not Message.objects.filter(kind=Message.Kind.OPT_OUT_CONFIRMATION).exists()  # nothing texts them


def test_a_carrier_failure_for_another_reason_leaves_the_contact_textable(client, django_capture_on_commit_callbacks):
    message = MessageFactory(external_id="ACout", status="sent")
    failed = delivered_or_failed("message.failed", "ACout", status="undelivered", errorCode="30006",
                                 errorMessage="Landline or unreachable carrier")  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, failed)

    assert not Contact.objects.get(pk=message.contact_id).is_opted_out


@pytest.mark.parametrize(("failed_before", "paused"), [(3, False), (4, True)])
def test_a_campaign_whose_texts_fail_like_filtered_spam_pauses_itself_and_says_why(
    client, django_capture_on_commit_callbacks, settings, failed_before, paused
):
    from campaigns import services as campaign_services
    from campaigns.models import Campaign

    settings.CARRIER_FILTER_MIN_TEXTS, settings.CARRIER_FILTER_FAILED_SHARE = 20, 0.25
    campaign = CampaignContactFactory(campaign__status="active").campaign
    for index in range(19):
        CampaignSendFactory(campaign=campaign, status="failed" if index < failed_before else "delivered")
    Message.objects.filter(campaign=campaign).update(status_changed_at=timezone.now())
    last = CampaignSendFactory(campaign=campaign, status="sent", sent_at=timezone.now()).message
    Message.objects.filter(pk=last.pk).update(external_id="ACout")

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, delivered_or_failed("message.failed", "ACout", status="undelivered", errorCode="30007"))

    campaign.refresh_from_db()
    assert (campaign.status == Campaign.Status.PAUSED) is paused
    if paused:
        assert campaign.pause_reason.startswith(
            "Paused by itself: 5 of its last 20 texts with an outcome failed (25%) in a day, "
            "a sign carriers are filtering them as spam."
        )
        shown = [alert.text for alert in today.alerts(now=timezone.now()) if "filtering" in alert.text]
        assert shown == [f"Campaign {campaign.name!r}: {campaign.pause_reason}"]
        campaign_services.resume_campaign(campaign=campaign)
        campaign.refresh_from_db()
        assert campaign.pause_reason == ""
        assert not [alert for alert in today.alerts(now=timezone.now()) if "filtering" in alert.text]
