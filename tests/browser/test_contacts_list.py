"""The Contacts page in a browser: how many contacts match, any spelling of a name finds them,
and First, Previous and Next walk the search a page at a time."""

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.django_db(transaction=True)]

SPELLINGS = ["O'Connor", "O’Connor", "Oconnor", "O Connor"]


def name(n: int) -> str:
    return f"Pat {n} {SPELLINGS[n % 4]}"


def test_find_every_oconnor_and_page_through_them(page: Page, staff_login):
    Contact.objects.bulk_create(
        Contact(phone=f"+1617555{n:04d}", first_name=f"Pat {n}", last_name=SPELLINGS[n % 4], city="Quincy")
        for n in range(130)
    )
    Contact.objects.bulk_create(
        Contact(phone=f"+1781555{n:04d}", first_name=f"Sean {n}", last_name="Doyle", city="Braintree")
        for n in range(20)
    )
    page.goto("/contacts/")
    expect(page.locator("#contacts-total")).to_have_text("150 contacts")
    expect(page.locator("#search-hint")).to_contain_text("Looks in the name, phone, email, street, city and ZIP")

    page.fill("input[name=q]", "o’connor")
    page.click("button:has-text('Search')")

    expect(page.locator("#contacts-total")).to_have_text("130 contacts match “o’connor”")
    expect(page.locator("#contacts tbody tr")).to_have_count(50)
    expect(page.locator("#contacts tbody")).to_contain_text(name(129))
    expect(page.locator("#pager a")).to_have_text(["Next page"])  # the first page: no way back

    page.click("text=Next page")
    expect(page.locator("#contacts tbody tr").first).to_contain_text(name(79))
    expect(page.locator("#pager a")).to_have_text(["First page", "Previous page", "Next page"])
    expect(page.locator("input[name=q]")).to_have_value("o’connor")
    screenshot(page, "contacts-list")

    page.click("text=Next page")
    expect(page.locator("#contacts tbody tr")).to_have_count(30)
    expect(page.locator("#contacts tbody tr").last).to_contain_text(name(0))
    expect(page.locator("#pager a")).to_have_text(["First page", "Previous page"])  # the last page

    page.click("text=Previous page")
    expect(page.locator("#contacts tbody tr").first).to_contain_text(name(79))
    page.click("text=First page")
    expect(page.locator("#contacts tbody tr").first).to_contain_text(name(129))
    expect(page.locator("#contacts-total")).to_have_text("130 contacts match “o’connor”")
    expect(page.locator("#contacts")).not_to_contain_text("Doyle")
