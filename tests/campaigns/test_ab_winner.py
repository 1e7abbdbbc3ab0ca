"""Declaring the A/B winner: the page asks first, saying who gets which text; afterwards the
campaign shows one text, the winner and when; members keep the variant they were assigned and the
results keep counting each text under the variant it was sent as."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns import results, services
from campaigns.models import Campaign, CampaignContact, CampaignSend
from messaging import outbox
from messaging.backends import locmem
from tests.campaigns.conftest import add_audience, eastern, text_of
from tests.campaigns.test_ab_results import sent_sends
from tests.factories import SHOP_NUMBER, CampaignContactFactory, CampaignFactory, CampaignSendFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)
TUESDAY_9 = eastern(2024, 1, 16, 9, 0)


@pytest.fixture
def decided(db):
    """An A/B campaign whose Monday sends make B the clear winner on Tuesday, with members still
    to text: three waiting for A, two for B, one awaiting a review, and one booked for text A."""
    campaign = CampaignFactory(
        name="Spring",
        status=Campaign.Status.ACTIVE,
        from_number=SHOP_NUMBER,
        template_a="Hi {first_name}, A here",
        template_b="Hello {first_name}, B here",
    )
    sent_sends(campaign, "A", 63, interested=1, at=MONDAY_10)
    sent_sends(campaign, "B", 62, interested=16, at=MONDAY_10)
    first_sent = CampaignSend.objects.filter(campaign=campaign, variant="A").order_by("id").first()
    CampaignContactFactory(
        campaign=campaign, contact=first_sent.contact, variant="A", status=CampaignContact.Status.SENT
    )
    waiting = [CampaignContactFactory(campaign=campaign, variant=variant) for variant in "AAABB"]
    CampaignContactFactory(
        campaign=campaign,
        variant="A",
        status=CampaignContact.Status.FLAGGED,
        held_because="review_texted_us_before",
        ineligible_reason="Has texted us before: review before texting",
    )
    booked = CampaignContactFactory(campaign=campaign, variant="A", status=CampaignContact.Status.SCHEDULED)
    CampaignSendFactory(campaign=campaign, contact=booked.contact, variant="A", scheduled_for=TUESDAY_9)
    return {"campaign": campaign, "first_sent": first_sent, "waiting": waiting, "booked": booked}


def member_texts(page: str) -> dict[int, str]:
    """Each audience row's member id and the text shown for them."""
    rows = re.findall(r'<tr data-member="(\d+)">.*?<td class="member-text"[^>]*>(\w*)</td>', page, re.S)
    return {int(member): text for member, text in rows}


def test_the_button_asks_first_saying_who_gets_which_text_and_that_it_is_final(admin_client, decided):
    campaign = decided["campaign"]
    with freeze_time(TUESDAY_9):
        detail = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
        confirm = admin_client.get(reverse("campaigns:send-the-rest", args=[campaign.pk]) + "?variant=B")

    assert f'href="/campaigns/{campaign.pk}/send-the-rest?variant=B">Send the rest variant B…</a>' in detail
    page = confirm.content.decode()
    assert "The 5 members still waiting get text B (3 of them were to get the other text)." in page
    assert "The 1 awaiting a review gets it too if approved." in page
    assert "Texts already booked go as they were booked: 1 of text A." in page
    assert "What was sent stays counted under the text it was (63 of text A, 62 of text B)" in page
    assert "This is final" in page
    campaign.refresh_from_db()
    assert campaign.winner == ""  # asking declares nothing


def test_the_confirmation_is_refused_for_a_variant_the_verdict_did_not_choose(admin_client, decided):
    campaign = decided["campaign"]
    with freeze_time(TUESDAY_9):
        response = admin_client.get(reverse("campaigns:send-the-rest", args=[campaign.pk]) + "?variant=A", follow=True)

    assert "There is no verdict for that variant." in response.content.decode()
    assert "This is final" not in response.content.decode()


def test_after_the_winner_the_page_shows_one_text_the_winner_and_when(admin_client, decided):
    campaign = decided["campaign"]
    with freeze_time(TUESDAY_9):
        admin_client.post(reverse("campaigns:send-the-rest", args=[campaign.pk]), {"variant": "B"})
        page = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    campaign.refresh_from_db()
    assert campaign.winner == "B" and campaign.winner_declared_at == TUESDAY_9
    assert "Split:" not in page
    assert "Text B won (declared Tue Jan 16, 9:00 AM): everyone not yet booked gets it" in page
    assert "Variant B was declared the winner on Tuesday, Jan 16, 2024, 9:00 AM" in page
    assert '<div class="preview-row" data-variant="B">' in page
    assert 'data-variant="A"' not in page  # one text: the winner's
    shown = member_texts(page)
    waiting = {member.pk for member in decided["waiting"]}
    flagged = CampaignContact.objects.get(campaign=campaign, status=CampaignContact.Status.FLAGGED)
    assert {shown[pk] for pk in waiting} == {"B"}  # the three assigned A get B now
    assert shown[flagged.pk] == "B"
    assert shown[decided["booked"].pk] == "A"  # booked before the verdict: goes as booked
    sent_member = CampaignContact.objects.get(campaign=campaign, status=CampaignContact.Status.SENT)
    assert shown[sent_member.pk] == "A"
    # The rows keep the variant each member was assigned, for the record.
    assert sorted(CampaignContact.objects.filter(pk__in=waiting).values_list("variant", flat=True)) == list("AAABB")


def test_the_page_offers_the_winner_no_more_once_declared(admin_client, decided):
    campaign = decided["campaign"]
    services.declare_winner(campaign=campaign, variant="B")

    with freeze_time(TUESDAY_9):
        again = admin_client.get(
            reverse("campaigns:send-the-rest", args=[campaign.pk]) + "?variant=B", follow=True
        ).content.decode()

    assert "Variant B was already declared the winner." in again
    assert "This is final" not in again and "Send the rest variant B" not in again


def test_a_text_booked_before_the_winner_goes_as_booked_and_counts_there():
    campaign = CampaignFactory(
        from_number=SHOP_NUMBER, template_a="Hi {first_name}, A here", template_b="Hello {first_name}, B here"
    )
    add_audience(campaign, 20, zip_code="02169")
    with freeze_time(MONDAY_10):
        services.start_campaign(campaign=campaign, now=MONDAY_10)
    booked_a = CampaignSend.objects.filter(campaign=campaign, variant="A").order_by("scheduled_for").first()
    services.declare_winner(campaign=campaign, variant="B")

    with freeze_time(booked_a.scheduled_for):
        assert outbox.deliver_message(text_of(booked_a).pk) == "sent"

    body = text_of(booked_a).body
    assert ", A here" in body and [sms.body for sms in locmem.outbox] == [body]
    with freeze_time(booked_a.scheduled_for + dt.timedelta(minutes=1)):
        (a, b), _ = results.ab_results(campaign)
    assert (a.sent, b.sent) == (1, 0)  # counted as what it was: text A
