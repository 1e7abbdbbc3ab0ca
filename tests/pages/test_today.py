"""Today, through the test client with the clock pinned: what it says of the campaigns, the queue
and the replies, in the words staff read."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns.models import Campaign, CampaignContact
from messaging.models import Message
from tests.campaigns.conftest import eastern
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2026, 12, 7, 10, 0)


def today(client) -> str:
    with freeze_time(MONDAY_10):
        return client.get(reverse("dashboard")).content.decode()


def section(page: str, element_id: str) -> str:
    """The element opened by id="element_id" up to the next heading: what one part of the page says."""
    start = page.index(f'id="{element_id}"')
    end = page.find("<h2", start)
    return page[start : end if end != -1 else None]


def test_the_queue_says_a_paused_campaign_holds_its_booked_texts(staff_client):
    campaign = CampaignFactory(name="Spring Promo", status=Campaign.Status.PAUSED, from_number=SHOP_NUMBER)
    for hour in (11, 12, 13):
        CampaignSendFactory(campaign=campaign, scheduled_for=eastern(2026, 12, 7, hour, 0))

    queue = section(today(staff_client), "next-in-queue")

    assert "Nothing booked." not in queue
    assert "Nothing goes out: " in queue and "Spring Promo</a> is paused" in queue
    assert "its 3 booked texts wait until it is resumed." in queue
    assert f'href="{reverse("campaigns:detail", args=[campaign.pk])}"' in queue


def test_the_queue_still_says_nothing_booked_when_nothing_is(staff_client):
    CampaignFactory(name="Spring Promo", status=Campaign.Status.PAUSED, from_number=SHOP_NUMBER)

    queue = section(today(staff_client), "next-in-queue")

    assert "Nothing booked." in queue and "paused" not in queue


def test_a_scheduled_campaign_is_listed_with_when_it_starts(staff_client):
    campaign = CampaignFactory(
        name="Winter Follow-up", status=Campaign.Status.SCHEDULED, starts_at=eastern(2026, 12, 8, 9, 0)
    )
    CampaignContactFactory.create_batch(3, campaign=campaign, status=CampaignContact.Status.PENDING)

    page = today(staff_client)

    scheduled = section(page, "scheduled")
    assert "Scheduled campaigns" in scheduled and "Winter Follow-up" in scheduled
    assert "Starts Tuesday, Dec 8, 9:00 AM" in scheduled
    assert "3 members to text, of 3" in scheduled
    assert "Winter Follow-up" not in section(page, "running")


def test_scheduled_campaigns_come_in_the_order_they_start(staff_client):
    CampaignFactory(name="Later", status=Campaign.Status.SCHEDULED, starts_at=MONDAY_10 + dt.timedelta(days=3))
    CampaignFactory(name="Sooner", status=Campaign.Status.SCHEDULED, starts_at=MONDAY_10 + dt.timedelta(days=1))

    scheduled = section(today(staff_client), "scheduled")

    assert scheduled.index("Sooner") < scheduled.index("Later")


def test_a_stop_or_help_the_system_answered_waits_neither_on_today_nor_in_conversations(staff_client):
    answered = {}
    for keyword, kind, answer in [
        ("STOP", Message.Kind.OPT_OUT_CONFIRMATION, "You've been unsubscribed."),
        ("HELP", Message.Kind.HELP_REPLY, "Foundation repair texts."),
    ]:
        contact = ContactFactory(first_name=f"Answered{keyword}")
        with freeze_time(MONDAY_10 - dt.timedelta(minutes=5)):
            InboundMessageFactory(contact=contact, body=keyword, handled_automatically=True)
        with freeze_time(MONDAY_10 - dt.timedelta(minutes=4)):
            MessageFactory(contact=contact, kind=kind, body=answer)
        answered[keyword] = contact
    waiting = ContactFactory(first_name="Waiting")
    with freeze_time(MONDAY_10 - dt.timedelta(minutes=3)):
        InboundMessageFactory(contact=waiting, body="Yes, how much?")

    replies = section(today(staff_client), "replies")
    with freeze_time(MONDAY_10):
        conversations = staff_client.get(reverse("messaging:conversations")).content.decode()
    rows = {row.split("</a>")[0].rsplit(">", 1)[1]: row for row in conversations.split("<tr>")[2:]}

    assert "Waiting" in replies and "Answered" not in replies
    assert 'badge queued">new' in rows[str(waiting)]
    for contact in answered.values():
        assert 'badge queued">new' not in rows[str(contact)]


def test_the_reply_filters_end_with_their_last_label(staff_client):
    with freeze_time(MONDAY_10):
        conversations = staff_client.get(reverse("messaging:conversations")).content.decode()
        filtered = staff_client.get(reverse("messaging:conversations") + "?label=other").content.decode()
    dashboard = today(staff_client)

    assert '<a href="?replies=other">Other</a></p>' in dashboard
    assert '<a href="?label=other">Other</a></p>' in conversations
    assert '<strong>Other</strong> · <a href="?">all</a></p>' in filtered
    assert "· </p>" not in dashboard + conversations + filtered


def test_a_reply_of_the_last_minute_came_just_now(staff_client):
    with freeze_time(MONDAY_10 - dt.timedelta(seconds=20)):
        InboundMessageFactory(contact=ContactFactory(first_name="Recent"), body="Yes please")
    with freeze_time(MONDAY_10 - dt.timedelta(minutes=3)):
        InboundMessageFactory(contact=ContactFactory(first_name="Earlier"), body="How much?")

    replies = section(today(staff_client), "replies")

    assert '<span class="muted">just now</span>' in replies
    assert '<span class="muted">3\xa0minutes ago</span>' in replies
    assert "0\xa0minutes" not in replies


# --- Spent this month -----------------------------------------------------------------------


def went(at: dt.datetime, segments: int, **fields) -> Message:
    """A text OpenPhone took at ``at``."""
    return MessageFactory(created_at=at, sent_at=at, segments=segments, **fields)


@pytest.fixture
def november_and_december():
    """Texts either side of the months' turn in Eastern time, and texts that were never billed."""
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    went(eastern(2026, 10, 31, 23, 59), 5)  # October: not counted in November
    # 23:30 Eastern on November 30 is 04:30 on December 1 in UTC: it is November's.
    went(eastern(2026, 11, 30, 23, 30), 2, kind=Message.Kind.CAMPAIGN, campaign=campaign)
    went(eastern(2026, 11, 2, 10, 0), 1, status=Message.Status.DELIVERED)
    # The carrier refused it after OpenPhone took it: OpenPhone bills what it hands on.
    went(eastern(2026, 11, 3, 10, 0), 3, status=Message.Status.FAILED, error="30007 carrier filtered")
    went(eastern(2026, 12, 1, 0, 10), 1)  # December
    # Never billed: refused by OpenPhone before it went, never sent, or not ours.
    MessageFactory(status=Message.Status.FAILED, sent_at=None, segments=4, created_at=eastern(2026, 11, 4, 10))
    MessageFactory(status=Message.Status.QUEUED, sent_at=None, segments=4, created_at=eastern(2026, 11, 4, 10))
    InboundMessageFactory(created_at=eastern(2026, 11, 4, 10), segments=None)
    # OpenPhone could not say whether it went: perhaps billed, told apart.
    MessageFactory(
        status=Message.Status.UNKNOWN, sent_at=None, segments=2, status_changed_at=eastern(2026, 11, 5, 10, 0)
    )


