"""The campaign and contact pages' refusals and the start-now path, through the test client with the
clock pinned (the browser tests run against the real clock)."""

import datetime as dt

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns import audience
from campaigns.models import Campaign, CampaignContact
from contacts.models import Contact
from tests.campaigns.conftest import eastern
from tests.factories import SHOP_NUMBER, CampaignContactFactory, CampaignFactory, ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2026, 12, 7, 10, 0)


def test_start_now_says_what_goes_out_today_and_books_it_once_confirmed(owner_pages):
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[c.pk for c in ContactFactory.create_batch(3)])
    url = reverse("campaigns:start", args=[campaign.pk])

    with freeze_time(MONDAY_10):
        confirm = owner_pages.get(url).content.decode()
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.DRAFT
        started = owner_pages.post(url, follow=True).content.decode()

    assert "3 texts on Monday, Dec 7 from (617) 555-0100, from 10:00 AM." in confirm
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE and campaign.sends.count() == 3
    assert "Campaign active." in started


def test_a_start_time_that_has_passed_is_refused_beside_the_form(owner_pages):
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    CampaignContactFactory(campaign=campaign)

    with freeze_time(MONDAY_10):
        page = owner_pages.post(
            reverse("campaigns:schedule", args=[campaign.pk]), {"date": "2026-12-07", "time": "09:00"}
        ).content.decode()

    assert "That moment has passed" in page
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_scheduling_without_an_audience_says_why_and_changes_nothing(owner_pages):
    campaign = CampaignFactory(from_number=SHOP_NUMBER)

    with freeze_time(MONDAY_10):
        page = owner_pages.post(
            reverse("campaigns:schedule", args=[campaign.pk]),
            {"date": "2026-12-08", "time": "09:00", "confirmed": "1"},
            follow=True,
        ).content.decode()

    assert "The campaign has no audience" in page
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_the_audience_builder_asks_for_a_criterion_and_refuses_a_closed_campaign(owner_pages):
    campaign = CampaignFactory(status=Campaign.Status.CANCELLED)
    ContactFactory(city="Quincy")
    url = reverse("campaigns:audience", args=[campaign.pk])

    empty = owner_pages.get(url + "?texted_us=").content.decode()
    refused = owner_pages.post(url, {"city": "Quincy"}, follow=True).content.decode()

    assert "Choose who to add" in empty
    assert "cancelled" in refused and not campaign.memberships.exists()


def test_only_a_flagged_member_can_be_approved(owner_pages):
    member = CampaignContactFactory(status=CampaignContact.Status.PENDING)

    page = owner_pages.post(
        reverse("campaigns:approve-member", args=[member.campaign_id, member.pk]), follow=True
    ).content.decode()

    assert "Only a flagged member can be approved." in page
    member.refresh_from_db()
    assert member.review_approved is False


def test_a_phone_the_form_cannot_read_is_refused_beside_the_field(owner_pages):
    page = owner_pages.post(reverse("contacts:create"), {"phone": "12", "line_type": "unknown"}).content.decode()

    assert "&#x27;12&#x27; is not a phone number we can read." in page
    assert not Contact.objects.exists()


def test_the_export_page_is_the_owners(client):
    client.force_login(StaffUserFactory(role="staff"))

    response = client.get(reverse("contacts:export"))

    assert response.status_code == 403
    assert "export every contact" in response.content.decode().lower()


def test_pausing_and_the_paused_page_list_no_upcoming_texts(owner_pages):
    campaign = CampaignFactory(from_number=SHOP_NUMBER, status=Campaign.Status.ACTIVE, template_b="")
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[ContactFactory().pk])
    with freeze_time(MONDAY_10):
        from campaigns import booking

        booking.run_campaign(campaign_id=campaign.pk)
        owner_pages.post(reverse("campaigns:action", args=[campaign.pk, "pause"]))
        page = owner_pages.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
        today = owner_pages.get(reverse("dashboard")).content.decode()

    assert campaign.sends.filter(message__status="queued").count() == 1
    assert "Nothing goes out while the campaign is paused." in page
    assert "Paused campaigns" in today and campaign.name in today
    assert dt.date(2026, 12, 7) == campaign.sends.get().business_date
