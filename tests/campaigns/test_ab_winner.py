"""Declaring the A/B winner: members keep the variant they were assigned, and the results keep
counting each text under the variant it was sent as."""

import datetime as dt

import pytest
from freezegun import freeze_time

from campaigns import results, services
from campaigns.models import CampaignSend
from messaging import outbox
from messaging.backends import locmem
from tests.campaigns.conftest import add_audience, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def test_a_text_booked_before_the_winner_goes_as_booked_and_counts_there():
    campaign = CampaignFactory(
        from_number=SHOP_NUMBER, template_a="Hi {first_name}, A here", template_b="Hello {first_name}, B here"
    )
    add_audience(campaign, 20, zip_code="02169")
    with freeze_time(MONDAY_10):
        services.start_campaign(campaign=campaign, now=MONDAY_10)
    booked_a = CampaignSend.objects.filter(campaign=campaign, variant="A").order_by("scheduled_for").first()
    services.declare_winner(campaign=campaign, variant="B")

    with freeze_time(booked_a.scheduled_for):
        assert outbox.deliver_message(text_of(booked_a).pk) == "sent"

    body = text_of(booked_a).body
    assert ", A here" in body and [sms.body for sms in locmem.outbox] == [body]
    with freeze_time(booked_a.scheduled_for + dt.timedelta(minutes=1)):
        (a, b), _ = results.ab_results(campaign)
    assert (a.sent, b.sent) == (1, 0)  # counted as what it was: text A
