"""What the campaign pages say before anyone acts: the launch plan, the effective daily limit, who
an audience filter would add, who lacks a token's value."""

import datetime as dt

import pytest

from campaigns import audience, selectors, writing
from campaigns.calendar import BusinessCalendar
from campaigns.models import CampaignContact
from contacts.models import Contact
from contacts.not_texted import NotTexted, Reason
from tests.campaigns.conftest import eastern
from tests.factories import (
    SHOP_NUMBER,
    CampaignFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
    PropertyContactFactory,
    PropertyFactory,
)

pytestmark = pytest.mark.django_db

WEDNESDAY_8 = eastern(2026, 12, 2, 8, 0)


def audience_of(campaign, count: int, **contact_fields) -> list[Contact]:
    first = Contact.objects.count()
    contacts = Contact.objects.bulk_create(
        [Contact(phone=f"+1617{3000000 + first + n:07d}", **contact_fields) for n in range(count)]
    )
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
    return contacts


def test_the_launch_plan_says_what_goes_out_the_first_day_and_how_long_the_rest_take():
    campaign = CampaignFactory(from_number=SHOP_NUMBER, daily_limit=500)
    audience_of(campaign, 2_793)
    audience_of(campaign, 7, opted_out_at=WEDNESDAY_8, opt_out_reason="STOP")
    Contact.objects.filter(pk=Contact.objects.order_by("id").first().pk).update(line_type="landline")

    plan = selectors.launch_plan(campaign, starts_at=WEDNESDAY_8, calendar=BusinessCalendar.from_settings())

    assert (plan.first_day, plan.first_opening) == (dt.date(2026, 12, 2), eastern(2026, 12, 2, 9, 0))
    assert (plan.textable, plan.not_textable) == (2_792, 8)
    assert plan.kept_out == [(Reason.OPTED_OUT, 7), (Reason.LANDLINE, 1)]
    assert (plan.first_day_texts, plan.rest, plan.rest_days) == (125, 2_667, 22)  # 2,667 / 125 = 21.3


def test_the_first_day_is_the_next_business_day_when_the_window_has_closed_and_others_share_the_number():
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    other = CampaignFactory(from_number=SHOP_NUMBER)
    audience_of(campaign, 200)
    friday = dt.date(2026, 12, 4)
    monday = dt.date(2026, 12, 7)
    CampaignSendFactory.create_batch(
        40, campaign=other, business_date=monday, scheduled_for=eastern(2026, 12, 7, 9, 30)
    )
    CampaignSendFactory(campaign=other, business_date=monday, status="cancelled", cancelled_reason="Opted out")

    plan = selectors.launch_plan(
        campaign, starts_at=eastern(2026, 12, 4, 18, 5), calendar=BusinessCalendar.from_settings()
    )
    limit = selectors.daily_limit(campaign, today=monday)

    assert plan.first_day == monday and plan.first_day != friday
    assert (limit.per_day, limit.used_by_others_today, limit.today) == (125, 40, 85)
    assert (plan.first_day_texts, plan.rest, plan.rest_days) == (85, 115, 1)


def test_the_daily_limit_says_when_the_numbers_cap_wins():
    limit = selectors.daily_limit(CampaignFactory(from_number=SHOP_NUMBER, daily_limit=500), today=WEDNESDAY_8.date())

    assert (limit.campaign_limit, limit.number_limit, limit.per_day, limit.capped_by_number) == (500, 125, 125, True)
    assert limit.number == SHOP_NUMBER  # shown as (617) 555-0100 by the pages' phone filter