def spend_on(client, moment: dt.datetime) -> str:
    with freeze_time(moment):
        page = client.get(reverse("dashboard")).content.decode()
    found = re.search(r'id="spend-title">(.*?)</h2>\s*<p id="spend">(.*?)</p>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", f"{found.group(1)}: {found.group(2)}")).strip()


def test_today_shows_what_this_months_texts_cost_in_business_time(staff_client, november_and_december):
    assert spend_on(staff_client, eastern(2026, 11, 30, 23, 45)) == (
        "Spent in November: $0.06 6 segments so far: campaign texts $0.02, staff and automatic texts $0.04; "
        "1 text whose fate OpenPhone could not tell may add $0.02."
    )


def test_a_new_month_starts_at_midnight_eastern_not_utc(staff_client, november_and_december):
    # 00:20 Eastern on December 1 (05:20 UTC): the 23:30 text of November 30 is November's.
    assert spend_on(staff_client, eastern(2026, 12, 1, 0, 20)) == (
        "Spent in December: $0.01 1 segment so far: campaign texts $0.00, staff and automatic texts $0.01."
    )


def test_the_month_starts_at_nothing_spent(staff_client):
    assert spend_on(staff_client, MONDAY_10) == (
        "Spent in December: $0.00 0 segments so far: campaign texts $0.00, staff and automatic texts $0.00."
    )
