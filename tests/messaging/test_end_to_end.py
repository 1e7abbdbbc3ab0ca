"""A campaign from booking to OpenPhone through the beat's dispatch and a real Celery worker."""

import json
import threading
import time

import pytest
import responses
from celery.contrib.testing.worker import start_worker
from django.db import connection

from attackacrack.celery import app as celery_app
from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignSend
from messaging import outbox
from messaging.models import Message
from tests.campaigns.conftest import add_audience
from tests.factories import SHOP_NUMBER, CampaignFactory
from tests.messaging.conftest import OPENPHONE, accepted


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
        campaign_services.run_campaigns()
        deadline = time.monotonic() + 30
        while CampaignSend.objects.exclude(status="sent").exists() and time.monotonic() < deadline:
            outbox.dispatch()
            time.sleep(0.3)
        close_connection.delay()  # the solo pool runs tasks in order: this one last
        assert closed.wait(timeout=10)

    posted = [json.loads(call.request.body) for call in openphone.calls if call.request.method == "POST"]
    assert sorted(p["to"][0] for p in posted) == sorted(c.phone for c in contacts)
    assert CampaignSend.objects.filter(status="sent").count() == 20
    assert Message.objects.filter(kind="campaign", status="sent").exclude(external_id="").count() == 20