def test_an_audience_filter_counts_before_it_adds_and_adds_exactly_what_it_counted():
    campaign = CampaignFactory()
    in_already = ContactFactory(city="Quincy")
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[in_already.pk])
    ContactFactory(city="Quincy", opted_out_at=WEDNESDAY_8, opt_out_reason="STOP")
    ContactFactory(city="QUINCY", phone="+18885550123")
    ContactFactory(city="Quincy", phone="+14165550123")
    texted = ContactFactory(city="Quincy")
    InboundMessageFactory(contact=texted)
    ContactFactory.create_batch(2, city="Quincy")
    ContactFactory(city="Milton")

    addition = selectors.audience_addition(campaign, filters={"city": "quincy"})

    assert (addition.matching, addition.already, addition.opted_out, addition.to_add) == (7, 1, 1, 5)
    assert addition.not_textable == [
        (NotTexted(Reason.TOLL_FREE, "A toll-free number, which a business number cannot text"), 1),
        (NotTexted(Reason.FOREIGN_NUMBER, "Not a US number (Canada)"), 1),
    ]
    added = audience.add_contacts_by_filter(campaign=campaign, filters={"city": "quincy", "opted_out": False})
    assert added == addition.to_add
    assert campaign.memberships.count() == 6
    only_texted = selectors.audience_addition(CampaignFactory(), filters={"city": "Quincy", "has_texted_us": True})
    assert only_texted.to_add == 1


def test_a_large_filter_is_counted_from_its_first_contacts_and_said_to_be_about(monkeypatch, staff_client):
    """Past ADDITION_COUNTED_UP_TO matching contacts, the figures are those of the first ones by id,
    scaled to the planner's estimate of all of them, and the page says "about"; adding still adds
    every contact not yet in the audience."""
    from django.db import connection
    from django.urls import reverse

    campaign = CampaignFactory()
    first = ContactFactory.create_batch(4, city="Quincy")
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[first[0].pk, first[1].pk])
    ContactFactory.create_batch(36, city="Quincy")
    ContactFactory.create_batch(10, city="Milton")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
    monkeypatch.setattr(selectors, "ADDITION_COUNTED_UP_TO", 4)

    addition = selectors.audience_addition(campaign, filters={"city": "quincy"})
    page = staff_client.get(reverse("campaigns:audience", args=[campaign.pk]) + "?city=quincy").content.decode()

    assert addition.estimated and addition.matching > 4  # the estimate, never below the bound's 5
    assert addition.already == addition.to_add == round(addition.matching / 2)  # as among the first four
    assert 'id="to-add">about ' in page and 'id="addition-estimated"' in page
    added = audience.add_contacts_by_filter(campaign=campaign, filters={"city": "quincy", "opted_out": False})
    assert added == 38


def test_a_filter_within_the_bound_is_counted_exactly(staff_client):
    from django.urls import reverse

    campaign = CampaignFactory()
    ContactFactory.create_batch(3, city="Quincy")

    page = staff_client.get(reverse("campaigns:audience", args=[campaign.pk]) + "?city=Quincy").content.decode()

    assert 'id="to-add">3<' in page and "about" not in page.split('id="addition"')[1].split("</dl>")[0]
    assert 'id="addition-estimated"' not in page


def test_missing_values_count_the_members_whose_text_falls_back_and_show_one_of_their_texts():
    campaign = CampaignFactory(template_a="Hi {name}, is the {year_built} house at {address} dry?", template_b="")
    full = PropertyContactFactory(contact=ContactFactory(first_name="Mary", address=""))
    no_year = PropertyContactFactory(
        contact=ContactFactory(first_name="Joe"), property=PropertyFactory(year_built=None)
    )
    nameless_homeless = ContactFactory(first_name="", address="")
    audience.add_contacts_by_id(
        campaign=campaign, contact_ids=[full.contact_id, no_year.contact_id, nameless_homeless.pk]
    )

    missing = {item.token: item for item in writing.missing_values(campaign)}

    assert {token: item.members for token, item in missing.items()} == {"name": 1, "year_built": 2, "address": 1}
    assert missing["name"].fallback == "there"
    assert missing["name"].example.text.startswith("Hi there, is the house at your home dry?")
    member = CampaignContact.objects.get(campaign=campaign, contact=full.contact)
    assert writing.previewed_member(campaign, member.pk).position == 1
