import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db.models import QuerySet

from campaigns import audience, forecast
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from messaging.models import Message
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory

EASTERN = ZoneInfo("America/New_York")


def eastern(*args: int) -> dt.datetime:
    """An aware moment on the shop's wall clock: eastern(2024, 1, 15, 10) is 10:00 ET."""
    return dt.datetime(*args, tzinfo=EASTERN)


@pytest.fixture
def active_campaign(db):
    """An active A/B campaign on the shop's number; add_audience(campaign, n) fills it."""
    return CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=125)


def add_audience(campaign: Campaign, size: int, **contact_fields) -> list[Contact]:
    """``size`` new contacts added to the campaign through the audience service."""
    contacts = ContactFactory.create_batch(size, **contact_fields)
    assert audience.add_contacts_by_id(campaign=campaign, contact_ids=[c.pk for c in contacts]) == size
    return contacts


def expected_at(campaign: Campaign, now: dt.datetime) -> dict[CampaignContact, dt.datetime]:
    """When each waiting member is expected to be texted, as the campaign's page and API say at ``now``."""
    members = list(campaign.memberships.all())
    moments = forecast.expected_moments(campaign, members, now=now, calendar=BusinessCalendar.from_settings())
    return {member: moments[member.pk] for member in members if member.pk in moments}


def text_of(send: CampaignSend) -> Message:
    """The text a booking made, as it stands now."""
    return Message.objects.get(campaign_send=send)


def texts_went_out(sends: QuerySet[CampaignSend], at: dt.datetime) -> None:
    """What the workers leave when they have sent these bookings' texts."""
    Message.objects.filter(campaign_send__in=sends).update(
        status=Message.Status.SENT, status_changed_at=at, sent_at=at, body="Hi, about your foundation", attempts=1
    )
