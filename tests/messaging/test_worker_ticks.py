"""Beat's dispatch tick through a real worker on the Redis broker (issue 17, finding 7): a text
waiting for a retry goes out by itself, more than 25 due sends go in batches of 25, and the
heartbeat the Today page reads follows the worker."""

import datetime as dt
import itertools
import json
import time

import pytest
import responses
from celery.signals import task_prerun
from django.test import Client
from django.utils import timezone

from bench.fake_openphone import gateway_body
from campaigns import booking
from campaigns.models import Campaign, CampaignSend
from messaging import outbox
from messaging.models import Message, WorkerHeartbeat
from messaging.tasks import dispatch_outbox
from tests.campaigns.conftest import add_audience
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory, StaffUserFactory
from tests.messaging.conftest import OPENPHONE, accepted

pytestmark = pytest.mark.django_db(transaction=True)


def beat_until(done, *, seconds: float = 30) -> bool:
    """Play beat: send the dispatch tick through the broker every half second, as beat does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dispatch_outbox.delay()
        time.sleep(0.5)
        if done():
            return True
    return False


def test_a_text_waiting_for_a_retry_goes_out_by_itself_at_beats_tick(openphone, open_all_day, settings, worker):
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 50
    answers = itertools.chain([(429, {"Retry-After": "1"})], itertools.repeat((202, {})))

    def answer(request):
        status, headers = next(answers)
        if status == 429:
            return 429, {"Content-Type": "application/json", **headers}, json.dumps(gateway_body())
        return accepted("ACretried")(request)

    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=answer)
    text = outbox.queue_text(contact=ContactFactory(), body="Running late", kind=Message.Kind.STAFF)

    assert beat_until(lambda: Message.objects.get(pk=text.pk).status == Message.Status.SENT)

    text.refresh_from_db()
    assert (text.attempts, text.external_id) == (2, "ACretried")
    assert [call.response.status_code for call in openphone.calls] == [429, 202]


def test_more_than_25_due_sends_go_in_batches_of_25_each_once(openphone, open_all_day, settings, worker):
    settings.CAMPAIGN_PACE_BATCH, settings.CAMPAIGN_PACE_MINUTES = 6000, 1
    settings.OPENPHONE_RATE_LIMIT_PER_SECOND = 100
    ids = itertools.count()
    openphone.add_callback(
        responses.POST, f"{OPENPHONE}/v1/messages", callback=lambda request: accepted(f"AC{next(ids)}")(request)
    )
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=6000)
    settings.SMS_DAILY_LIMIT_PER_NUMBER = 6000
    add_audience(campaign, 60)
    booking.execute_campaign(campaign_id=campaign.pk)
    CampaignSend.objects.update(scheduled_for=timezone.now())  # all due at once
    Message.objects.filter(kind=Message.Kind.CAMPAIGN).update(next_attempt_at=timezone.now())
    batches: list[int] = []

    def count_batches(sender=None, args=None, **kwargs) -> None:
        if sender.name == "messaging.tasks.deliver_messages":
            batches.append(len(args[0]))

    task_prerun.connect(count_batches, weak=False)
    try:
        assert beat_until(lambda: not CampaignSend.objects.exclude(message__status="sent").exists())
    finally:
        task_prerun.disconnect(count_batches)

    assert sorted(batches, reverse=True)[:3] == [25, 25, 10] and sum(batches) == 60
    posted = [call.request for call in openphone.calls]
    assert len(posted) == 60 == len({request.body for request in posted})


def test_the_heartbeat_follows_the_worker_and_todays_alert_with_it(worker):
    today = Client()
    today.force_login(StaffUserFactory())
    WorkerHeartbeat.objects.create(name="dispatcher", seen_at=timezone.now() - dt.timedelta(minutes=5))
    assert "worker has not run the dispatcher" in today.get("/").content.decode()

    assert beat_until(
        lambda: WorkerHeartbeat.objects.get(name="dispatcher").seen_at > timezone.now() - dt.timedelta(seconds=5)
    )
    assert "worker has not run the dispatcher" not in today.get("/").content.decode()

    WorkerHeartbeat.objects.filter(name="dispatcher").update(seen_at=timezone.now() - dt.timedelta(minutes=3))
    assert "worker has not run the dispatcher recently" in today.get("/").content.decode()
