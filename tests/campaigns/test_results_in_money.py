"""A campaign's results in money (issue 39): per variant and in total, the texts sent, their segments
and cost, replies from people, inspections booked, jobs won, revenue and cost per booked inspection,
as the campaign page, the API and Today show them."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from campaigns import money, results
from campaigns.models import Campaign, Outcome
from messaging.intent import ReplyIntent
from messaging.models import Message
from tests.campaigns.conftest import eastern
from tests.factories import CampaignFactory, CampaignSendFactory, ContactFactory, InboundMessageFactory, OutcomeFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)
LATER = MONDAY_10 + dt.timedelta(days=3)


def texted(campaign: Campaign, variant: str, count: int, *, segments: int = 1, replies: tuple[str, ...] = ()):
    """``count`` texts of ``variant`` that went on Monday, billed as ``segments`` each; the first
    ones answered with ``replies`` (each a label: interested, question, opt_out …). Returns the replies."""
    sends = [
        CampaignSendFactory(
            campaign=campaign,
            variant=variant,
            status=Message.Status.DELIVERED,
            sent_at=MONDAY_10,
            scheduled_for=MONDAY_10,
            business_date=MONDAY_10.date(),
            segments=segments,
        )  # fmt: skip
        for _ in range(count)
    ]
    return [
        InboundMessageFactory(
            contact=send.contact,
            in_reply_to_send=send,
            intent=intent,
            created_at=MONDAY_10 + dt.timedelta(minutes=5),
            handled_automatically=intent == ReplyIntent.OPT_OUT,
        )  # fmt: skip
        for send, intent in zip(sends, replies, strict=False)
    ]


def correct(outcome: Outcome, **changes) -> Outcome:
    """A correction of ``outcome``, as staff make one: a new outcome that replaces it."""
    fields = {name: getattr(outcome, name) for name in ("contact", "kind", "on", "amount", "campaign", "variant",
                                                        "answered")}  # fmt: skip
    return OutcomeFactory(**{**fields, **changes}, replaces=outcome)


@pytest.fixture
def campaign():
    """Text A: ten texts of two segments, four answered (one a STOP); text B: five of one segment,
    two answered. What came of them, recorded, corrected and withdrawn as staff do."""
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, name="Spring")
    a = texted(campaign, "A", 10, segments=2, replies=("interested", "question", "interested", "question", "opt_out"))
    b = texted(campaign, "B", 5, replies=("interested", "interested"))
    OutcomeFactory(answered=a[0])
    OutcomeFactory(answered=a[1])
    OutcomeFactory(answered=a[1], kind=Outcome.Kind.INSPECTION_DONE)  # the same person: one booking
    OutcomeFactory(answered=a[2], kind=Outcome.Kind.JOB_WON, amount=Decimal("12500"))  # a job implies a booking
    OutcomeFactory(answered=a[3], kind=Outcome.Kind.LOST)  # lost without a booking
    booked = OutcomeFactory(answered=b[0])
    correct(booked, kind=Outcome.Kind.JOB_WON, amount=Decimal("8000.50"))  # the correction counts, once
    correct(OutcomeFactory(answered=b[1]), withdrawn=True)  # withdrawn: it did not happen
    OutcomeFactory(contact=ContactFactory(), kind=Outcome.Kind.JOB_WON, amount=Decimal("900"))  # no campaign's
    other = texted(CampaignFactory(), "A", 1, replies=("interested",))
    OutcomeFactory(answered=other[0], kind=Outcome.Kind.JOB_WON, amount=Decimal("700"))  # another campaign's
    return campaign


def table(page: str, element_id: str) -> dict[str, list[str]]:
    """A page's table as {row heading: its cells' text}."""
    found = re.search(rf'<table id="{element_id}">.*?</table>', page, re.S).group(0)
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in found.split("<tr>")[1:]
    ]
    return {row[0]: row[1:] for row in rows}


def test_each_text_and_the_campaign_show_cost_replies_bookings_jobs_and_revenue(campaign):
    arms, _ = results.ab_results(campaign, now=LATER)
    a, b, total = money.results_in_money(campaign, arms)

    assert (a.sent, a.segments, a.cost, a.replied, a.booked, a.jobs_won, a.revenue) == (
        10, 20, Decimal("0.20"), 4, 3, 1, Decimal("12500.00")
    )  # fmt: skip
    assert (b.sent, b.segments, b.cost, b.replied, b.booked, b.jobs_won, b.revenue) == (
        5, 5, Decimal("0.05"), 2, 1, 1, Decimal("8000.50")
    )  # fmt: skip
    assert (total.sent, total.segments, total.cost, total.replied, total.booked, total.jobs_won, total.revenue) == (
        15, 25, Decimal("0.25"), 6, 4, 2, Decimal("20500.50")
    )  # fmt: skip
    assert (a.cost_per_booked, b.cost_per_booked, total.cost_per_booked) == (
        Decimal("0.07"), Decimal("0.05"), Decimal("0.06")
    )  # fmt: skip
    assert [arm.replied for arm in arms] == [a.replied, b.replied]  # the A/B results' own count


def test_the_api_extends_the_results_with_money_as_strings_and_keeps_its_fields(campaign, api_client):
    with freeze_time(LATER):
        body = api_client.get(f"/api/campaigns/{campaign.pk}/results").json()

    a, b = body["variants"]
    assert {"variant", "sent", "delivered", "replied", "interested", "opted_out", "rates"} <= set(a)
    assert (a["variant"], a["sent"], a["delivered"], a["replied"], a["interested"], a["opted_out"]) == (
        "A", 10, 10, 4, 2, 0
    )  # fmt: skip
    assert set(a["rates"]) == {"delivered", "replied", "interested", "opted_out", "booked_inspections"}
    assert a["rates"]["booked_inspections"]["rate"] == 0.3
    money_of = ("segments", "cost", "booked_inspections", "jobs_won", "revenue", "cost_per_booked_inspection")
    assert [a[key] for key in money_of] == [20, "0.20", 3, 1, "12500.00", "0.07"]
    assert [b[key] for key in money_of] == [5, "0.05", 1, 1, "8000.50", "0.05"]
    assert body["total"] == {
        "sent": 15, "segments": 25, "cost": "0.25", "replied": 6, "booked_inspections": 4, "jobs_won": 2,
        "revenue": "20500.50", "cost_per_booked_inspection": "0.06",
    }  # fmt: skip
    assert body["verdict"]["judged_on"] == "interested_replies" and body["winner"] == ""


def test_the_campaign_page_shows_results_in_money_per_text_and_in_total(campaign, admin_client):
    with freeze_time(LATER):
        page = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    rows = table(page, "money")
    assert rows[""] == ["Text A", "Text B", "Total"]
    assert rows["Texts sent"] == ["10", "5", "15"]
    assert rows["Segments"] == ["20", "5", "25"]
    assert rows["Cost"] == ["$0.20", "$0.05", "$0.25"]
    assert rows["Replies from people"] == ["4", "2", "6"]
    assert rows["Inspections booked"] == ["3", "1", "4"]
    assert rows["Jobs won"] == ["1", "1", "2"]
    assert rows["Revenue"] == ["$12,500.00", "$8,000.50", "$20,500.50"]
    assert rows["Cost per booked inspection"] == ["$0.07", "$0.05", "$0.06"]
    assert "at $0.01 a segment" in page
    assert table(page, "results")["Inspections booked"] == ["3 (30.0%)", "1 (20.0%)"]


def test_nothing_booked_gives_no_cost_per_booked_inspection(api_client, admin_client):
    campaign = CampaignFactory(template_b="")
    texted(campaign, "A", 3, replies=("interested",))

    body = api_client.get(f"/api/campaigns/{campaign.pk}/results").json()
    page = admin_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert body["variants"][0]["cost_per_booked_inspection"] is None
    assert body["total"]["cost"] == "0.03" and body["total"]["cost_per_booked_inspection"] is None
    rows = table(page, "money")
    assert rows[""] == ["Text A"]  # one text: no test, no total beside it
    assert rows["Cost per booked inspection"] == ["–"]


def test_texts_not_sent_cost_nothing_and_count_nowhere(api_client):
    campaign = CampaignFactory()
    texted(campaign, "A", 2, segments=3)
    CampaignSendFactory(campaign=campaign, variant="A")  # booked, not yet sent
    CampaignSendFactory(campaign=campaign, variant="A", cancelled_reason="opted out")
    CampaignSendFactory(campaign=campaign, variant="A", status=Message.Status.FAILED, error="carrier refused")

    body = api_client.get(f"/api/campaigns/{campaign.pk}/results").json()

    assert (body["total"]["sent"], body["total"]["segments"], body["total"]["cost"]) == (2, 6, "0.06")


def test_the_results_read_the_same_queries_however_many_texts_went(api_client):
    def queries_for(texts: int) -> int:
        campaign = CampaignFactory()
        for variant in "AB":
            for reply in texted(campaign, variant, texts, replies=("interested",) * (texts // 2)):
                OutcomeFactory(answered=reply)
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(f"/api/campaigns/{campaign.pk}/results").status_code == 200
        return len(queries)

    assert queries_for(2) == queries_for(12)


# --- Today ----------------------------------------------------------------------------------


def test_today_shows_this_months_bookings_jobs_and_revenue(admin_client):
    campaign = CampaignFactory()
    replies = texted(campaign, "A", 3, replies=("interested", "interested", "interested"))
    OutcomeFactory(answered=replies[0], on=dt.date(2024, 3, 4))  # booked this month, from a campaign
    OutcomeFactory(answered=replies[1], on=dt.date(2024, 2, 26))  # booked last month …
    OutcomeFactory(answered=replies[1], on=dt.date(2024, 3, 5), kind=Outcome.Kind.INSPECTION_DONE)  # … done now
    walk_in = ContactFactory()
    OutcomeFactory(contact=walk_in, on=dt.date(2024, 3, 10), kind=Outcome.Kind.JOB_WON, amount=Decimal("9000"))
    withdrawn = OutcomeFactory(answered=replies[2], on=dt.date(2024, 3, 11))
    correct(withdrawn, withdrawn=True)
    OutcomeFactory(answered=replies[2], on=dt.date(2024, 4, 1), kind=Outcome.Kind.JOB_WON)  # next month

    with freeze_time(eastern(2024, 3, 20, 9, 0)):
        month = money.this_month(today=dt.date(2024, 3, 20))
        page = admin_client.get("/").content.decode()

    assert (month.booked, month.jobs_won, month.revenue) == (2, 1, Decimal("9000.00"))
    assert (month.booked_from_campaigns, month.jobs_won_from_campaigns, month.revenue_from_campaigns) == (
        1, 0, Decimal("0.00")
    )  # fmt: skip
    figures = re.search(r'<div class="figures" id="this-month">(.*?)</div>\s*<p', page, re.S).group(1)
    assert re.findall(r'<span class="value"[^>]*>([^<]*)</span>', figures) == ["2", "1", "$9,000.00"]
    assert "From campaign texts: 1 booked, 0 jobs won, $0.00" in page


def test_todays_month_reads_outcomes_only_never_the_texts():
    with CaptureQueriesContext(connection) as queries:
        money.this_month(today=dt.date(2024, 3, 20))

    assert len(queries) == 2
    assert not any("messaging_message" in query["sql"] or "campaigns_campaignsend" in query["sql"] for query in queries)


def test_a_booking_counts_for_the_variant_whose_text_was_answered():
    campaign = CampaignFactory()
    texted(campaign, "A", 1, replies=("interested",))
    [b_reply] = texted(campaign, "B", 1, replies=("interested",))
    OutcomeFactory(answered=b_reply)
    OutcomeFactory(answered=b_reply, kind=Outcome.Kind.ESTIMATE_SENT)

    (a, b), _ = results.ab_results(campaign, now=LATER)

    assert (a.booked, b.booked) == (0, 1)
