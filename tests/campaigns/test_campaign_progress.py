"""A campaign's numbers (campaigns.progress): counted exactly while its audience is small, and
past ``COUNTED_UP_TO`` members the planner's estimate, which every page showing it calls "about"."""

import pytest
from django.db import connection
from django.urls import reverse

from campaigns import progress
from campaigns.models import Campaign, CampaignContact
from contacts.not_texted import Reason
from tests.campaigns.conftest import add_audience
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = pytest.mark.django_db


def with_statuses(campaign: Campaign) -> None:
    """Of 12 members: 2 booked, 1 flagged, 3 kept out (1 of them by a cancel), 6 waiting."""
    add_audience(campaign, 12)
    members = list(campaign.memberships.order_by("id"))
    CampaignContact.objects.filter(pk__in=[m.pk for m in members[:2]]).update(status="scheduled")
    CampaignContact.objects.filter(pk=members[2].pk).update(
        status="flagged", held_because=Reason.REVIEW_TEXTED_US_BEFORE, ineligible_reason="Texted us"
    )
    CampaignContact.objects.filter(pk__in=[m.pk for m in members[3:5]]).update(
        status="ineligible", held_because=Reason.OPTED_OUT, ineligible_reason="Opted out"
    )
    CampaignContact.objects.filter(pk=members[5].pk).update(
        status="ineligible", held_because=Reason.CAMPAIGN_CANCELLED, ineligible_reason="Cancelled"
    )


def test_a_small_audience_is_counted_exactly():
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    with_statuses(campaign)

    [counted] = progress.campaign_progress([campaign])

    assert (counted.audience, counted.waiting, counted.flagged, counted.ineligible) == (12, 6, 1, 2)
    assert counted.stopped_by_cancel == 1 and counted.never_sent_by_cancel == 0
    assert not counted.estimated


def test_a_cancelled_campaigns_untexted_members_are_counted_from_the_others():
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    with_statuses(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    campaign.refresh_from_db()

    [counted] = progress.campaign_progress([campaign])

    # Waiting 6, flagged 1, booked 2, stopped by the cancel 1.
    assert counted.never_sent_by_cancel == 10


def test_past_the_bound_the_counts_are_the_planners_estimate_and_the_pages_say_about(admin_client, monkeypatch):
    big, small = CampaignFactory(from_number=SHOP_NUMBER, name="Big"), CampaignFactory(from_number=SHOP_NUMBER)
    with_statuses(big)
    add_audience(small, 3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaigncontact")
    monkeypatch.setattr(progress, "COUNTED_UP_TO", 5)

    big_counted, small_counted = progress.campaign_progress([big, small])

    assert big_counted.estimated and not small_counted.estimated
    assert small_counted.audience == 3
    # The planner's estimate, never below what was counted before stopping.
    assert big_counted.audience > 5
    page = admin_client.get(reverse("campaigns:detail", args=[big.pk])).content.decode()
    assert "about " in page.split('id="audience">')[1][:40]
    assert "(estimated)" in page
    listed = admin_client.get(reverse("campaigns:list")).content.decode()
    assert f"about {big_counted.audience:,}" in listed


def test_the_progress_read_does_not_grow_with_the_campaigns(django_assert_max_num_queries):
    campaigns = [CampaignFactory(from_number=SHOP_NUMBER) for _ in range(5)]
    for campaign in campaigns:
        add_audience(campaign, 2)

    with django_assert_max_num_queries(2):
        progress.campaign_progress(campaigns)
