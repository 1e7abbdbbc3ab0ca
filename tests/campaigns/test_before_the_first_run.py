"""Before a campaign's first run, its confirmations, its forecast and its audience say what the
rules already decide (campaigns/foresight.py): the promise is what the run then books."""

import datetime as dt
import re

import pytest
from freezegun import freeze_time

from campaigns import audience
from campaigns.models import Campaign, CampaignSend
from contacts.not_texted import Reason
from tests.campaigns.conftest import eastern, texts_went_out
from tests.campaigns.refusals import person
from tests.campaigns.test_why_not_texted import visible_text
from tests.factories import SHOP_NUMBER, CampaignFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2026, 12, 7, 10, 0)
TUESDAY = dt.date(2026, 12, 8)


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


def members_shown(page: str) -> dict[str, str]:
    """Each audience row's contact, with what its status, why-not and expected-day cells say."""
    table = re.search(r'<table id="members"[^>]*>(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr data-member=\"\d+\">(.*?)</tr>", table, re.S)
    shown = {}
    for row in rows:
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        shown[cells[0].split(" · ")[0]] = " | ".join(cells[2:5]).replace(" Preview", "")
    return shown


def test_a_scheduled_campaign_promises_no_text_the_rules_already_refuse_and_says_why(staff_client, openphone):
    texted = [person(f"+1617200700{n}", first_name=f"Texted{n}", city="Quincy") for n in range(3)]
    first = draft_of(*texted, name="First Outreach")
    with freeze_time(MONDAY_10):
        staff_client.post(f"/campaigns/{first.pk}/start")
    texts_went_out(CampaignSend.objects.filter(campaign=first), at=MONDAY_10)
    InboundMessageFactory(contact=texted[0], body="How much?")
    _fresh = [person(f"+1617200710{n}", first_name=f"Fresh{n}", city="Quincy") for n in range(4)]
    person("+18885550170", first_name="Todd", city="Quincy")
    winter = CampaignFactory(name="Winter Follow-up", from_number=SHOP_NUMBER, template_b="", frequency_cap_days=30)
    staff_client.post(f"/campaigns/{winter.pk}/audience", {"city": "Quincy"})
    schedule = {"date": "2026-12-08", "time": "09:00"}

    with freeze_time(MONDAY_10):
        confirm = staff_client.post(f"/campaigns/{winter.pk}/schedule", schedule).content.decode()
        staff_client.post(f"/campaigns/{winter.pk}/schedule", schedule | {"confirmed": "1"})
        page = staff_client.get(f"/campaigns/{winter.pk}/").content.decode()
        kept_out_filter = staff_client.get(f"/campaigns/{winter.pk}/", {"status": "ineligible"}).content.decode()
        capped_filter = staff_client.get(
            f"/campaigns/{winter.pk}/", {"because": "texted_by_another_campaign"}
        ).content.decode()

    assert "4 texts on Tuesday, Dec 8" in visible_text(confirm.encode())
    assert kept_out(confirm) == [(Reason.TOLL_FREE.value, "1"), (Reason.TEXTED_US_BEFORE.value, "1")]
    assert kept_out(confirm, "passed-over") == [(Reason.TEXTED_BY_ANOTHER_CAMPAIGN.value, "2")]
    winter.refresh_from_db()
    assert winter.status == Campaign.Status.SCHEDULED
    shown = members_shown(page)
    assert shown["Todd Example"].startswith("Kept out | Not a mobile number: toll-free")
    assert shown["Texted0 Example"].startswith("Kept out | Texted us before: this campaign skips them")
    assert shown["Texted1 Example"].startswith("Waiting | Waiting: texted by another campaign lately")
    assert "Tue Dec 8" not in shown["Texted1 Example"] and "Tue Dec 8" not in shown["Todd Example"]
    assert all(shown[f"Fresh{n} Example"] == "Waiting |  | Tue Dec 8" for n in range(4))
    assert set(members_shown(kept_out_filter)) == {"Todd Example", "Texted0 Example"}
    assert set(members_shown(capped_filter)) == {"Texted1 Example", "Texted2 Example"}
    assert 'data-reason="texted_us_before"' in re.search(r'id="held-because".*?</ul>', page, re.S).group(0)


def test_a_campaign_scheduled_for_tomorrow_shows_the_capacity_of_its_first_day(staff_client):
    active = draft_of(*[person(f"+1617200800{n}") for n in range(2)], name="First Outreach")
    with freeze_time(MONDAY_10):
        staff_client.post(f"/campaigns/{active.pk}/start")
    Campaign.objects.filter(pk=active.pk).update(daily_limit=56)
    audience.add_contacts_by_id(campaign=active, contact_ids=[person(f"+16172081{n:03d}").pk for n in range(140)])
    winter = draft_of(*[person(f"+1617200820{n}") for n in range(3)], name="Winter Follow-up")

    with freeze_time(MONDAY_10):
        staff_client.post(f"/campaigns/{winter.pk}/schedule", {"date": "2026-12-08", "time": "09:00", "confirmed": "1"})
        page = visible_text(staff_client.get(f"/campaigns/{winter.pk}/").content)

    assert "booked 2 of that number's 125 today" not in page
    assert (
        "On its first day, Tue Dec 8, other campaigns are expected to send 56 of that number's 125: "
        "69 left for this one." in page
    )


def test_only_the_head_of_a_long_queue_is_judged_ahead_and_the_pages_say_so(staff_client, monkeypatch):
    from campaigns import foresight

    monkeypatch.setattr(foresight, "HEAD", 3)  # the head's size, not a behaviour: a 501-member audience otherwise
    first = person("+18605550150", state="CT", zip_code="06103", city="Hartford", first_name="Early")
    fine = [person(f"+1617200610{n}", first_name=f"Fine{n}") for n in range(2)]
    later = person("+18605550151", state="CT", zip_code="06103", city="Hartford", first_name="Late")
    more = person("+16172006109", first_name="More")
    campaign = draft_of(first, *fine, later, more, name="Long Queue")

    with freeze_time(MONDAY_10):
        confirmation = visible_text(staff_client.get(f"/campaigns/{campaign.pk}/start").content)
        page = staff_client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert "1 member will not be texted, and why:" in confirmation  # Early, at the head; Late is not judged yet
    assert "4 texts on Monday, Dec 7" in confirmation  # Late's turn comes: the run judges them then
    assert (
        "of the first 3 members in line" in confirmation and "the other 2 are checked when their turn" in confirmation
    )
    assert "the other 2 are checked when their turn comes" in visible_text(page.encode())
    shown = members_shown(page)
    [early] = [row for name, row in shown.items() if name.startswith("Early")]
    [late] = [row for name, row in shown.items() if name.startswith("Late")]
    assert "Written consent" in early and "Written consent" not in late and "Waiting" in late


def test_a_large_audience_before_its_first_run_is_counted_about(staff_client, monkeypatch):
    """Past WAITING_COUNTED_UP_TO waiting members (and past the judged head) the start
    confirmation and the campaign page take the planner's estimate of those left to judge, and
    say "about"."""
    from django.db import connection
    from django.urls import reverse

    from campaigns import foresight
    from tests.campaigns.conftest import add_audience

    monkeypatch.setattr(foresight, "HEAD", 4)
    monkeypatch.setattr(foresight, "WAITING_COUNTED_UP_TO", 5)
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    add_audience(campaign, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaigncontact")

    with freeze_time(MONDAY_10):
        confirmation = visible_text(staff_client.get(reverse("campaigns:start", args=[campaign.pk])).content)
        page = visible_text(staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content)

    assert re.search(r"the other about [\d,]+ are checked when their turn comes", confirmation)
    assert re.search(r"the other about [\d,]+ are checked when their turn comes", page)
