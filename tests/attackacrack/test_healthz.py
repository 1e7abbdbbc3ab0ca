import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from messaging.models import Message
from tests.factories import CampaignFactory, CampaignSendFactory, MessageFactory


@pytest.fixture
def broker_at(celery_settings):
    """Point the Celery app at another broker for one test."""
    return lambda url: celery_settings(broker_url=url)


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "webhooks": "ok",
        "sending": "ok",
        "webhook_keys": "ok",
        "webhook_events": "ok",
        "imports": "ok",
        "texts": "ok",
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_names_the_broker_when_it_is_down(client, broker_at):
    broker_at("redis://127.0.0.1:1/0")  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert (response.json()["database"], response.json()["broker"]) == ("ok", "down")


def test_healthz_names_the_database_when_it_is_down(client):
    # Without the db fixture pytest-django refuses every connection: the database is "down".
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert (response.json()["database"], response.json()["broker"]) == ("down", "ok")


def test_healthz_needs_no_login_and_takes_only_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_counts_the_texts_no_worker_took_in_time_and_only_those(client):
    now = timezone.now()
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    MessageFactory(status=Message.Status.QUEUED, sent_at=None, next_attempt_at=now - dt.timedelta(minutes=3))
    MessageFactory(status=Message.Status.QUEUED, sent_at=None, next_attempt_at=now - dt.timedelta(minutes=1))
    CampaignSendFactory(campaign=campaign, scheduled_for=now - dt.timedelta(minutes=3))
    # Past the missed-slot grace (held by the dispatcher, or late): the next campaign run books it again.
    CampaignSendFactory(campaign=campaign, scheduled_for=now - dt.timedelta(minutes=30))
    paused = CampaignFactory(status=Campaign.Status.PAUSED)
    CampaignSendFactory(campaign=paused, scheduled_for=now - dt.timedelta(minutes=3))

    health = client.get("/healthz").json()

    assert (health["status"], health["texts"], health["texts_waiting"]) == ("ok", "waiting", 2)
