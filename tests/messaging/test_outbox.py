"""The outbox state machine: no duplicate and no loss, whatever the provider or a worker does."""

import datetime as dt

import pytest
import requests
import responses
from django.utils import timezone
from freezegun import freeze_time

from bench.fake_openphone import error_body, gateway_body, message_resource
from campaigns import booking, compliance
from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from messaging import outbox
from messaging.models import Message, OutboxHold
from tests.campaigns.conftest import add_audience, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory, InboundMessageFactory
from tests.messaging.conftest import OPENPHONE, accepted, messages_listing, numbers_listing, posts

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


@pytest.fixture
def booked_send(db) -> CampaignSend:
    campaign = CampaignFactory(
        status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_a="Hi {name}, special offer!", template_b=""
    )
    add_audience(campaign, 1, first_name="Mary")
    with freeze_time(MONDAY_10):
        booking.execute_campaign(campaign_id=campaign.pk)
    return CampaignSend.objects.get()


def deliver(send: CampaignSend, at: dt.datetime = MONDAY_10) -> str:
    with freeze_time(at):
        return outbox.deliver_message(text_of(send).pk)


def retry(message: Message, at: dt.datetime) -> str:
    with freeze_time(at):
        return outbox.deliver_message(message.pk)


def test_a_campaign_send_goes_out_once_with_its_text_and_the_providers_id(openphone, booked_send):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("AC3f1c"))

    assert deliver(booked_send) == "sent"

    [payload] = posts(openphone)
    assert payload["content"] == "Hi Mary, special offer!\nReply STOP to unsubscribe"
    assert payload["to"] == [booked_send.contact.phone] and payload["from"] == SHOP_NUMBER
    assert payload["setInboxStatus"] == "done"
    message = Message.objects.get()
    assert (message.kind, message.status, message.external_id) == ("campaign", "sent", "AC3f1c")
    assert message.campaign_send_id == booked_send.pk
    assert message.sent_at is not None
    assert message.segments == 1  # counted from the words written as it went
    assert CampaignContact.objects.get().status == CampaignContact.Status.SENT


def test_a_task_delivered_twice_sends_once(openphone, booked_send):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted())

    assert (deliver(booked_send), deliver(booked_send)) == ("sent", "taken")
    assert len(posts(openphone)) == 1


def test_429_waits_for_retry_after_then_sends_once(openphone, booked_send):
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, headers={"Retry-After": "400"}, json=gateway_body())

    assert deliver(booked_send) == "retrying"
    message = Message.objects.get()
    assert message.status == Message.Status.QUEUED
    assert message.next_attempt_at >= MONDAY_10 + dt.timedelta(seconds=400)
    assert "429" in message.error

    openphone.remove(responses.POST, f"{OPENPHONE}/v1/messages")
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("AC2"))
    assert retry(message, MONDAY_10 + dt.timedelta(seconds=401)) == "sent"
    message.refresh_from_db()
    assert (message.status, message.external_id, message.attempts) == ("sent", "AC2", 2)


def test_a_final_refusal_is_recorded_with_openphones_code_and_not_retried(openphone, booked_send):
    openphone.post(f"{OPENPHONE}/v1/messages", status=404, json=error_body(404, "Invalid 'to' number"))

    assert deliver(booked_send) == "failed"

    message = Message.objects.get()
    assert message.status == Message.Status.FAILED and "Invalid 'to' number" in message.error
    assert message.error_code == "0200404" and "0200404" in message.error
    member = CampaignContact.objects.get()
    assert member.status == CampaignContact.Status.INELIGIBLE and member.ineligible_reason.startswith("Text failed")
    assert len(posts(openphone)) == 1


def test_too_many_retryable_failures_end_as_failed(openphone, booked_send, settings):
    settings.SMS_MAX_ATTEMPTS = 2
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, json=gateway_body())

    assert deliver(booked_send) == "retrying"
    assert retry(Message.objects.get(), MONDAY_10 + dt.timedelta(minutes=5)) == "failed"


