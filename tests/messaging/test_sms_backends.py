"""The SMS backends: the in-memory one the suite uses, and the console one `make run` uses, which
behaves like a carrier that delivers (its delivery reports go through the webhook intake)."""

import datetime as dt
import io

import pytest
from freezegun import freeze_time

from campaigns import booking
from campaigns.models import Campaign, CampaignSend
from messaging import services, webhook_processing
from messaging.backends import get_backend
from messaging.backends.console import SMSBackend as ConsoleBackend
from messaging.models import Message, WebhookEvent
from tests.campaigns.conftest import add_audience, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory, MessageFactory

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


@pytest.fixture
def console(settings, eager_tasks):
    """The console backend with the local webhook keys `make run` configures."""
    settings.SMS_BACKEND = "messaging.backends.console.SMSBackend"
    settings.OPENPHONE_WEBHOOK_SECRET = "whsec_" + settings.LOCAL_WEBHOOK_KEY
    settings.OPENPHONE_WEBHOOK_SIGNING_KEY = settings.LOCAL_WEBHOOK_KEY
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER


def test_the_tests_use_the_in_memory_backend(_sms_outbox):
    external_id = get_backend().send(from_number="+16175550100", to_number="+16175550123", body="Hi Mary")

    assert [(sms.to_number, sms.body, sms.external_id) for sms in _sms_outbox] == [
        ("+16175550123", "Hi Mary", external_id)
    ]


@pytest.mark.django_db
def test_the_console_backend_writes_the_text_and_invents_an_id(console):
    stream = io.StringIO()

    sent_id = ConsoleBackend(stream=stream).send(from_number="+16175550100", to_number="+16175550123", body="Hi Mary")

    written = stream.getvalue()
    assert sent_id in written
    assert "To: +16175550123" in written
    assert "Hi Mary" in written


@pytest.mark.django_db
def test_a_campaign_text_the_console_sends_is_delivered_by_a_webhook_and_counted(
    console, admin_client, django_capture_on_commit_callbacks, capsys
):
    campaign = CampaignFactory(
        name="Spring", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_a="Hi {name}", template_b=""
    )
    add_audience(campaign, 1, first_name="Mary")
    with freeze_time(MONDAY_10):
        booking.execute_campaign(campaign_id=campaign.pk)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.deliver(text_of(CampaignSend.objects.get()).pk) == "sent"

        today = admin_client.get("/").content.decode()
        detail = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    text = Message.objects.get()
    assert (text.status, text.delivered_at) == ("delivered", MONDAY_10)
    # Delivered the way OpenPhone's report would be: signed, stored raw, processed by a worker.
    event = WebhookEvent.objects.get()
    assert (event.event_type, event.status, event.signature_scheme) == ("message.delivered", "processed", "standard")
    assert event.payload["data"]["resource"]["id"] == text.external_id
    assert "Hi Mary" in capsys.readouterr().out
    assert '<span class="value delivered">1</span>' in today
    assert '<span class="value" id="delivered">1</span>' in detail


@pytest.mark.django_db
def test_a_console_report_ahead_of_the_record_of_the_send_is_applied_when_handed_over_again(
    console, django_capture_on_commit_callbacks
):
    with freeze_time(MONDAY_10), django_capture_on_commit_callbacks(execute=True):
        external_id = ConsoleBackend(stream=io.StringIO()).send(
            from_number=SHOP_NUMBER, to_number="+16175550123", body="Hi Mary"
        )
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("pending", 1) and "NotYetKnown" in event.error

    text = MessageFactory(contact=ContactFactory(phone="+16175550123"), body="Hi Mary", external_id=external_id)
    with freeze_time(MONDAY_10 + dt.timedelta(seconds=20)), django_capture_on_commit_callbacks(execute=True):
        assert webhook_processing.hand_over_due_events() == 1

    text.refresh_from_db()
    event.refresh_from_db()
    assert (text.status, event.status) == ("delivered", "processed")


@pytest.mark.django_db
def test_without_a_webhook_key_the_console_says_there_is_no_report_and_the_text_stays_sent(
    console, settings, django_capture_on_commit_callbacks
):
    settings.OPENPHONE_WEBHOOK_SECRET = settings.OPENPHONE_WEBHOOK_SIGNING_KEY = ""
    stream = io.StringIO()

    ConsoleBackend(stream=stream).send(from_number=SHOP_NUMBER, to_number="+16175550123", body="Hi Mary")

    assert "No webhook key is set, so no delivery report" in stream.getvalue()
    assert not WebhookEvent.objects.exists()
