"""A campaign's members are listed in the order they joined (the page oldest first, the API newest
first), found by their ids in the campaign's own index (campaign_member_order) before their rows
are read: asked for whole rows in id order, PostgreSQL walks the primary key past every other
campaign's members."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import writing
from tests.factories import CampaignContactFactory, CampaignFactory

pytestmark = pytest.mark.django_db

PAGE = 50  # campaigns.views.MEMBERS_PER_PAGE


def member_ids_query(queries: CaptureQueriesContext) -> str:
    """The one query that picked a page of members (and whether there is another): their ids alone."""
    [sql] = [
        query["sql"]
        for query in queries.captured_queries
        if re.match(r'SELECT "campaigns_campaigncontact"\."id"( AS "id")? FROM', query["sql"])
        and query["sql"].endswith(f"LIMIT {PAGE + 1}")
    ]
    return sql


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaigncontact")  # the same statistics whatever ran before
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # A few rows and no statistics make sorting them look free: the order must come from an index.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def campaign_after_another():
    """A campaign whose members joined between two others': theirs come before and after by id,
    more of them than its own, as on a busy number (walking the primary key would pass them)."""
    CampaignContactFactory.create_batch(5, campaign=CampaignFactory())
    campaign = CampaignFactory()
    members = CampaignContactFactory.create_batch(PAGE + 3, campaign=campaign)
    CampaignContactFactory.create_batch(300, campaign=CampaignFactory())
    return campaign, [member.pk for member in members]


def test_the_campaign_page_lists_its_members_oldest_first_from_their_index(staff_client, campaign_after_another):
    campaign, ids = campaign_after_another
    url = reverse("campaigns:detail", args=[campaign.pk])

    with CaptureQueriesContext(connection) as queries:
        first = staff_client.get(url)
    ids_query = member_ids_query(queries)  # before the next request empties the log
    second = staff_client.get(f"{url}?after={first.context['next_after']}")

    assert [member.pk for member in first.context["members"]] == ids[:PAGE]
    assert first.context["next_after"] == ids[PAGE - 1]
    assert [member.pk for member in second.context["members"]] == ids[PAGE:]
    assert "Index Only Scan using campaign_member_order" in plan_of(ids_query)


def test_the_first_member_previewed_is_the_first_to_join(campaign_after_another):
    campaign, ids = campaign_after_another

    previewed = writing.previewed_member(campaign)

    assert (previewed.member.pk, previewed.position, previewed.next_id) == (ids[0], 1, ids[1])


def test_the_members_api_pages_newest_first_from_their_index(api_client, campaign_after_another):
    campaign, ids = campaign_after_another

    with CaptureQueriesContext(connection) as queries:
        first = api_client.get(f"/api/campaigns/{campaign.pk}/members", {"page_size": 50}).json()
    ids_query = member_ids_query(queries)  # before the next request empties the log
    second = api_client.get(first["next"]).json()

    newest_first = ids[::-1]
    assert [member["id"] for member in first["results"]] == newest_first[:50]
    assert [member["id"] for member in second["results"]] == newest_first[50:]
    assert second["next"] is None
    assert first["results"][0]["contact"]["id"] == campaign.memberships.get(pk=ids[-1]).contact_id
    assert "Index Only Scan Backward using campaign_member_order" in plan_of(ids_query)
