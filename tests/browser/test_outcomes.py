"""What came of a conversation, recorded in a real browser from the thread: the amount is asked
only for a job won, the outcome shows the campaign text it is owed to, and a correction keeps
what it replaced."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Outcome
from tests.browser.conftest import screenshot
from tests.factories import CampaignFactory, CampaignSendFactory, ContactFactory, InboundMessageFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

BOSTON = ZoneInfo("America/New_York")


def spoken(day: dt.date, *, year: bool = True) -> str:
    """A date as the pages write it: Mar 4, 2024 (or Mar 4)."""
    return f"{day:%b} {day.day}, {day.year}" if year else f"{day:%b} {day.day}"


def test_an_outcome_recorded_from_the_conversation_goes_to_the_campaign_text_she_answered(page: Page, staff_login):
    mary = ContactFactory(first_name="Mary", last_name="Walsh")
    sent = timezone.now() - dt.timedelta(days=3)
    send = CampaignSendFactory(
        campaign=CampaignFactory(name="Spring mailer"),
        contact=mary,
        variant="B",
        scheduled_for=sent,
        status="delivered",
        sent_at=sent,
    )
    answered = InboundMessageFactory(
        contact=mary,
        body="Yes, we have a crack in the basement wall. How much for a look?",
        created_at=sent + dt.timedelta(minutes=40),
        in_reply_to_send=send,
        intent="interested",
    )
    today = timezone.now().astimezone(BOSTON).date()
    answered_on = spoken(answered.created_at.astimezone(BOSTON).date(), year=False)
    attribution = f"from Spring mailer, text B: Mary answered it on {answered_on}"

    page.goto(f"/conversations/{mary.pk}/")
    form = page.locator("#record-outcome")
    expect(form.locator("input[name=outcome-on]")).to_have_value(today.isoformat())  # today, in Boston
    form.locator("select[name=outcome-kind]").select_option(label="Job won")
    expect(form.locator("input[name=outcome-amount]")).to_be_visible()
    form.locator("select[name=outcome-kind]").select_option(label="Inspection booked")
    expect(form.locator("input[name=outcome-amount]")).to_be_hidden()
    form.locator("input[name=outcome-note]").fill("Thursday 9am, side door")
    form.locator("button:has-text('Record')").click()

    expect(page.locator(".alert.success")).to_contain_text("Recorded: Inspection booked")
    outcome = page.locator("#outcomes li.outcome").first
    expect(outcome.locator(".outcome-line")).to_have_text(f"Inspection booked, {spoken(today)} — {attribution}")
    expect(outcome).to_contain_text("“Thursday 9am, side door”")
    screenshot(page, "thread-outcome")

    outcome.locator("summary").click()
    prefix = f"outcome-{Outcome.objects.get().pk}"
    outcome.locator(f"select[name={prefix}-kind]").select_option(label="Job won")
    outcome.locator(f"input[name={prefix}-amount]").fill("12500")
    outcome.locator("button:has-text('Save the correction')").click()

    corrected = page.locator("#outcomes li.outcome").first
    expect(corrected.locator(".outcome-line")).to_have_text(f"Job won, $12,500.00, {spoken(today)} — {attribution}")
    expect(corrected.locator("ol.versions li")).to_have_count(2)
    expect(corrected.locator("ol.versions li").first).to_contain_text("Recorded")
    expect(corrected.locator("ol.versions li").first).to_contain_text("Inspection booked")
    expect(corrected.locator("ol.versions li").last).to_contain_text("Corrected")
    current = Outcome.objects.current().get()
    assert (current.kind, current.amount, current.campaign.name, current.variant) == (
        "job_won",
        Decimal("12500.00"),
        "Spring mailer",
        "B",
    )
    assert Outcome.objects.count() == 2
    screenshot(page, "thread-outcome-corrected")
