"""A/B results per variant and the chi-square verdict on reply rates."""

import math

import pytest
from django.utils import timezone

from campaigns import selectors
from campaigns.models import CampaignSend
from messaging.models import Message
from tests.factories import CampaignFactory, CampaignSendFactory, InboundMessageFactory, MessageFactory

pytestmark = pytest.mark.django_db


def sent_sends(campaign, variant: str, count: int, *, replied: int = 0, delivered: int = 0, opted_out: int = 0):
    now = timezone.now()
    for index in range(count):
        send = CampaignSendFactory(
            campaign=campaign, variant=variant, status=CampaignSend.Status.SENT, sent_at=now, scheduled_for=now
        )
        MessageFactory(
            contact=send.contact,
            kind=Message.Kind.CAMPAIGN,
            campaign_send=send,
            status=Message.Status.DELIVERED if index < delivered else Message.Status.SENT,
        )
        if index < replied:
            InboundMessageFactory(contact=send.contact, in_reply_to_send=send)
        if index < opted_out:
            send.contact.opted_out_at = now
            send.contact.opt_out_reason = "Replied STOP"
            send.contact.save()


def test_counts_per_variant_come_from_sends_messages_and_replies():
    campaign = CampaignFactory()
    sent_sends(campaign, "A", 10, replied=3, delivered=9, opted_out=1)
    sent_sends(campaign, "B", 8, replied=1, delivered=8)
    CampaignSendFactory(campaign=campaign, variant="A")  # queued: not sent yet, not counted

    (a, b), _ = selectors.variant_results(campaign)

    assert (a.sent, a.delivered, a.replied, a.opted_out, a.reply_rate) == (10, 9, 3, 1, 0.3)
    assert (b.sent, b.delivered, b.replied, b.opted_out, b.reply_rate) == (8, 8, 1, 0, 0.125)


def test_chi_square_matches_the_textbook_value():
    # 30/100 against 15/100: chi² = 6.4516, p = 2·(1 − Φ(√6.4516)) = 0.011085 (as scipy.stats.chi2_contingency
    # gives with correction=False).
    chi_square, p_value, smallest = selectors.chi_square_2x2([[30, 70], [15, 85]])

    assert math.isclose(chi_square, 6.451612903, rel_tol=1e-9)
    assert math.isclose(p_value, 0.0110852, abs_tol=1e-7)
    assert smallest == 22.5


def test_a_clear_difference_is_significant_and_names_the_leader():
    a = selectors.VariantResult("A", sent=100, delivered=100, replied=30, opted_out=0)
    b = selectors.VariantResult("B", sent=100, delivered=100, replied=15, opted_out=0)

    test = selectors.significance(a, b)

    assert test.significant
    assert "Variant A replies better" in test.verdict


def test_a_small_difference_is_not_significant():
    a = selectors.VariantResult("A", sent=100, delivered=100, replied=22, opted_out=0)
    b = selectors.VariantResult("B", sent=100, delivered=100, replied=18, opted_out=0)

    test = selectors.significance(a, b)

    assert not test.significant
    assert test.p_value > 0.05


def test_too_few_replies_is_not_enough_data_even_with_a_small_p():
    a = selectors.VariantResult("A", sent=20, delivered=20, replied=4, opted_out=0)
    b = selectors.VariantResult("B", sent=20, delivered=20, replied=0, opted_out=0)

    test = selectors.significance(a, b)

    assert not test.significant
    assert test.verdict.startswith("Not enough data")


def test_the_results_endpoint(api_client):
    campaign = CampaignFactory()
    sent_sends(campaign, "A", 4, replied=2)

    response = api_client.get(f"/api/campaigns/{campaign.pk}/results")

    assert response.status_code == 200
    body = response.json()
    assert body["variants"][0] == {
        "variant": "A",
        "sent": 4,
        "delivered": 0,
        "replied": 2,
        "opted_out": 0,
        "reply_rate": 0.5,
    }
    assert body["variants"][1]["sent"] == 0
    assert body["significance"]["significant"] is False
    assert body["significance"]["p_value"] is None
    assert body["winner"] == ""
