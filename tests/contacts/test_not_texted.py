"""Why nobody may text a contact (opted out; not a mobile number: landline, toll-free, foreign), in
the one vocabulary (contacts/not_texted.py): the contact page's badge and the import report say it
the same way."""

import html
import io
import re

import pytest

from contacts import services
from contacts.importing import pipeline
from contacts.models import Contact, ContactImport
from tests.campaigns.refusals import refusals
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def visible_text(page: bytes) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.decode())).split())


def badge(page: bytes) -> tuple[str, str]:
    """The contact page's word on whether they may be texted: its reason code, and what it says."""
    found = re.search(r'<p><span class="badge ineligible" id="not-texted" data-reason="(\w+)">(.*?)</p>', page.decode())
    return found.group(1), " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def run_import(content: bytes) -> ContactImport:
    return pipeline.import_contacts(file=io.BytesIO(content), file_name="list.csv")


def test_the_contact_page_says_why_nobody_may_text_them_and_why_each_campaign_does_not(openphone, client, staff_user):
    world = refusals(openphone)
    client.force_login(staff_user)

    def page(name: str) -> bytes:
        return client.get(f"/contacts/{world.people[name].pk}/").content

    assert badge(page("toll_free")) == (
        "toll_free",
        "Not a mobile number: toll-free A toll-free number, which a business number cannot text",
    )
    assert badge(page("foreign")) == ("foreign_number", "Not a mobile number: foreign Not a US number (Canada)")
    assert badge(page("landline")) == ("landline", "Not a mobile number: landline")  # the detail only repeats it
    assert badge(page("opted_out")) == ("opted_out", "Opted out Dec 1, 2026 Replied 'STOP'")
    texted = visible_text(page("texted"))
    assert "Can be texted" in texted
    assert (
        "Fall · Waiting · Waiting: texted by another campaign lately · Texted by another campaign (“Spring”) "
        "on Dec 1, 2026; this one waits 30 days after another's text" in texted
    )
    assert "Spring · Sent" in texted


def test_the_import_report_counts_the_numbers_that_are_not_mobile_by_what_they_are(client, staff_user):
    landline = ContactFactory(phone="+16175550111")
    services.update_contact(contact=landline, line_type=Contact.LineType.LANDLINE)
    report = run_import(
        b"Name,Phone\n"
        b"Mary,617-555-0101\n"
        b"Lena,617-555-0111\n"  # the landline staff marked, named again
        b"Todd Free,888-555-0102\n"
        b"Maple Leaf,416-555-0103\n"
        b"Isle,876-555-0104\n"
    )
    older = ContactImport.objects.create(file_name="old.csv", status="completed", not_textable=3)
    client.force_login(staff_user)

    page = client.get(f"/contacts/imports/{report.pk}/").content.decode()
    before = visible_text(client.get(f"/contacts/imports/{older.pk}/").content)

    assert report.not_textable_by_reason == {"landline": 1, "toll_free": 1, "foreign_number": 2}
    assert re.search(r'Not a mobile number <span class="muted">[^<]*</span></th><td id="not-textable">4</td>', page)
    assert re.findall(r'<tr class="part" data-reason="(\w+)"><th>(.*?)</th><td>(\d+)</td></tr>', page) == [
        ("landline", "Not a mobile number: landline", "1"),
        ("toll_free", "Not a mobile number: toll-free", "1"),
        ("foreign_number", "Not a mobile number: foreign", "2"),
    ]
    # An import made before the numbers were told apart gives the total, and no parts it cannot know.
    assert "Not a mobile number (kept, never sent a campaign text) 3" in before
    assert "Not a mobile number:" not in before
