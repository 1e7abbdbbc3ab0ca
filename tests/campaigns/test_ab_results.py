"""A/B results per variant and the verdict of the planned daily looks (issue 22)."""

import datetime as dt
import re

import pytest
from freezegun import freeze_time

from campaigns import results
from campaigns.models import Campaign, CampaignSend
from messaging import services
from messaging.intent import ReplyIntent, reply_intent
from messaging.models import Message
from tests.campaigns.conftest import eastern
from tests.factories import CampaignFactory, CampaignSendFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def sent_sends(campaign, variant: str, count: int, *, at=MONDAY_10, interested=0, other_replies=0, delivered=0,
               opted_out=0):  # fmt: skip
    for index in range(count):
        send = CampaignSendFactory(
            campaign=campaign, variant=variant, sent_at=at, scheduled_for=at, business_date=at.date(),
            status=Message.Status.DELIVERED if index < delivered else Message.Status.SENT,
        )  # fmt: skip
        if index < interested + other_replies:
            intent = ReplyIntent.INTERESTED if index < interested else ReplyIntent.QUESTION
            InboundMessageFactory(
                contact=send.contact, in_reply_to_send=send, intent=intent, created_at=at + dt.timedelta(minutes=5)
            )
        if index < opted_out:
            send.contact.opted_out_at = at + dt.timedelta(minutes=6)
            send.contact.opt_out_reason = "Replied STOP"
            send.contact.save()


def test_counts_per_variant_separate_interested_replies_from_all_replies_and_opt_outs():
    campaign = CampaignFactory()
    sent_sends(campaign, "A", 10, interested=1, other_replies=2, delivered=9, opted_out=1)
    sent_sends(campaign, "B", 8, interested=4, delivered=8)
    CampaignSendFactory(campaign=campaign, variant="A")  # queued: not sent yet, not counted

    with freeze_time(MONDAY_10 + dt.timedelta(hours=1)):
        (a, b), verdict = results.ab_results(campaign)

    assert (a.sent, a.delivered, a.replied, a.interested, a.opted_out) == (10, 9, 3, 1, 1)
    assert (b.sent, b.delivered, b.replied, b.interested, b.opted_out) == (8, 8, 4, 4, 0)
    assert verdict.state == "collecting" and verdict.look == 0  # today is not over: no look yet


# Ten texts of A: three people answered; a STOP, a HELP and two phones answered by themselves.
REPLIES = [
    "Yes, how much?",
    "Who is this?",
    "No thanks, we're all set",
    "STOP",
    "HELP",
    "I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going.",
    "Loved “Hi Mary, special offer!”",
]


def test_replies_count_people_answering_not_keywords_or_phones_answering_by_themselves(admin_client, api_client):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    sent_sends(campaign, "A", 10)
    sent_sends(campaign, "B", 4)
    for send, body in zip(CampaignSend.objects.filter(campaign=campaign, variant="A"), REPLIES, strict=False):
        reply = InboundMessageFactory(
            contact=send.contact, in_reply_to_send=send, body=body, intent=reply_intent(body),
            created_at=MONDAY_10 + dt.timedelta(minutes=5),
        )  # fmt: skip
        services.handle_keywords(reply)  # as the webhook does: STOP opts out, HELP is answered

    with freeze_time(MONDAY_10 + dt.timedelta(hours=1)):
        (a, b), _ = results.ab_results(campaign)
        page = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()
        api = api_client.get(f"/api/campaigns/{campaign.pk}/results").json()

    assert (a.sent, a.replied, a.interested, a.opted_out) == (10, 3, 1, 1)
    assert [variant["replied"] for variant in api["variants"]] == [3, 0]
    assert api["variants"][0]["rates"]["replied"]["rate"] == 0.3
    table = re.search(r'<table id="results">.*?</table>', page, re.S).group(0)
    rows = {row[0]: row[1:] for row in (re.findall(r"<t[hd][^>]*>([^<]*)", tr) for tr in table.split("<tr>")[1:])}
    assert rows["Replies from people"] == ["3", "0"] and "All replies" not in page
    assert "not counting STOP, START, HELP or a phone answering by itself" in page


def test_a_staff_correction_of_a_label_is_what_the_numbers_count():
    campaign = CampaignFactory()
    sent_sends(campaign, "A", 3, other_replies=3)
    Message.objects.filter(direction="inbound").update(intent=ReplyIntent.INTERESTED)

    (a, _), _ = results.ab_results(campaign, now=MONDAY_10 + dt.timedelta(days=1))

    assert a.interested == 3


