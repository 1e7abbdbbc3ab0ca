"""Why members are not texted, in a real browser at desktop and phone width: the campaign page
counts each reason, a reason shows the members it holds, and a contact's page says why."""

import pytest
from playwright.sync_api import Page, expect

from contacts.not_texted import Reason
from tests.browser.conftest import screenshot
from tests.campaigns.refusals import refusals

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_the_campaign_page_counts_each_reason_and_opens_the_members_it_holds(page: Page, staff_login, openphone):
    world = refusals(openphone)
    page.goto(f"/campaigns/{world.fall.pk}/")

    held = page.locator("#held-because li")
    expect(held).to_have_count(world.fall.memberships.exclude(held_because="").count())
    expect(page.locator("#held-because")).to_contain_text(f"1 · {Reason.TEXTED_BY_ANOTHER_CAMPAIGN.label}")
    expect(page.locator("#held-because")).to_contain_text(f"1 · {Reason.TEXT_FAILED.label}")
    screenshot(page, "why-not-texted")

    page.click(f"#held-because a:has-text('{Reason.TEXTED_BY_ANOTHER_CAMPAIGN.label}')")

    rows = page.locator("#members tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Texted by another campaign (“Spring”) on Dec 1, 2026")
    expect(page.locator("select[name=because]")).to_have_value(Reason.TEXTED_BY_ANOTHER_CAMPAIGN.value)
    screenshot(page, "audience-held-by-one-reason")

    page.goto(f"/contacts/{world.people['foreign'].pk}/")
    expect(page.locator("#not-texted")).to_have_text(Reason.FOREIGN_NUMBER.label)
    screenshot(page, "contact-not-a-mobile-number")
