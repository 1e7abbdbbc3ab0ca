"""The Contacts page in a browser: how many contacts match, any spelling of a name finds them,
First, Previous and Next walk the search a page at a time, saying where they are; on a phone
every number reads whole and whether it can be texted."""

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
    expect(page.locator("#contacts-total")).to_have_text("1–50 of 150 contacts")
    expect(page.locator("#search-hint")).to_contain_text("Looks in the name, phone, email, street, city and ZIP")

    page.fill("input[name=q]", "o’connor")
    page.click("button:has-text('Search')")

    expect(page.locator("#contacts-total")).to_have_text("1–50 of 130 contacts match “o’connor”")
    expect(page.locator("#contacts tbody tr")).to_have_count(50)
    expect(page.locator("#contacts tbody")).to_contain_text(name(129))
    expect(page.locator("#pager a")).to_have_text(["Next page"])  # the first page: no way back

    page.click("text=Next page")
    expect(page.locator("#contacts tbody tr").first).to_contain_text(name(79))
    expect(page.locator("#pager a")).to_have_text(["First page", "Previous page", "Next page"])
    expect(page.locator("input[name=q]")).to_have_value("o’connor")
    expect(page.locator("#contacts-total")).to_have_text("51–100 of 130 contacts match “o’connor”")
    screenshot(page, "contacts-list")

    page.click("text=Next page")
    expect(page.locator("#contacts tbody tr")).to_have_count(30)
    expect(page.locator("#contacts-total")).to_have_text("101–130 of 130 contacts match “o’connor”")
    expect(page.locator("#contacts tbody tr").last).to_contain_text(name(0))
    expect(page.locator("#pager a")).to_have_text(["First page", "Previous page"])  # the last page

    page.click("text=Previous page")
    expect(page.locator("#contacts tbody tr").first).to_contain_text(name(79))
    page.click("text=First page")
    expect(page.locator("#contacts tbody tr").first).to_contain_text(name(129))
    expect(page.locator("#contacts-total")).to_have_text("1–50 of 130 contacts match “o’connor”")
    expect(page.locator("#contacts")).not_to_contain_text("Doyle")


def test_on_a_phone_every_number_reads_whole_beside_whether_it_can_be_texted(page: Page, staff_login):
    for phone, first, last in [
        ("+16175550123", "Maureen", "Smith-Jones"),
        ("+18005550100", "Bartholomew", "Fitzpatrick-Sullivan"),  # toll-free
        ("+14165550123", "Kathleen", "McCarthy"),  # Toronto: foreign
    ]:
        Contact.objects.create(phone=phone, first_name=first, last_name=last, city="West Bridgewater")
    page.set_viewport_size({"width": 375, "height": 812})

    page.goto("/contacts/")

    expect(page.get_by_role("columnheader", name="Can be texted")).to_be_visible()
    rows = page.locator("#contacts tbody tr")
    expect(rows.filter(has_text="(800) 555-0100").get_by_text("Not a mobile number: toll-free")).to_be_visible()
    expect(rows.filter(has_text="(416) 555-0123")).to_contain_text("Not a mobile number: foreign")
    expect(rows.filter(has_text="(617) 555-0123")).to_contain_text("Yes")
    lines_of_each_number = page.evaluate("""() => [...document.querySelectorAll('#contacts td:nth-child(2)')]
        .map(cell => {
            const range = document.createRange(); range.selectNodeContents(cell);
            return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
        })""")
    assert lines_of_each_number == [1, 1, 1]
    # Nothing of the table is hidden off to the side: the reason column is on the screen.
    table = page.locator("#contacts").bounding_box()
    assert table["x"] + table["width"] <= 375
    screenshot(page, "contacts-list-phone")
