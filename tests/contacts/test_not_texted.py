"""Why nobody may text a contact (opted out; not a mobile number: landline, toll-free, foreign), in
the one vocabulary (contacts/not_texted.py): the contact page's badge says it."""

import html
import re

import pytest

from tests.campaigns.refusals import refusals

pytestmark = pytest.mark.django_db


def visible_text(page: bytes) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.decode())).split())


def badge(page: bytes) -> tuple[str, str]:
    """The contact page's word on whether they may be texted: its reason code, and what it says."""
    found = re.search(r'<p><span class="badge ineligible" id="not-texted" data-reason="(\w+)">(.*?)</p>', page.decode())
    return found.group(1), " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


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
