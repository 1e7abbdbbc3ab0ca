"""Forecasts are made when asked, across every campaign sharing a number's daily limit."""

import datetime as dt
from collections import Counter

import pytest
from freezegun import freeze_time

from campaigns import booking, forecast, selectors
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from tests.campaigns.conftest import add_audience, eastern, expected_at, texts_went_out
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = pytest.mark.django_db

SATURDAY = eastern(2024, 1, 13, 12, 0)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (dt.date(2024, 1, day) for day in range(15, 20))
MONDAY_9 = eastern(2024, 1, 15, 9, 0)


def three_campaigns_of_300() -> list[Campaign]:
    campaigns = [CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER) for _ in range(3)]
    for campaign in campaigns:
        add_audience(campaign, 300)
    return campaigns


def test_three_campaigns_on_one_number_never_promise_more_than_it_may_send_in_a_day():
    campaigns = three_campaigns_of_300()
    calendar = BusinessCalendar.from_settings()

    plans = forecast.number_plan(SHOP_NUMBER, now=SATURDAY, calendar=calendar)

    per_day = Counter()
    for plan in plans.values():
        for day in plan.days:
            per_day[day.date] += day.texts
    assert max(per_day.values()) == 125
    assert [(day.date, day.texts) for day in plans[campaigns[0].pk].days] == [
        (MONDAY, 125),
        (TUESDAY, 125),
        (WEDNESDAY, 50),
    ]
    assert [(day.date, day.texts) for day in plans[campaigns[1].pk].days] == [
        (WEDNESDAY, 75),
        (THURSDAY, 125),
        (FRIDAY, 100),
    ]
    assert plans[campaigns[2].pk].days[0] == forecast.PlannedDay(FRIDAY, eastern(2024, 1, 19, 9, 0), 25)
    assert sum(plan.waiting for plan in plans.values()) == sum(day for day in per_day.values()) == 900


def test_a_second_numbers_plan_holds_only_the_campaigns_that_send_from_it(settings):
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    second = "+16175550188"
    on_the_default = CampaignFactory(status=Campaign.Status.ACTIVE, from_number="")  # sends from the shop's
    on_second = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=second)
    add_audience(on_the_default, 10)
    add_audience(on_second, 10)
    calendar = BusinessCalendar.from_settings()

    assert set(forecast.number_plan(second, now=SATURDAY, calendar=calendar)) == {on_second.pk}
    assert set(forecast.number_plan(SHOP_NUMBER, now=SATURDAY, calendar=calendar)) == {on_the_default.pk}


def test_days_alike_are_planned_alike_until_a_campaign_runs_out():
    """Once nothing differs from one day to the next, each day gives every campaign what the day
    before gave (laid down without working each out again) until one runs out, and then the
    rest share the number as before."""
    small = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=40)
    large = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    add_audience(small, 200)
    add_audience(large, 300)

    plans = forecast.number_plan(SHOP_NUMBER, now=SATURDAY, calendar=BusinessCalendar.from_settings())

    week = [MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY]
    assert [(day.date, day.texts) for day in plans[small.pk].days] == [(day, 40) for day in week]
    assert [(day.date, day.texts) for day in plans[large.pk].days] == [
        (MONDAY, 85),
        (TUESDAY, 85),
        (WEDNESDAY, 85),
        (THURSDAY, 45),
    ]
    assert plans[large.pk].days[1].opens == eastern(2024, 1, 16, 9, 0)


def test_each_member_is_expected_on_the_day_its_campaigns_share_reaches_it():
    campaigns = three_campaigns_of_300()

    second = Counter(moment.date() for moment in expected_at(campaigns[1], SATURDAY).values())

    assert second == {WEDNESDAY: 75, THURSDAY: 125, FRIDAY: 100}


