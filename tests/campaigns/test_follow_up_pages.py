"""The pages of follow-ups: the campaign form writes the follow-up step, the campaign page shows it
and how each of its texts does, and from a reply in the conversation staff choose a day to text
someone again, see it in the list of follow-ups and on Today, and take it back."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns import services, text_again
from campaigns.models import Campaign, CampaignContact
from tests.campaigns.conftest import eastern
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignSendFactory,
    InboundMessageFactory,
)

pytestmark = pytest.mark.django_db

TUESDAY = eastern(2024, 1, 16, 10, 0)
FORM = {
    "name": "Spring cracks",
    "template_a": "Hi {name}, about your foundation",
    "daily_limit": 125,
    "split_percent_a": 50,
    "include_opt_out_footer": "on",
    "frequency_cap_days": 30,
    "prior_contact_policy": "skip",
    "judged_on": "interested_replies",
    "purpose": "marketing",
    "from_number": SHOP_NUMBER,
}


def text_of(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|div|section|table)>', page, re.S)
    assert found, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_campaign_form_saves_edits_and_removes_the_follow_up_step(owner_pages):
    step = {"follow_up_template_a": "{name}, still thinking about it?", "follow_up_template_b": "Any cracks yet?",
            "follow_up_split_percent_a": 30, "follow_up_after_days": 4}  # fmt: skip

    response = owner_pages.post(reverse("campaigns:create"), FORM | step)

    campaign = Campaign.objects.get(name="Spring cracks")
    assert response.status_code == 302
    follow_up = Campaign.objects.get(follow_up_of=campaign)
    assert (follow_up.name, follow_up.template_a, follow_up.template_b) == (
        "Spring cracks (follow-up)", "{name}, still thinking about it?", "Any cracks yet?",
    )  # fmt: skip
    assert (follow_up.split_percent_a, follow_up.follow_up_after_days, follow_up.status) == (30, 4, "draft")
    form = owner_pages.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()
    assert "{name}, still thinking about it?</textarea>" in form and 'value="4"' in form

    owner_pages.post(reverse("campaigns:edit", args=[campaign.pk]), FORM | step | {"follow_up_after_days": ""})
    follow_up.refresh_from_db()
    assert follow_up.follow_up_after_days is None  # only those staff choose

    owner_pages.post(reverse("campaigns:edit", args=[campaign.pk]), FORM)
    assert not Campaign.objects.filter(follow_up_of=campaign).exists()


def test_a_follow_up_text_refused_is_said_beside_its_own_field_and_nothing_is_saved(owner_pages):
    too_long = "Still thinking about your foundation? " * 45  # over 1,600 characters

    response = owner_pages.post(
        reverse("campaigns:create"), FORM | {"follow_up_template_a": too_long, "follow_up_after_days": 3}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"follow_up_template_a"} and "1,600" in errors["follow_up_template_a"][0]
    assert not Campaign.objects.exists()  # the campaign neither: saved together or not at all


def a_campaign_with_its_follow_up(**follow_up) -> tuple[Campaign, Campaign]:
    campaign = services.create_campaign(name="Spring", template_a="Spring: hi {name}", from_number=SHOP_NUMBER)
    step = {"template_a": "Again: {name}?", "template_b": "Still?", "after_days": 3} | follow_up
    return campaign, services.set_follow_up(campaign=campaign, **step)


def test_the_campaign_page_shows_the_follow_up_and_how_each_of_its_texts_does(owner_pages):
    campaign, follow_up = a_campaign_with_its_follow_up()
    for variant, answered in (("A", True), ("A", False), ("B", False)):
        send = CampaignSendFactory(campaign=follow_up, variant=variant, status="sent", sent_at=TUESDAY)
        if answered:
            InboundMessageFactory(contact=send.contact, in_reply_to_send=send, created_at=TUESDAY, intent="other")

    page = owner_pages.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert "3 business days after the first text" in text_of(page, "follow-up-step")
    assert text_of(page, "follow-up-text-a") == "Again: {name}?" and text_of(page, "follow-up-text-b") == "Still?"
    results = text_of(page, "follow-up-results")
    assert "Sent 2 1" in results and "Replies from people 1 0" in results
    assert f'href="{reverse("campaigns:detail", args=[follow_up.pk])}"' in page


def test_a_campaign_without_a_follow_up_offers_to_add_one_and_the_list_shows_no_follow_ups(owner_pages):
    campaign, follow_up = a_campaign_with_its_follow_up()
    lonely = services.create_campaign(name="Lonely", template_a="Hi", from_number=SHOP_NUMBER)

    page = owner_pages.get(reverse("campaigns:detail", args=[lonely.pk])).content.decode()
    listed = owner_pages.get(reverse("campaigns:list")).content.decode()

    assert "No follow-up. Add one" in text_of(page, "follow-up-step")
    assert f'data-campaign="{campaign.pk}"' in listed and f'data-campaign="{follow_up.pk}"' not in listed


def test_the_follow_ups_own_page_says_whose_it_is_and_starts_only_with_it(owner_pages):
    campaign, follow_up = a_campaign_with_its_follow_up()

    page = owner_pages.get(reverse("campaigns:detail", args=[follow_up.pk])).content.decode()
    edit = owner_pages.get(reverse("campaigns:edit", args=[follow_up.pk]))

    assert "starts, pauses, resumes and is cancelled with that campaign" in text_of(page, "follow-up-of")
    assert "Start now" not in page and "Schedule…" not in page
    assert edit.status_code == 302 and edit["Location"] == reverse("campaigns:edit", args=[campaign.pk])


def answered(campaign: Campaign, words: str = "Not now, maybe in the spring", intent: str = "not_interested"):
    """A contact texted by ``campaign`` on Tuesday, and their reply to it."""
    send = CampaignSendFactory(campaign=campaign, status="sent", sent_at=TUESDAY, scheduled_for=TUESDAY)
    CampaignContactFactory(campaign=campaign, contact=send.contact, status="sent")
    return InboundMessageFactory(
        contact=send.contact, in_reply_to_send=send, body=words, intent=intent, created_at=TUESDAY
    )


def test_staff_choose_a_day_from_the_reply_and_find_it_on_the_list_and_today(owner_pages, owner_user):
    campaign, follow_up = a_campaign_with_its_follow_up()
    reply = answered(campaign)
    thread = reverse("messaging:thread", args=[reply.contact_id])

    with freeze_time(TUESDAY + dt.timedelta(hours=1)):
        page = owner_pages.get(thread).content.decode()
        assert 'id="text-again-form"' in page and "Not now, maybe in the spring" in text_of(page, "text-again")
        # The day their words suggest is filled in, and the page says which words it read.
        assert 'id="text-again-on" name="on" value="2024-03-15"' in page
        assert "Suggested from “in the spring”" in page
        response = owner_pages.post(reverse("campaigns:text-again", args=[reply.pk]), {"on": "2024-03-04"})
        assert response.status_code == 302 and response["Location"] == thread
        member = CampaignContact.objects.get(campaign=follow_up, contact=reply.contact)
        assert (member.text_again_on, member.text_again_by, member.not_before) == (
            dt.date(2024, 3, 4), owner_user, eastern(2024, 3, 4, 9, 0),
        )  # fmt: skip
        page = owner_pages.get(thread).content.decode()
        assert "To be texted again on Monday, Mar 4, 2024" in text_of(page, "text-again-planned")
        upcoming = owner_pages.get(reverse("follow-ups") + "?due=upcoming").content.decode()
        row = text_of(upcoming, "due-follow-ups")
        assert "Mon Mar 4, 2024" in row and "Not now, maybe in the spring" in row and owner_user.username in row

    with freeze_time(eastern(2024, 3, 5, 8, 0)):  # the day went by: overdue until it goes
        today = owner_pages.get(reverse("dashboard")).content.decode()
        assert "due today or overdue: 1" in text_of(today, "follow-ups-due")
        listed = owner_pages.get(reverse("follow-ups")).content.decode()
        assert "overdue" in text_of(listed, "due-follow-ups")
        owner_pages.post(reverse("campaigns:cancel-follow-up", args=[member.pk]), {"next": reverse("follow-ups")})
        member.refresh_from_db()
        assert (member.status, member.held_because) == ("ineligible", "follow_up_cancelled")
        assert "due today or overdue: 0" in text_of(owner_pages.get(reverse("dashboard")).content.decode(),
                                                    "follow-ups-due")  # fmt: skip


def test_a_day_that_passed_is_refused_with_the_reason(owner_pages):
    campaign, follow_up = a_campaign_with_its_follow_up()
    reply = answered(campaign)

    with freeze_time(TUESDAY + dt.timedelta(hours=1)):
        response = owner_pages.post(reverse("campaigns:text-again", args=[reply.pk]), {"on": "2024-01-10"}, follow=True)

    assert "That day has passed" in response.content.decode()
    assert not follow_up.memberships.exists()


def test_a_campaign_without_a_follow_up_says_so_and_links_to_give_it_one(owner_pages):
    campaign = services.create_campaign(name="Lonely", template_a="Lonely: hi", from_number=SHOP_NUMBER)
    reply = answered(campaign, words="No thanks, not right now")

    with freeze_time(TUESDAY + dt.timedelta(hours=1)):
        page = owner_pages.get(reverse("messaging:thread", args=[reply.contact_id])).content.decode()
        refused = owner_pages.post(reverse("campaigns:text-again", args=[reply.pk]), {"on": "2024-03-04"}, follow=True)

    assert "has no follow-up text to send them" in text_of(page, "text-again-refused")
    assert f"{reverse('campaigns:edit', args=[campaign.pk])}#follow-up-step" in page
    assert "has no follow-up step: give it one" in refused.content.decode()


def test_replies_that_are_no_no_or_not_now_offer_nothing(owner_pages):
    campaign, _ = a_campaign_with_its_follow_up()
    reply = answered(campaign, words="Yes, how much?", intent="interested")

    page = owner_pages.get(reverse("messaging:thread", args=[reply.contact_id])).content.decode()

    assert 'id="text-again"' not in page
    assert text_again.latest_offer([reply], today=TUESDAY.date()) is None