def lookup(openphone, found: list[dict]) -> None:
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", json=numbers_listing(SHOP_NUMBER))
    openphone.get(f"{OPENPHONE}/v1/messages", json=messages_listing(*found))


def sent_text(message_id: str, contact_phone: str, text: str, at: dt.datetime = MONDAY_10) -> dict:
    return message_resource(
        message_id=message_id, from_number=SHOP_NUMBER, to_number=contact_phone, text=text, created_at=at
    )


def test_a_timeout_after_the_provider_took_the_text_is_not_sent_again(openphone, booked_send):
    openphone.post(f"{OPENPHONE}/v1/messages", body=requests.ReadTimeout("slow"))
    text = "Hi Mary, special offer!\nReply STOP to unsubscribe"
    lookup(openphone, [sent_text("ACtaken", booked_send.contact.phone, text)])

    assert deliver(booked_send) == "sent"

    assert len(posts(openphone)) == 1
    assert Message.objects.get().external_id == "ACtaken"


def test_a_timeout_before_the_provider_took_it_is_retried(openphone, booked_send):
    openphone.post(f"{OPENPHONE}/v1/messages", body=requests.ReadTimeout("slow"))
    lookup(openphone, [])

    assert deliver(booked_send) == "retrying"
    assert Message.objects.get().status == Message.Status.QUEUED


def test_when_nobody_can_tell_the_text_is_unknown_for_a_person(openphone, booked_send):
    openphone.post(f"{OPENPHONE}/v1/messages", status=502, json=gateway_body("An invalid response was received"))
    openphone.get(f"{OPENPHONE}/v1/phone-numbers", status=503, json=gateway_body("name resolution failed"))

    assert deliver(booked_send) == "unknown"

    message = Message.objects.get()
    assert message.status == Message.Status.UNKNOWN
    assert "could not say" in message.error
    # Unknown counts as texted: no other campaign books this contact within the cap.
    assert message.status in compliance.TEXTED_STATUSES
    assert compliance.texted_bookings().get() == booked_send
    assert CampaignContact.objects.get().status == CampaignContact.Status.SCHEDULED  # left for a person


def interrupted(send: CampaignSend) -> Message:
    """What a worker killed mid-request leaves: its text in ``sending``."""
    Message.objects.filter(campaign_send=send).update(
        body="Hi Mary, special offer!\nReply STOP to unsubscribe",
        status="sending",
        status_changed_at=MONDAY_10,
        created_at=MONDAY_10,
        attempts=1,
        claimed_at=MONDAY_10,
    )
    return text_of(send)


def test_a_worker_killed_after_the_provider_accepted_does_not_send_again(openphone, booked_send):
    message = interrupted(booked_send)
    lookup(openphone, [sent_text("ACaccepted", booked_send.contact.phone, message.body)])

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=6)):
        assert outbox.recover_interrupted() == 1

    assert posts(openphone) == []
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sent", "ACaccepted")
    assert CampaignContact.objects.get().status == CampaignContact.Status.SENT


def test_a_worker_killed_before_the_provider_took_it_does_not_lose_it(openphone, booked_send):
    message = interrupted(booked_send)
    lookup(openphone, [])
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACretry"))

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=6)):
        outbox.recover_interrupted()
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert retry(message, MONDAY_10 + dt.timedelta(minutes=8)) == "sent"

    assert len(posts(openphone)) == 1
    assert text_of(booked_send).status == Message.Status.SENT


def test_an_attempt_in_progress_is_not_mistaken_for_an_interrupted_one(openphone, booked_send):
    interrupted(booked_send)

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=2)):
        assert outbox.recover_interrupted() == 0
    assert len(openphone.calls) == 0


def test_an_opt_out_before_dispatch_cancels_the_send(openphone, booked_send):
    booked_send.contact.opted_out_at = timezone.now()
    booked_send.contact.opt_out_reason = "Replied STOP"
    booked_send.contact.save()

    assert deliver(booked_send) == "cancelled"

    text = text_of(booked_send)
    assert (text.status, text.error, text.body) == ("cancelled", "Not sent: Opted out", "")
    member = CampaignContact.objects.get()
    assert (member.status, member.ineligible_reason) == ("ineligible", "Opted out")
    assert len(openphone.calls) == 0


