"""Follow-ups as the office works them in a real browser: a campaign's follow-up step on its form
and its page, and a day chosen from a "not now" in the conversation, listed on Follow-ups."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign, CampaignContact
from tests.browser.conftest import screenshot
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_staff_write_a_follow_up_step_and_read_how_each_of_its_texts_does(page: Page, staff_login):
    page.goto("/campaigns/new")
    page.fill("#id_name", "Spring cracks")
    page.fill("#id_template_a", "Hi {name}, it's Attack-a-Crack: any cracks in the basement after the winter?")
    page.fill("#id_follow_up_template_a", "{name}, still thinking about your foundation? A free look takes an hour.")
    page.fill("#id_follow_up_template_b", "Any cracks yet, {name}? We're in your area this month.")
    page.fill("#id_follow_up_after_days", "3")
    screenshot(page, "campaign-form-follow-up")
    page.click("button:has-text('Save')")

    expect(page.locator("#follow-up-step")).to_contain_text("3 business days after the first text")
    follow_up = Campaign.objects.get(follow_up_of__name="Spring cracks")
    now = timezone.now()
    for variant, people, answered in (("A", 6, 2), ("B", 5, 1)):
        for index in range(people):
            send = CampaignSendFactory(campaign=follow_up, variant=variant, status="sent", sent_at=now)
            CampaignContactFactory(
                campaign=follow_up, contact=send.contact, variant=variant, status="sent", added_via="follow_up",
                quiet_since=now - dt.timedelta(days=3),
            )  # fmt: skip
            if index < answered:
                InboundMessageFactory(contact=send.contact, in_reply_to_send=send, intent="interested")
    page.reload()
    results = page.locator("#follow-up-results")
    expect(results.locator("tr", has_text="Sent")).to_contain_text("6")
    expect(results.locator("tr", has_text="Replies from people")).to_contain_text("2")
    expect(page.locator("#follow-up-progress")).to_contain_text("11 joined the follow-up")
    screenshot(page, "campaign-follow-up")


def test_staff_choose_a_day_from_a_not_now_and_find_it_on_follow_ups(page: Page, staff_login):
    campaign = services.create_campaign(name="Spring cracks", template_a="Hi {name}", from_number=SHOP_NUMBER)
    follow_up = services.set_follow_up(campaign=campaign, template_a="Still thinking?", after_days=3)
    pat = ContactFactory(first_name="Pat", last_name="Doyle")
    sent = timezone.now() - dt.timedelta(hours=3)
    send = CampaignSendFactory(campaign=campaign, contact=pat, status="sent", sent_at=sent, scheduled_for=sent)
    CampaignContactFactory(campaign=campaign, contact=pat, status="sent")
    InboundMessageFactory(
        contact=pat, in_reply_to_send=send, body="Not now, maybe in the spring", intent="not_interested"
    )
    day = timezone.localdate() + dt.timedelta(days=60)

    page.goto(f"/conversations/{pat.pk}/")
    expect(page.locator("#text-again")).to_contain_text("Not now, maybe in the spring")
    page.fill("#text-again-on", day.isoformat())
    screenshot(page, "text-again")
    page.click("#text-again-form button")

    expect(page.locator("#text-again-planned")).to_contain_text(f"{day:%b} {day.day}, {day.year}")
    member = CampaignContact.objects.get(campaign=follow_up, contact=pat)
    assert (member.text_again_on, member.status) == (day, "pending")

    page.click("nav a:has-text('Follow-ups')")
    page.click("#due-tabs a:has-text('Upcoming')")
    row = page.locator("#due-follow-ups tr", has_text="Pat Doyle")
    expect(row).to_contain_text("Not now, maybe in the spring")
    expect(row).to_contain_text("owner")
    screenshot(page, "follow-ups")
    row.locator("button:has-text('Cancel')").click()
    expect(page.locator(".alert")).to_contain_text("will not be texted again")
    member.refresh_from_db()
    assert member.held_because == "follow_up_cancelled"
