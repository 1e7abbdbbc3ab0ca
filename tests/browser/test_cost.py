"""What texts cost, in a real browser at desktop and phone width: a template pasted with curly
quotes is saved plain and the page says what it saved; the launch confirmation says what the
campaign will cost and what makes some texts cost more."""

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign
from tests.browser.conftest import screenshot
from tests.factories import SHOP_NUMBER, CampaignContactFactory, CampaignFactory, ContactFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_template_pasted_with_curly_quotes_is_saved_plain_and_the_page_says_so(page: Page, staff_login):
    page.goto("/campaigns/new")
    page.fill("#id_name", "Spring")
    page.fill("#id_template_a", "Hi {name}, it’s Attack-a-Crack — we’re in {city|your town} this week. Free check?")
    page.click("button:has-text('Save')")

    expect(page.locator(".alert.info")).to_have_text(
        "Text A: Replaced 2 curly apostrophes and 1 long dash with plain ones: "
        "each text now costs 1 segment instead of 2."
    )
    campaign = Campaign.objects.get(name="Spring")
    assert campaign.template_a == "Hi {name}, it's Attack-a-Crack - we're in {city|your town} this week. Free check?"
    screenshot(page, "campaign-saved-plain")


def test_the_launch_confirmation_says_what_the_campaign_will_cost(page: Page, staff_login):
    campaign = CampaignFactory(
        name="Spring A/B",
        from_number=SHOP_NUMBER,
        template_a="Hi {name}, free foundation check this week? Reply YES for a time.",
        template_b="Hi {name} ✓ free foundation check this week? Reply YES for a time.",
    )
    for n, name in enumerate(["Mary", "Joe", "Pat", "Sean", "Ann", "Leo", "Kate", "Tom", "Zoë", "Łukasz"]):
        CampaignContactFactory(campaign=campaign, contact=ContactFactory(first_name=name), variant="AB"[n % 2])
    page.goto(f"/campaigns/{campaign.pk}/")

    page.click("text=Start now…")

    # A: Mary, Pat, Ann, Kate at 1 segment, Zoë at 2 (UCS-2); B: all five at 2 (UCS-2).
    expect(page.locator("#cost")).to_contain_text("These texts will cost $0.16: 16 segments at $0.01 a segment")
    expect(page.locator("#cost-per-text li")).to_have_text(
        ["Text A: 5 texts, 4 of 1 segment and 1 of 2 segments: $0.06", "Text B: 5 texts, 5 of 2 segments: $0.10"]
    )
    # Without the emoji, four of B's texts would be plain; Łukasz's name would still make his UCS-2.
    expect(page.locator(".cost-flag")).to_have_text(
        [
            "Text A: 1 member's first name (Zoë) makes their text UCS-2: 2 segments instead of 1, +$0.01.",
            "Text B: the emoji ✓ makes every text UCS-2: 2 segments instead of 1, +$0.04 for this campaign.",
            "Text B: 1 member's first name (Łukasz) makes their text UCS-2: 2 segments instead of 1, +$0.01.",
        ]
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT  # nothing happens before the confirmation
    screenshot(page, "launch-cost")