@pytest.mark.parametrize(
    ("change", "at"),
    [("pause", MONDAY_10), (None, eastern(2024, 1, 15, 18, 0)), (None, MONDAY_10 + dt.timedelta(minutes=11))],
)
def test_paused_closed_or_late_sends_are_held_not_sent(openphone, booked_send, change, at):
    if change == "pause":
        campaign_services.pause_campaign(campaign=booked_send.campaign)

    assert deliver(booked_send, at=at) == "held"

    assert len(openphone.calls) == 0
    assert text_of(booked_send).status == Message.Status.QUEUED


def test_a_staff_text_goes_out_at_any_hour_and_is_not_a_campaign_send(openphone):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACstaff"))
    contact = ContactFactory()

    with freeze_time(eastern(2024, 1, 13, 22, 0)):  # Saturday night
        message = outbox.queue_text(contact=contact, body="On my way", kind=Message.Kind.STAFF)
        assert outbox.deliver_message(message.pk) == "sent"

    [payload] = posts(openphone)
    assert payload == {"from": SHOP_NUMBER, "to": [contact.phone], "content": "On my way"}
    assert not CampaignSend.objects.exists() and message.campaign_id is None
    assert message.segments == 1


def test_a_staff_text_with_a_curly_apostrophe_is_billed_in_ucs2_segments():
    contact = ContactFactory()
    staff = {"contact": contact, "kind": Message.Kind.STAFF, "from_number": SHOP_NUMBER}
    gsm = outbox.queue_text(body="Don't " + "x" * 100, **staff)
    curly = outbox.queue_text(body="Don’t " + "x" * 100, **staff)

    assert (gsm.segments, curly.segments) == (1, 2)  # 106 characters: one GSM-7 segment, two UCS-2


def test_nobody_who_opted_out_gets_a_staff_text():
    contact = ContactFactory(opted_out_at=timezone.now(), opt_out_reason="STOP")

    with pytest.raises(outbox.CannotText, match="opted out"):
        outbox.queue_text(contact=contact, body="Hello?", kind=Message.Kind.STAFF, from_number=SHOP_NUMBER)
    assert not Message.objects.exists()


def test_a_staff_text_to_a_known_landline_is_refused_unless_the_number_has_texted_us(openphone):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACland"))
    landline = ContactFactory(line_type=Contact.LineType.LANDLINE)

    with pytest.raises(outbox.CannotText, match="landline"):
        outbox.queue_text(contact=landline, body="Hello?", kind=Message.Kind.STAFF, from_number=SHOP_NUMBER)
    InboundMessageFactory(contact=landline)  # it texts: the list was wrong about its line
    message = outbox.queue_text(contact=landline, body="Hello?", kind=Message.Kind.STAFF, from_number=SHOP_NUMBER)

    assert outbox.deliver_message(message.pk) == "sent"


def test_the_conversation_rules_are_checked_again_as_the_text_goes():
    contact = ContactFactory()
    message = outbox.queue_text(
        contact=contact, body="Quote attached", kind=Message.Kind.STAFF, from_number=SHOP_NUMBER
    )
    Contact.objects.filter(pk=contact.pk).update(line_type=Contact.LineType.LANDLINE)  # learned meanwhile

    assert outbox.deliver_message(message.pk) == "cancelled"

    message.refresh_from_db()
    assert (message.status, message.error) == (
        "cancelled",
        "Not sent: the number cannot receive texts: not a mobile number (landline)",
    )
    assert compliance.CONVERSATION_RULES == ("not_opted_out", "mobile_number")


def test_dispatch_hands_due_work_to_workers_in_batches(booked_send, django_capture_on_commit_callbacks):
    with freeze_time(MONDAY_10), django_capture_on_commit_callbacks() as callbacks:
        first = outbox.dispatch()
    with freeze_time(MONDAY_10 + dt.timedelta(seconds=5)), django_capture_on_commit_callbacks() as again:
        second = outbox.dispatch()

    assert (first["messages"], len(callbacks)) == (1, 1)
    # Already with a worker: not handed over twice while it is fresh.
    assert (second["messages"], len(again)) == (0, 0)
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=3)):
        # Nobody took it in two minutes (the broker lost it): handed over again.
        assert outbox.dispatch()["messages"] == 1


