"""Before a campaign's first run, its confirmations, its forecast and its audience say what the
rules already decide (campaigns/foresight.py): the promise is what the run then books."""

import datetime as dt
import re

import pytest
from freezegun import freeze_time

from campaigns import audience
from campaigns.models import Campaign, CampaignSend
from contacts.not_texted import Reason
from tests.campaigns.conftest import eastern
from tests.campaigns.refusals import person
from tests.campaigns.test_why_not_texted import visible_text
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2026, 12, 7, 10, 0)
TUESDAY = dt.date(2026, 12, 8)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def kept_out(page: str, list_id: str = "kept-out") -> list[tuple[str, str]]:
    found = re.search(rf'<ul id="{list_id}"[^>]*>(.*?)</ul>', page, re.S)
    return re.findall(r'<li data-reason="(\w+)"><span class="num">(\d+)</span>', found.group(1)) if found else []


def draft_of(*contacts, **fields) -> Campaign:
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="", **fields)
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
    return campaign


def test_the_start_confirmation_counts_connecticuts_written_consent_and_promises_what_is_booked(staff_client):
    fine = [person(f"+1617200600{n}", first_name=f"Fine{n}") for n in range(3)]
    hartford = person("+18605550140", state="CT", zip_code="06103", city="Hartford", first_name="Connie")
    toll_free = person("+18885550141", first_name="Todd")
    campaign = draft_of(*fine, hartford, toll_free, name="First Outreach")

    with freeze_time(MONDAY_10):
        page = staff_client.get(f"/campaigns/{campaign.pk}/start").content.decode()
        staff_client.post(f"/campaigns/{campaign.pk}/start")

    assert "3 texts on Monday, Dec 7" in visible_text(page.encode())
    assert "2 members will not be texted, and why:" in page
    assert kept_out(page) == [(Reason.TOLL_FREE.value, "1"), (Reason.WRITTEN_CONSENT_REQUIRED.value, "1")]
    assert CampaignSend.objects.filter(campaign=campaign).count() == 3
    assert campaign.memberships.get(contact=hartford).held_because == Reason.WRITTEN_CONSENT_REQUIRED


def test_an_empty_campaigns_start_page_says_to_add_contacts_first(staff_client):
    campaign = CampaignFactory(from_number=SHOP_NUMBER)

    with freeze_time(MONDAY_10):
        page = visible_text(staff_client.get(f"/campaigns/{campaign.pk}/start").content)

    assert "The audience is empty: add contacts to it first" in page
    assert "Nobody in the audience can be texted" not in page and "Start sending" not in page
