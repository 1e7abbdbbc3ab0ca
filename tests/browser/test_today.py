"""Today and a thread on a 375 px phone: what staff must see there without scrolling sideways."""

import pytest
from playwright.sync_api import Page, expect

from messaging.models import Message
from tests.browser.conftest import SIZES, screenshot
from tests.factories import ContactFactory, InboundMessageFactory, MessageFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_failed_text_shows_its_status_on_a_phone(page: Page, staff_login):
    contact = ContactFactory(first_name="Mary", last_name="Sullivan")
    MessageFactory(contact=contact, body="Tuesday 9am works", status=Message.Status.FAILED, error="Carrier refused")
    page.set_viewport_size(SIZES["phone"])
    page.goto("/")

    status = page.locator("section[aria-labelledby=latest] tbody tr").first.locator(".badge.failed")
    expect(status).to_have_text("Failed")
    expect(status).to_be_visible()
    box = status.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES["phone"]["width"]
    screenshot(page, "today-failed-text")


def test_a_bubble_ends_with_its_time_line(page: Page, staff_login):
    contact = ContactFactory(first_name="Mary", last_name="Sullivan")
    InboundMessageFactory(contact=contact, body="Yes, how much?\nWe have a crack in the basement.")
    MessageFactory(contact=contact, body="About $500. Tuesday 9am?")
    page.goto(f"/conversations/{contact.pk}/")

    for bubble in page.locator(".bubble").all():
        meta = bubble.locator(".meta").bounding_box()
        last = bubble.locator(":scope > :last-child").bounding_box()
        box = bubble.bounding_box()
        # The bubble's padding (.5rem) under the last line, and no empty lines below it.
        assert box["y"] + box["height"] - (last["y"] + last["height"]) <= 12
        assert meta["y"] >= box["y"]
    # The text keeps its own line breaks.
    assert page.locator(".bubble.inbound .body").inner_text() == "Yes, how much?\nWe have a crack in the basement."
    screenshot(page, "thread-bubbles")