# --- Refusals of the whole account hold the line -----------------------------------------------


def test_an_account_level_refusal_holds_the_outbox_instead_of_failing_recipients(
    openphone, booked_send, django_capture_on_commit_callbacks, admin_client
):
    openphone.post(f"{OPENPHONE}/v1/messages", status=400, json=error_body(400))
    with freeze_time(MONDAY_10):
        staff_text = outbox.queue_text(contact=ContactFactory(), body="Running late", kind=Message.Kind.STAFF)

    assert deliver(booked_send) == "held"
    assert retry(staff_text, MONDAY_10) == "held"  # not even tried: the line is held

    held = Message.objects.get(campaign_send=booked_send)
    assert (held.status, held.attempts, held.error_code) == ("queued", 0, "0206400")
    assert CampaignContact.objects.get().status != CampaignContact.Status.INELIGIBLE
    hold = OutboxHold.objects.get()
    assert (hold.code, hold.released_at) == ("0206400", None) and "A2P" in hold.reason
    assert len(posts(openphone)) == 1
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=1)), django_capture_on_commit_callbacks() as handed:
        assert outbox.dispatch()["held"] is True
    assert handed == []

    today = admin_client.get("/").content.decode()
    assert "Sending is held" in today and "0206400" in today and "Resume sending" in today
    assert admin_client.get("/healthz").json()["sending"] == "held"

    # Fixed in OpenPhone; a person resumes and both texts go, once each.
    openphone.remove(responses.POST, f"{OPENPHONE}/v1/messages")
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACafter"))
    assert admin_client.post("/sending/resume").status_code == 302
    assert OutboxHold.objects.get().released_at is not None
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=2)), django_capture_on_commit_callbacks() as handed:
        assert outbox.dispatch()["messages"] == 2
    assert retry(held, MONDAY_10 + dt.timedelta(minutes=2)) == "sent"
    assert CampaignContact.objects.get().status == CampaignContact.Status.SENT
    assert "Sending is held" not in admin_client.get("/").content.decode()


def test_two_workers_meeting_the_refusal_open_one_hold(openphone, booked_send):
    openphone.post(f"{OPENPHONE}/v1/messages", status=402, json=error_body(402))
    other = outbox.queue_text(contact=ContactFactory(), body="Hello", kind=Message.Kind.STAFF)

    Message.objects.filter(pk=other.pk).update(status=Message.Status.SENDING, attempts=1, claimed_at=MONDAY_10)
    other.refresh_from_db()
    assert deliver(booked_send) == "held"
    assert outbox._attempt(other) == "held"

    assert OutboxHold.objects.count() == 1 and OutboxHold.objects.get().code == "0200402"
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 2


def test_without_an_api_key_nothing_fails_the_line_holds_and_says_why(booked_send, settings):
    settings.SMS_BACKEND = "messaging.backends.openphone.SMSBackend"
    settings.OPENPHONE_API_KEY = ""

    assert deliver(booked_send) == "held"

    assert "OPENPHONE_API_KEY is not set" in OutboxHold.objects.get().reason
    assert Message.objects.get().status == Message.Status.QUEUED


def test_a_carrier_failure_reported_later_keeps_the_member_from_being_booked_again(openphone, booked_send):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACgone"))
    assert deliver(booked_send) == "sent"
    outbox.record_undelivered(Message.objects.get(), error="Not delivered (30006): landline", code="30006")

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=5)):
        result = booking.execute_campaign(campaign_id=booked_send.campaign_id)

    assert result.sent == 0 and CampaignSend.objects.count() == 1
    member = CampaignContact.objects.get()
    assert member.status == CampaignContact.Status.INELIGIBLE and "landline" in member.ineligible_reason
