import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db.models import QuerySet
from django.test import override_settings

from campaigns import audience, forecast
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from messaging.models import Message
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory
from tests.openphone import FAKE_API_URL

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


def machine_settings(*, daily_limit: int) -> override_settings:
    """The settings a state machine of the send path runs under: OpenPhone's own backend against
    the suite's fake of its API, a small daily limit so days fill, the built-in recipient rules.
    No delivery webhook reaches the fake's texts: they count as heard (the silence, and the
    catch-up that covers it, are tested in tests/messaging/test_catch_up.py)."""
    return override_settings(
        SMS_BACKEND="messaging.backends.openphone.SMSBackend",
        OPENPHONE_API_KEY="machine-key",
        OPENPHONE_API_URL=FAKE_API_URL,
        OPENPHONE_FROM_NUMBER=SHOP_NUMBER,
        OPENPHONE_RATE_LIMIT_PER_SECOND=10_000,
        SMS_DAILY_LIMIT_PER_NUMBER=daily_limit,
        RECIPIENT_RULES_FILE="",
        WEBHOOKS_QUIET_MINUTES=10**7,
    )
