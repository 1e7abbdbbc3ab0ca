"""Counts that stop (attackacrack.estimates): exact up to the bound, the planner's estimate past it,
never below what was counted; one statement for many."""

import pytest
from django.db import connection

from attackacrack.estimates import count_each_up_to, count_up_to
from campaigns.models import CampaignContact
from tests.campaigns.conftest import add_audience
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_a_list_no_longer_than_the_bound_is_counted_exactly():
    campaign = CampaignFactory()
    add_audience(campaign, 5)

    assert count_up_to(campaign.memberships.all(), 5).value == 5
    assert not count_up_to(campaign.memberships.all(), 5).estimated


def test_past_the_bound_the_count_is_the_planners_and_said_to_be_estimated():
    campaign = CampaignFactory()
    add_audience(campaign, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaigncontact")

    counted = count_up_to(campaign.memberships.all(), 10)

    assert counted.estimated
    assert counted.value >= 11
    assert abs(counted.value - 30) <= 15  # the statistics of the table just analysed


def test_many_lists_are_counted_in_one_statement(django_assert_num_queries):
    first, second = CampaignFactory(), CampaignFactory()
    add_audience(first, 3)
    add_audience(second, 2)
    lists = {
        "first": CampaignContact.objects.filter(campaign=first),
        "second": CampaignContact.objects.filter(campaign=second),
        "none": CampaignContact.objects.none().filter(pk=0),
    }

    with django_assert_num_queries(1):
        counts = count_each_up_to(lists, 10)

    assert {key: counted.value for key, counted in counts.items()} == {"first": 3, "second": 2, "none": 0}


def test_no_lists_cost_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert count_each_up_to({}, 10) == {}