def test_the_launch_plan_counts_the_campaigns_already_on_the_number():
    three_campaigns_of_300()  # 900 texts: through Wednesday the 24th, which has 100 left
    draft = CampaignFactory(from_number=SHOP_NUMBER)
    add_audience(draft, 150)

    plan = selectors.launch_plan(draft, starts_at=SATURDAY, calendar=BusinessCalendar.from_settings())

    assert (plan.first_day, plan.first_day_texts, plan.rest, plan.rest_days) == (dt.date(2024, 1, 24), 100, 50, 1)


def test_what_the_clock_books_is_what_the_forecast_promised():
    campaigns = three_campaigns_of_300()
    calendar = BusinessCalendar.from_settings()
    promised = {
        campaign.pk: {day.date: day.texts for day in plan.days}
        for campaign, plan in zip(
            campaigns, forecast.number_plan(SHOP_NUMBER, now=SATURDAY, calendar=calendar).values(), strict=True
        )
    }

    for day in (MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY):
        opening = dt.datetime.combine(day, dt.time(9), tzinfo=MONDAY_9.tzinfo)
        booked = {result.campaign_id: result.sent for result in booking.run_campaigns(now=opening)}
        for campaign in campaigns:
            assert booked.get(campaign.pk, 0) == promised[campaign.pk].get(day, 0), (campaign, day)
        texts_went_out(CampaignSend.objects.filter(business_date=day), at=opening + dt.timedelta(hours=1))


def test_a_page_deep_in_the_queue_gets_the_places_a_full_count_gives():
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="Hi {name}, B")
    add_audience(campaign, 700)
    with freeze_time(MONDAY_9):
        booking.execute_campaign(campaign_id=campaign.pk)  # the head: 125 booked, some refused below
    waiting = list(campaign.memberships.filter(status=CampaignContact.Status.PENDING).order_by("queue_position", "id"))
    page = [member for member in campaign.memberships.order_by("id")[400:450] if member in waiting]

    ranks = forecast.queue_ranks(campaign, page)

    assert ranks == {member.pk: waiting.index(member) + 1 for member in page}


def test_a_page_far_down_the_queue_takes_the_planners_estimate_of_those_ahead(monkeypatch):
    """More than WAITING_COUNTED_UP_TO ahead of a page (the tail a newest-first list shows first),
    the places start from the planner's estimate: a count reads no more of the queue than the
    bound, and the page's members keep their order among themselves."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    add_audience(campaign, 40)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaigncontact")
    waiting = list(campaign.memberships.order_by("queue_position", "id"))
    page = waiting[30:35]
    monkeypatch.setattr(forecast, "WAITING_COUNTED_UP_TO", 5)

    with CaptureQueriesContext(connection) as queries:
        ranks = forecast.queue_ranks(campaign, page)

    counts = [query["sql"] for query in queries.captured_queries if "count(" in query["sql"].lower()]
    assert counts and all("LIMIT 6)" in sql for sql in counts)  # no count past the bound
    first = ranks[page[0].pk]
    assert first > 6  # past the five counted: the estimate of the 30 ahead, never below the bound's 6
    assert [ranks[member.pk] for member in page] == list(range(first, first + 5))


def test_a_queue_past_the_count_is_forecast_from_the_planners_estimate(monkeypatch):
    """Past WAITING_COUNTED_UP_TO waiting members the forecast takes the planner's estimate of
    them: it reads no more of a large queue than the bound, and still plans every day."""
    from django.db import connection

    campaign = CampaignFactory(from_number=SHOP_NUMBER, status=Campaign.Status.ACTIVE, daily_limit=10)
    add_audience(campaign, 40)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaigncontact")
    monkeypatch.setattr(forecast, "WAITING_COUNTED_UP_TO", 5)

    plan = forecast.campaign_plan(campaign, now=MONDAY_9, calendar=BusinessCalendar.from_settings())

    assert plan.waiting > 5  # the estimate, not the five counted
    assert sum(day.texts for day in plan.days) == plan.waiting
    assert all(day.texts <= 10 for day in plan.days)
