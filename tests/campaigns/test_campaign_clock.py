"""The same engine behind the clock (beat → Celery task), manage.py and the admin."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from freezegun import freeze_time

from attackacrack.celery import app as celery_app
from campaigns import tasks
from campaigns.models import Campaign, CampaignSend
from tests.campaigns.conftest import add_audience, eastern
from tests.factories import SHOP_NUMBER, CampaignFactory, StaffUserFactory

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def test_beat_ticks_the_campaign_runner_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["run-campaigns"]

    assert entry["task"] == tasks.run_campaigns.name
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == 60.0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_running_the_tick_books_todays_sends(settings, open_all_day):
    settings.CAMPAIGN_PACE_BATCH, settings.CAMPAIGN_PACE_MINUTES = 1000, 1
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    add_audience(campaign, 30)
    done = threading.Event()

    @celery_app.task(name="tests.campaign_tick_done")
    def tick_done() -> None:
        # The worker keeps its connection between tasks; let the test database go at teardown.
        connection.close()
        done.set()

    with start_worker(celery_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        # The solo pool runs tasks in order: when the second has run, the tick has.
        tasks.run_campaigns.delay()
        tick_done.delay()
        assert done.wait(timeout=30)

    assert CampaignSend.objects.filter(campaign=campaign).count() == 30
    assert set(campaign.memberships.values_list("status", flat=True)) == {"scheduled"}


@pytest.mark.django_db
def test_the_command_runs_one_campaign_and_reports(capsys):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, name="January Promo")
    add_audience(campaign, 200)

    with freeze_time(MONDAY_10):
        call_command("execute_campaign", str(campaign.pk))

    out = capsys.readouterr().out
    assert "January Promo" in out
    assert "booked 125 for today" in out and "75 queued for later days" in out
    assert CampaignSend.objects.count() == 125


@pytest.mark.django_db
def test_the_command_with_all_runs_the_clocks_tick(capsys):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    add_audience(campaign, 5)

    with freeze_time(MONDAY_10):
        call_command("execute_campaign", "--all")

    assert "booked 5 for today" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_command_refuses_a_campaign_that_cannot_run():
    campaign = CampaignFactory(status=Campaign.Status.DRAFT)

    with pytest.raises(CommandError, match="draft, not active"):
        call_command("execute_campaign", str(campaign.pk))
    with pytest.raises(CommandError, match="No campaign has id 999999"):
        call_command("execute_campaign", "999999")


@pytest.mark.django_db
def test_admin_actions_start_and_pause_through_the_same_services(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    add_audience(campaign, 10)
    url = reverse("admin:campaigns_campaign_changelist")

    with freeze_time(MONDAY_10):
        client.post(url, {"action": "start", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert CampaignSend.objects.count() == 10

    client.post(url, {"action": "pause", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    refused = client.post(url, {"action": "pause", "_selected_action": [campaign.pk]}, follow=True)
    assert "cannot become paused" in refused.content.decode()


@pytest.mark.django_db
def test_admin_change_page_previews_both_texts(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    campaign = CampaignFactory(template_a="Hi {name}, special offer!", template_b="Hello {name}!")

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert "Hi Mary, special offer!" in page and "Hello Mary!" in page
    assert "segment" in page
