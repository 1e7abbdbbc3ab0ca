"""A campaign's results in money in a real browser (issue 39): what each text cost and what came of
it, beside the whole campaign's, the verdict judged on booked inspections, and Today's month."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Outcome
from messaging.models import Message
from tests.browser.conftest import screenshot
from tests.browser.test_campaign_page import texted
from tests.factories import SHOP_NUMBER, CampaignFactory, OutcomeFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def record(campaign: Campaign, variant: str, *outcomes: tuple[str, int | None]) -> None:
    """Each outcome (kind, amount) for the next person who answered a text of ``variant``, today."""
    replies = Message.objects.filter(in_reply_to_send__campaign=campaign, in_reply_to_send__variant=variant)
    for reply, (kind, amount) in zip(replies.order_by("id"), outcomes, strict=False):
        OutcomeFactory(answered=reply, kind=kind, amount=amount and Decimal(amount), on=timezone.localdate())


def test_a_campaigns_results_in_money_show_what_each_text_cost_and_earned(page: Page, staff_login):
    campaign = CampaignFactory(
        name="Fall foundation check", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER,
        judged_on=Campaign.JudgedOn.BOOKED_INSPECTIONS,
        template_a="Hi {first_name}, a free foundation inspection this fall? Reply YES",
        template_b="{first_name}, cracks in your basement wall? We check them free. Reply YES",
    )  # fmt: skip
    texted(campaign, "A", 60, interested=6, delivered=58)
    texted(campaign, "B", 60, interested=9, delivered=59)
    booked, done, job = Outcome.Kind.INSPECTION_BOOKED, Outcome.Kind.INSPECTION_DONE, Outcome.Kind.JOB_WON
    record(campaign, "A", (booked, None), (job, 12400))
    record(campaign, "B", (booked, None), (booked, None), (done, None), (job, 9800), (job, 15250))

    page.goto(f"/campaigns/{campaign.pk}/")

    money = page.locator("#money")
    expect(money.locator("thead th")).to_have_text(["", "Text A", "Text B", "Total"])
    expected = {
        "Texts sent": ["60", "60", "120"],
        "Cost": ["$0.60", "$0.60", "$1.20"],
        "Replies from people": ["6", "9", "15"],
        "Inspections booked": ["2", "5", "7"],
        "Jobs won": ["1", "2", "3"],
        "Revenue": ["$12,400.00", "$25,050.00", "$37,450.00"],
        "Cost per booked inspection": ["$0.30", "$0.12", "$0.17"],
    }
    for heading, cells in expected.items():
        expect(money.locator(f"tr:has(th:text-is('{heading}')) td")).to_have_text(cells)
    expect(page.locator("#judged-on")).to_contain_text("The verdict compares booked inspections per text sent")
    expect(page.locator("#verdict")).to_contain_text("booked-inspection rate")
    page.locator("#money-title").scroll_into_view_if_needed()
    screenshot(page, "campaign-results-in-money")

    page.goto("/")
    expect(page.locator("#this-month .value")).to_have_text(["7", "3", "$37,450.00"])
    expect(page.locator("#month-from-campaigns")).to_contain_text("From campaign texts: 7 booked, 3 jobs won")