def test_the_verdict_looks_once_a_day_and_a_look_counts_what_was_known_by_its_end():
    campaign = CampaignFactory(daily_limit=125)
    sent_sends(campaign, "A", 60, interested=3)
    sent_sends(campaign, "B", 60, interested=15)
    late = Message.objects.filter(direction="inbound", in_reply_to_send__variant="B")[:10]
    Message.objects.filter(pk__in=[m.pk for m in late]).update(created_at=MONDAY_10 + dt.timedelta(days=2))

    _, monday_evening = results.ab_results(campaign, now=eastern(2024, 1, 15, 18, 30))
    _, tuesday = results.ab_results(campaign, now=eastern(2024, 1, 16, 12, 0))
    _, later = results.ab_results(campaign, now=eastern(2024, 1, 18, 12, 0))

    assert monday_evening.look == tuesday.look == later.look == 1  # one day of sends, one look
    assert monday_evening.z == tuesday.z == later.z  # replies after that day do not move it
    assert monday_evening.planned_looks == 10 and monday_evening.boundary == pytest.approx(2.55, abs=0.01)


def test_a_clear_winner_is_offered_once_on_the_campaign_page(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, template_b="Hello {first_name}, B here")
    sent_sends(campaign, "A", 63, interested=1)
    sent_sends(campaign, "B", 62, interested=16)

    with freeze_time(eastern(2024, 1, 16, 9, 0)):
        page = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()
        response = admin_client.post(f"/campaigns/{campaign.pk}/send-the-rest", {"variant": "B"}, follow=True)
        again = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert "Variant B wins" in page and "Send the rest variant B" in page
    assert "The rest of the audience gets variant B" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.winner == "B"
    assert "Send the rest variant B" not in again


def test_the_button_cannot_declare_a_variant_the_verdict_did_not_choose(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, template_b="Hello {first_name}, B here")
    sent_sends(campaign, "A", 63, interested=3)
    sent_sends(campaign, "B", 62, interested=4)

    with freeze_time(eastern(2024, 1, 16, 9, 0)):
        admin_client.post(f"/campaigns/{campaign.pk}/send-the-rest", {"variant": "B"})

    campaign.refresh_from_db()
    assert campaign.winner == ""


def test_a_leader_that_raises_opt_outs_significantly_is_not_declared_the_winner():
    a = results.Arm("A", sent=300, interested=10, opted_out=2)
    b = results.Arm("B", sent=300, interested=40, opted_out=20)

    early = results.decide([(a, b)], planned=10, max_sends=600)
    final = results.decide(
        [
            (a, b),
            (
                results.Arm("A", sent=600, interested=20, opted_out=4),
                results.Arm("B", sent=600, interested=80, opted_out=40),
            ),
        ],
        planned=10,
        max_sends=600,
    )

    assert (early.state, early.winner) == ("collecting", "") and "significantly more opt-outs" in early.text
    assert (final.state, final.winner) == ("harmful", "")


def test_no_difference_is_the_verdict_once_both_variants_reach_the_planned_size():
    a = results.Arm("A", sent=600, interested=30)
    b = results.Arm("B", sent=600, interested=33)

    verdict = results.decide([(a, b)], planned=10, max_sends=600)

    assert verdict.state == "no_difference"


def test_the_pocock_boundaries_are_the_published_ones_and_the_table_holds_them():
    # Pocock (1977), two-sided 5%: 2.178 for 2 looks, 2.413 for 5, 2.555 for 10.
    assert [round(results.pocock_boundary(k), 2) for k in (1, 2, 5, 10)] == [1.96, 2.18, 2.41, 2.55]
    for looks in (2, 5, 10):
        assert results.boundary(looks) == pytest.approx(results.pocock_boundary(looks), abs=0.002)


def test_the_results_endpoint(api_client):
    campaign = CampaignFactory()
    sent_sends(campaign, "A", 4, interested=2)

    response = api_client.get(f"/api/campaigns/{campaign.pk}/results")

    assert response.status_code == 200
    body = response.json()
    a = body["variants"][0]
    assert (a["variant"], a["sent"], a["interested"], a["replied"]) == ("A", 4, 2, 2)
    assert a["rates"]["interested"]["rate"] == 0.5
    assert 0.15 < a["rates"]["interested"]["low"] < 0.5 < a["rates"]["interested"]["high"] < 0.86
    assert body["variants"][1]["sent"] == 0 and body["variants"][1]["rates"]["interested"]["rate"] is None
    assert body["verdict"]["state"] == "collecting" and body["winner"] == ""
