"""A campaign from booking to OpenPhone through the beat's dispatch and a real Celery worker."""

import base64
import json
import threading
import time

import pytest
import responses
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import connection
from django.test import Client

from attackacrack.celery import app as celery_app
from campaigns import booking
from campaigns.models import Campaign, CampaignSend
from contacts.models import Contact
from messaging import outbox
from messaging.models import Message, WebhookEvent
from tests.campaigns.conftest import add_audience, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory, CampaignSendFactory, ContactFactory, StaffUserFactory
from tests.messaging.conftest import OPENPHONE, STOP_CONFIRMATION, accepted


@pytest.mark.django_db(transaction=True)
def test_a_campaign_reaches_openphone_once_per_contact_through_a_real_worker(openphone, settings, open_all_day):
    settings.CAMPAIGN_PACE_BATCH, settings.CAMPAIGN_PACE_MINUTES = 1000, 1
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 10
    accepted_ids = iter(f"AC{n:04d}" for n in range(1000))
    lock = threading.Lock()

    def accept(request):
        with lock:
            message_id = next(accepted_ids)
        return accepted(message_id)(request)

    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accept)
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    contacts = add_audience(campaign, 20)

    closed = threading.Event()

    @celery_app.task(name="tests.e2e_close_connection")
    def close_connection() -> None:
        connection.close()  # the worker keeps its connection; let the test database go
        closed.set()

    with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        booking.run_campaigns()
        deadline = time.monotonic() + 30
        while CampaignSend.objects.exclude(message__status="sent").exists() and time.monotonic() < deadline:
            outbox.dispatch()
            time.sleep(0.3)
        close_connection.delay()  # the solo pool runs tasks in order: this one last
        assert closed.wait(timeout=10)

    posted = [json.loads(call.request.body) for call in openphone.calls if call.request.method == "POST"]
    assert sorted(p["to"][0] for p in posted) == sorted(c.phone for c in contacts)
    assert CampaignSend.objects.filter(message__status="sent").count() == 20
    assert Message.objects.filter(kind="campaign", status="sent").exclude(external_id="").count() == 20


def wait_for(condition, *, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_current_format_reply_and_stop_signed_by_the_reference_library_work_through_a_real_worker(
    live_server, settings, _sms_outbox
):
    """Issue 16's proof: OpenPhone's current webhooks, signed with `standardwebhooks`, posted over
    HTTP by `simulate_inbound`, processed by a real worker on the Redis broker."""
    settings.OPENPHONE_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"end-to-end-webhook-secret").decode()
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    staff = StaffUserFactory()
    contact = ContactFactory(phone="+16175550142", first_name="Dana")
    pending = CampaignSendFactory(contact=contact)
    url = f"{live_server.url}/api/webhooks/openphone"

    closed = threading.Event()

    @celery_app.task(name="tests.e2e_webhook_close_connection")
    def close_connection() -> None:
        connection.close()
        closed.set()

    with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        call_command("simulate_inbound", "(617) 555-0142", "Yes, how much?", url=url)
        assert wait_for(lambda: Message.objects.filter(contact=contact, direction="inbound").exists())
        call_command("simulate_inbound", "617-555-0142", "Stop.", url=url)
        assert wait_for(lambda: Contact.objects.get(pk=contact.pk).is_opted_out)
        assert wait_for(lambda: Message.objects.filter(kind="optout", status="sent").exists())
        close_connection.delay()
        assert closed.wait(timeout=10)

    assert list(contact.messages.filter(direction="inbound").values_list("body", flat=True)) == [
        "Stop.",
        "Yes, how much?",
    ]
    assert all(event.signature_scheme == "standard" and event.processed_at for event in WebhookEvent.objects.all())
    assert (text_of(pending).status, text_of(pending).error) == ("cancelled", "Not sent: the contact opted out")
    assert [sms.body for sms in _sms_outbox] == [STOP_CONFIRMATION]
    browser = Client()
    browser.force_login(staff)
    thread = browser.get(f"/conversations/{contact.pk}/").content.decode()
    assert "Yes, how much?" in thread and "Stop." in thread
