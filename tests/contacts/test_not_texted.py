"""Why nobody may text a contact (opted out; not a mobile number: landline, toll-free, foreign), and
why no marketing text may (Connecticut without written consent, a Do-Not-Call list), in the one
vocabulary (contacts/not_texted.py): the contact pages, the import report, the contacts API and
the contacts export say it the same way."""

import csv
import html
import io
import re

import pytest
from freezegun import freeze_time

from contacts import lawful_basis, services
from contacts.importing import pipeline
from contacts.models import (
    ConsentBasis,
    ConsentChange,
    Contact,
    ContactImport,
    DoNotCallCoverage,
    DoNotCallNumber,
)
from contacts.not_texted import Reason
from messaging import services as messaging_services
from tests.campaigns.refusals import NOW, refusals
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


def test_the_contact_api_gives_the_reason_code_and_its_detail(api_client):
    toll_free = ContactFactory(phone="+18885550102")
    opted_out = ContactFactory()
    fine = ContactFactory()
    messaging_services.opt_out(contact=opted_out, reason="Asked by phone")

    answers = {
        name: api_client.get(f"/api/contacts/{contact.pk}").json()
        for name, contact in {"toll_free": toll_free, "opted_out": opted_out, "fine": fine}.items()
    }
    moved = api_client.patch(f"/api/contacts/{fine.pk}", {"phone": "416-555-0103"}, format="json").json()

    assert {name: (answer["reason"], answer["reason_detail"]) for name, answer in answers.items()} == {
        "toll_free": ("toll_free", "A toll-free number, which a business number cannot text"),
        "opted_out": ("opted_out", "Asked by phone"),
        "fine": (None, None),
    }
    # A changed number is judged again by the database, and the answer says so at once.
    assert (moved["reason"], moved["reason_detail"]) == ("foreign_number", "Not a US number (Canada)")


def test_the_contacts_export_has_the_reason_code_and_its_detail(owner_client, client, owner_user):
    ContactFactory(phone="+16175550111", first_name="Lena", line_type=Contact.LineType.LANDLINE)
    ContactFactory(phone="+18885550102", first_name="Todd")
    with freeze_time(NOW):
        messaging_services.opt_out(contact=ContactFactory(first_name="Otto"), reason="Replied 'STOP'")
    ContactFactory(first_name="Finn")
    client.force_login(owner_user)

    for response in (owner_client.get("/api/contacts/export.csv"), client.get("/contacts/export.csv")):
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert {row["first_name"]: (row["reason"], row["reason_detail"]) for row in rows} == {
            "Lena": (Reason.LANDLINE, "Not a mobile number (landline)"),
            "Todd": (Reason.TOLL_FREE, "A toll-free number, which a business number cannot text"),
            "Otto": (Reason.OPTED_OUT, "Replied 'STOP'"),
            "Finn": ("", ""),
        }


def test_the_contact_pages_and_api_say_who_marketing_texts_may_not_reach(client, staff_user, api_client):
    connie = ContactFactory(phone="+18605550123", first_name="Connie", state="CT", zip_code="06103")
    agreed = ContactFactory(phone="+18605550124", first_name="Agnes", state="CT")
    lawful_basis.record_consent(agreed, {"consent_basis": ConsentBasis.EXPRESS_WRITTEN, "consent_at": NOW,
                                         "consent_source": "Signed form", "consent_wording": "Yes, text me"},
                                via=ConsentChange.Via.PAGE, now=NOW)  # fmt: skip
    listed = ContactFactory(phone="+16175550177", first_name="Lister", state="MA")
    DoNotCallCoverage.objects.create(list="national", area_code="617", as_of=NOW.date(), loaded_at=NOW)
    DoNotCallNumber.objects.create(number=16175550177, list="national")
    client.force_login(staff_user)

    with freeze_time(NOW):
        pages = {contact: client.get(f"/contacts/{contact.pk}/").content for contact in (connie, agreed, listed)}
        listing = client.get("/contacts/").content.decode()
        api = {contact: api_client.get(f"/api/contacts/{contact.pk}").json() for contact in (connie, agreed)}

    connecticut = "In Connecticut a sales text needs written consent; none on record"
    assert badge(pages[connie]) == (
        "written_consent_required",
        f"No marketing texts: written consent required {connecticut}",
    )
    assert "Can be texted" not in visible_text(pages[connie])
    assert badge(pages[listed])[1].startswith("No marketing texts: on a Do-Not-Call list On the National")
    assert "Can be texted" in visible_text(pages[agreed])
    reasons = dict(re.findall(r'<td data-reason="(\w*)">(?:<span[^>]*>)?([^<]*)<', listing))
    assert reasons == {
        "written_consent_required": "No marketing texts: written consent required",
        "on_do_not_call_list": "No marketing texts: on a Do-Not-Call list",
        "": "Yes",  # Agnes, who agreed in writing
    }
    assert (api[connie]["reason"], api[connie]["marketing_reason"], api[connie]["marketing_reason_detail"]) == (
        None, "written_consent_required", connecticut,
    )  # fmt: skip
    assert (api[agreed]["marketing_reason"], api[agreed]["marketing_reason_detail"]) == (None, None)
