"""Replies as the office works them in a real browser: who opted out is marked wherever their
conversation or reply is listed, and the Conversations list keeps itself up to date."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from messaging import services
from messaging.intent import reply_intent
from tests.browser.conftest import screenshot
from tests.factories import ContactFactory, InboundMessageFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

AFTER = "Written after they opted out: they stay opted out. Only START or UNSTOP from them opts them back in."


def text_in(contact, body: str):
    """An inbound text as webhook processing stores it and acts on it, as it arrives."""
    at = timezone.now()
    message = InboundMessageFactory(
        contact=contact, body=body, created_at=at, status_changed_at=at, intent=reply_intent(body)
    )
    services.handle_keywords(message)
    return message


def test_an_opted_out_persons_later_reply_is_marked_in_conversations_today_and_the_thread(
    page: Page, staff_login, eager_tasks
):
    pat = ContactFactory(first_name="Pat", last_name="Doyle")
    text_in(ContactFactory(first_name="Ivy", last_name="Chen"), "Yes, how much for a crack?")
    text_in(pat, "No more texts")  # opted out, and the one confirmation goes
    text_in(pat, "actually, how much?")

    page.goto("/conversations/")
    pats = page.locator("tr", has_text="Pat Doyle")
    expect(pats).to_contain_text("Opted out")
    expect(pats).to_contain_text(AFTER)
    expect(page.locator("tr", has_text="Ivy Chen")).not_to_contain_text("Opted out")
    screenshot(page, "conversations-opted-out")

    page.goto("/")
    reply = page.locator("#replies + p + ul li", has_text="actually, how much?")
    expect(reply).to_contain_text("Opted out")
    expect(reply).to_contain_text("Interested")
    expect(reply).to_contain_text(AFTER)
    expect(page.locator("#replies + p + ul li", has_text="Ivy Chen")).not_to_contain_text("Opted out")
    screenshot(page, "today-replies-opted-out")

    page.click("a:has-text('Pat Doyle')")
    expect(page.locator(".alert.warning")).to_contain_text("only START or UNSTOP from them does")
    expect(page.locator(".bubble", has_text="actually, how much?")).to_contain_text(AFTER)
    expect(page.locator(".bubble", has_text="No more texts")).not_to_contain_text(AFTER)
    screenshot(page, "thread-opted-out")


def test_the_conversations_list_refreshes_by_itself_when_a_reply_arrives(page: Page, staff_login):
    text_in(ContactFactory(first_name="Ivy", last_name="Chen"), "Yes, how much for a crack?")
    page.goto("/conversations/")
    expect(page.locator("#conversations")).to_contain_text("Ivy Chen")

    text_in(ContactFactory(first_name="Sam", last_name="Ortiz"), "Can you come Saturday?")

    newest = page.locator("#conversations tbody tr").first
    expect(newest).to_contain_text("Sam Ortiz", timeout=12_000)
    expect(newest).to_contain_text("Can you come Saturday?")
    expect(page.locator("h1")).to_have_text("Conversations")  # the list was replaced, not the page
    screenshot(page, "conversations-refreshed")
