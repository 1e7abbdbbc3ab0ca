"""A campaign may be judged on booked inspections instead of interested replies (issue 39): chosen
before it starts, through the API, the form and the admin, and fixed from then; the verdict then
compares booked inspections per text sent with the same peeking-safe method, and waits for the
bookings to come in before it says there is no difference."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns import results
from campaigns.models import Campaign
from messaging.intent import ReplyIntent
from messaging.models import Message
from tests.campaigns.conftest import eastern
from tests.factories import (
    CampaignFactory,
    CampaignSendFactory,
    InboundMessageFactory,
    OutcomeFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)
TUESDAY_9 = eastern(2024, 1, 16, 9, 0)
BOOKINGS = Campaign.JudgedOn.BOOKED_INSPECTIONS
LAUNCHED = [Campaign.Status.ACTIVE, Campaign.Status.PAUSED]


def texted(campaign: Campaign, variant: str, count: int, *, interested: int = 0, booked: int = 0,
           booked_at: dt.datetime = MONDAY_10 + dt.timedelta(hours=3)) -> None:  # fmt: skip
    """``count`` texts of ``variant`` sent on Monday: the first ``interested`` answered "interested",
    the first ``booked`` answered and their inspection booked, as recorded at ``booked_at``."""
    for index in range(count):
        send = CampaignSendFactory(
            campaign=campaign, variant=variant, status=Message.Status.SENT, sent_at=MONDAY_10,
            scheduled_for=MONDAY_10, business_date=MONDAY_10.date(),
        )  # fmt: skip
        if index < max(interested, booked):
            reply = InboundMessageFactory(
                contact=send.contact, in_reply_to_send=send, created_at=MONDAY_10 + dt.timedelta(minutes=5),
                intent=ReplyIntent.INTERESTED if index < interested else ReplyIntent.QUESTION,
            )  # fmt: skip
            if index < booked:
                OutcomeFactory(answered=reply, on=booked_at.date(), recorded_at=booked_at)


# --- Choosing it: before the campaign starts, never after -------------------------------------


def test_the_api_creates_a_campaign_judged_on_booked_inspections(api_client):
    fields = {"name": "Spring", "template_a": "Hi {name}", "template_b": "Hello {name}", "judged_on": BOOKINGS}

    response = api_client.post("/api/campaigns", fields, format="json")
    refused = api_client.post("/api/campaigns", {**fields, "judged_on": "revenue"}, format="json")

    assert response.status_code == 201 and response.json()["judged_on"] == BOOKINGS
    assert Campaign.objects.get(pk=response.json()["id"]).judged_on == BOOKINGS
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "judged_on"]
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize("status", [Campaign.Status.DRAFT, Campaign.Status.SCHEDULED])
def test_it_can_change_until_the_campaign_starts(api_client, status):
    campaign = CampaignFactory(status=status)

    response = api_client.patch(f"/api/campaigns/{campaign.pk}", {"judged_on": BOOKINGS}, format="json")

    assert response.status_code == 200 and response.json()["judged_on"] == BOOKINGS
    campaign.refresh_from_db()
    assert campaign.judged_on == BOOKINGS


@pytest.mark.parametrize("status", LAUNCHED)
def test_once_started_a_change_is_refused_naming_the_field(api_client, status):
    campaign = CampaignFactory(status=status)

    refused = api_client.patch(f"/api/campaigns/{campaign.pk}", {"judged_on": BOOKINGS, "name": "X"}, format="json")
    unchanged = api_client.patch(f"/api/campaigns/{campaign.pk}", {"judged_on": "interested_replies"}, format="json")

    assert refused.status_code == 409
    [error] = refused.json()["detail"]
    assert (error["type"], error["loc"]) == ("campaign_locked", ["body", "judged_on"])
    assert "judged_on" in error["msg"] and "before a campaign starts" in error["msg"]
    assert unchanged.status_code == 200  # the value it has is no change
    campaign.refresh_from_db()
    assert campaign.judged_on == Campaign.JudgedOn.INTERESTED_REPLIES and campaign.name != "X"  # nothing saved


def campaign_form(campaign: Campaign, **changes) -> dict:
    fields = {
        "name": campaign.name, "template_a": campaign.template_a, "template_b": campaign.template_b,
        "daily_limit": campaign.daily_limit, "split_percent_a": campaign.split_percent_a,
        "judged_on": campaign.judged_on, "include_opt_out_footer": "on",
        "frequency_cap_days": campaign.frequency_cap_days, "prior_contact_policy": campaign.prior_contact_policy,
        "purpose": campaign.purpose, "from_number": "",
    }  # fmt: skip
    return {**fields, **changes}


def test_the_form_sets_it_on_a_draft_and_shows_it_fixed_once_started(owner_pages):
    draft = CampaignFactory()
    started = CampaignFactory(status=Campaign.Status.PAUSED)

    owner_pages.post(reverse("campaigns:edit", args=[draft.pk]), campaign_form(draft, judged_on=BOOKINGS))
    page = owner_pages.get(reverse("campaigns:edit", args=[started.pk])).content.decode()
    owner_pages.post(reverse("campaigns:edit", args=[started.pk]), campaign_form(started, judged_on=BOOKINGS,
                                                                                 name="Renamed"))  # fmt: skip

    draft.refresh_from_db()
    started.refresh_from_db()
    assert draft.judged_on == BOOKINGS
    assert re.search(r'<select name="judged_on"[^>]*disabled', page)
    assert "Set before the campaign started" in page
    assert (started.judged_on, started.name) == (Campaign.JudgedOn.INTERESTED_REPLIES, "Renamed")


def test_the_admin_shows_it_read_only_once_started(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    draft, started = CampaignFactory(), CampaignFactory(status=Campaign.Status.ACTIVE)

    draft_page = client.get(reverse("admin:campaigns_campaign_change", args=[draft.pk])).content.decode()
    started_page = client.get(reverse("admin:campaigns_campaign_change", args=[started.pk])).content.decode()

    assert 'name="judged_on"' in draft_page
    assert 'name="judged_on"' not in started_page and "Interested replies" in started_page


# --- Judging on it --------------------------------------------------------------------------


def test_judged_on_bookings_b_wins_when_it_books_more_though_a_gets_more_interested_replies(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, judged_on=BOOKINGS, daily_limit=125)
    texted(campaign, "A", 150, interested=20, booked=1)
    texted(campaign, "B", 150, interested=4, booked=15)

    (a, b), on_bookings = results.ab_results(campaign, now=TUESDAY_9)
    campaign.judged_on = Campaign.JudgedOn.INTERESTED_REPLIES
    _, on_replies = results.ab_results(campaign, now=TUESDAY_9)
    campaign.judged_on = BOOKINGS
    campaign.save()
    with freeze_time(TUESDAY_9):
        page = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert (a.interested, a.booked, b.interested, b.booked) == (20, 1, 4, 15)
    assert (on_bookings.state, on_bookings.winner, on_bookings.judged_on) == ("winner", "B", BOOKINGS)
    assert on_bookings.text.startswith("Variant B wins: more booked inspections")
    assert on_bookings.planned_looks == 20  # ten days of sends and ten of settling: the bar is theirs
    assert on_bookings.boundary == pytest.approx(results.boundary(20))
    assert (on_replies.state, on_replies.winner) == ("winner", "A")
    assert "Variant B wins: more booked inspections" in page and "Send the rest variant B" in page
    assert "The verdict compares booked inspections per text sent" in page
    assert 'aria-label="Booked inspections and opt-outs per text sent' in page


def test_a_test_on_bookings_waits_for_them_and_counts_each_when_it_was_recorded(settings):
    settings.AB_MAX_SENDS_PER_VARIANT = 20
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, judged_on=BOOKINGS, daily_limit=125)
    texted(campaign, "A", 20)
    texted(campaign, "B", 20, booked=8, booked_at=eastern(2024, 1, 17, 15, 0))  # Wednesday afternoon

    _, tuesday = results.ab_results(campaign, now=eastern(2024, 1, 16, 18, 0))
    _, wednesday_noon = results.ab_results(campaign, now=eastern(2024, 1, 17, 12, 0))
    _, thursday = results.ab_results(campaign, now=eastern(2024, 1, 18, 12, 0))

    assert (tuesday.state, tuesday.look, tuesday.planned_looks) == ("collecting", 2, 11)  # sending day, then settling
    assert (wednesday_noon.state, wednesday_noon.look) == ("collecting", 2)  # Wednesday is not over
    assert (thursday.state, thursday.winner, thursday.look) == ("winner", "B", 3)


def test_no_difference_on_bookings_is_said_only_after_the_settling_days(settings):
    settings.AB_MAX_SENDS_PER_VARIANT = 20
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, judged_on=BOOKINGS, daily_limit=125)
    texted(campaign, "A", 20, booked=2)
    texted(campaign, "B", 20, booked=2)

    _, a_week_later = results.ab_results(campaign, now=eastern(2024, 1, 22, 18, 0))
    _, two_weeks_later = results.ab_results(campaign, now=eastern(2024, 1, 29, 18, 0))
    _, later_still = results.ab_results(campaign, now=eastern(2024, 2, 20, 18, 0))
    campaign.judged_on = Campaign.JudgedOn.INTERESTED_REPLIES
    _, on_replies = results.ab_results(campaign, now=eastern(2024, 1, 16, 9, 0))

    assert (a_week_later.state, a_week_later.look) == ("collecting", 6)
    assert (two_weeks_later.state, two_weeks_later.look) == ("no_difference", 11)
    assert two_weeks_later.text == (
        "No difference in booked inspections found in 20 texts of each variant and the 10 business days after "
        "them: either text will do."
    )
    assert (later_still.state, later_still.look) == ("no_difference", 11)
    assert (on_replies.state, on_replies.look) == ("no_difference", 1)  # replies do not wait
