"""Marketing texts to numbers nothing checked against a Do-Not-Call list: no rule stops them (only a
copy over 31 days old does), so Today and the start confirmation say so in plain words."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns.models import Campaign, CampaignContact
from contacts import dnc
from contacts.models import ConsentBasis
from tests.campaigns.conftest import eastern
from tests.factories import SHOP_NUMBER, CampaignContactFactory, CampaignFactory, ContactFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2026, 12, 7, 10, 0)
UNCHECKED = "no copy of the National Do-Not-Call Registry is loaded"


def members(campaign: Campaign, *phones: str, **contact) -> None:
    for phone in phones:
        CampaignContactFactory(
            campaign=campaign, contact=ContactFactory(phone=phone, **contact), status=CampaignContact.Status.PENDING
        )


def alerts(page: str) -> list[str]:
    return [part.split("</div>")[0] for part in page.split('role="alert">')[1:]]


def test_today_warns_of_a_marketing_campaign_texting_numbers_nothing_checked(owner_pages):
    running = CampaignFactory(name="Spring Promo", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    members(running, "+17815550101", "+17815550102", "+16175550103", "+15085550104")
    members(
        running,
        "+17815550105",
        consent_basis=ConsentBasis.EXPRESS_WRITTEN,
        consent_at=MONDAY_10 - dt.timedelta(days=3),
        consent_source="web form",
        consent_wording="Yes, text me offers",
    )
    scheduled = CampaignFactory(name="Winter Follow-up", status=Campaign.Status.SCHEDULED, starts_at=MONDAY_10)
    members(scheduled, "+17815550106")
    # Neither an informational campaign (it texts customers only) nor a draft texts anyone yet.
    members(CampaignFactory(status=Campaign.Status.ACTIVE, purpose=Campaign.Purpose.INFORMATIONAL), "+17815550107")
    members(CampaignFactory(name="Draft Promo"), "+17815550108")
    with freeze_time(MONDAY_10):
        dnc.load_list(io.BytesIO(b"617,5550999\n"), list_name="national", as_of=dt.date(2026, 12, 1))
        page = owner_pages.get(reverse("dashboard")).content.decode()

    warned = [alert for alert in alerts(page) if UNCHECKED in alert]
    assert len(warned) == 2
    spring, winter = warned
    assert "Campaign &#x27;Spring Promo&#x27; (active) is to text 3 people with no consent" in spring
    assert "in area codes 508, 781, for which " + UNCHECKED + ": nothing has checked their numbers" in spring
    assert "Campaign &#x27;Winter Follow-up&#x27; (scheduled) is to text 1 person" in winter
    assert "in area code 781, for which" in winter
    assert f'href="{reverse("contacts:dnc-lists")}"' in spring
    assert "Draft Promo" not in page


def test_today_says_nothing_once_the_registry_covers_every_area_code(owner_pages):
    running = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    members(running, "+17815550101", "+16175550103")
    with freeze_time(MONDAY_10):
        dnc.load_list(io.BytesIO(b"617,5550999\n781,5550998\n"), list_name="national", as_of=dt.date(2026, 12, 1))
        page = owner_pages.get(reverse("dashboard")).content.decode()

    assert UNCHECKED not in page


def test_the_start_confirmation_says_nothing_checked_the_numbers(owner_pages):
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    members(campaign, "+17815550101", "+17815550102", "+16175550103")

    with freeze_time(MONDAY_10):
        page = owner_pages.get(reverse("campaigns:start", args=[campaign.pk])).content.decode()

    assert "3 of these texts go to people with no consent on record: cold outreach.</p>" in page
    assert "allowed only because no Do-Not-Call list holds their numbers" not in page
    assert (
        "No copy of the National Do-Not-Call Registry is loaded for area codes 617, 781: nothing has checked the "
        "numbers of the 3 members there with no consent or business relationship on record." in page
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_the_start_confirmation_keeps_its_words_when_the_registry_was_checked(owner_pages):
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    members(campaign, "+17815550101", "+17815550102")

    with freeze_time(MONDAY_10):
        dnc.load_list(io.BytesIO(b"781,5550999\n"), list_name="national", as_of=dt.date(2026, 12, 1))
        page = owner_pages.get(reverse("campaigns:start", args=[campaign.pk])).content.decode()

    assert "2 of these texts go to people with no consent on record: cold outreach, allowed only because no " in page
    assert "No copy of the National Do-Not-Call Registry" not in page


def test_a_large_audience_is_read_only_so_far_and_the_warnings_say_more_than(owner_pages, monkeypatch):
    """Past ``UNCHECKED_READ_UP_TO`` members a campaign's read stops: Today and the start
    confirmation say "more than" and that other area codes may follow."""
    from campaigns.compliance import lawful

    monkeypatch.setattr(lawful, "UNCHECKED_READ_UP_TO", 2)
    running = CampaignFactory(name="Spring Promo", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    members(running, "+17815550101", "+17815550102", "+17815550103")
    small = CampaignFactory(name="Small Promo", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    members(small, "+17815550104")
    draft = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    members(draft, "+17815550105", "+17815550106", "+17815550107")

    with freeze_time(MONDAY_10):
        today = owner_pages.get(reverse("dashboard")).content.decode()
        confirmation = owner_pages.get(reverse("campaigns:start", args=[draft.pk])).content.decode()

    spring, small_one = [alert for alert in alerts(today) if UNCHECKED in alert]
    assert "is to text more than 2 people with no consent" in spring
    assert "in area code 781 (and perhaps others), for which" in spring
    assert "is to text 1 person with no consent" in small_one and "perhaps" not in small_one
    assert (
        "loaded for area code 781 (and perhaps others): nothing has checked the numbers of the more than 2 members"
        in (confirmation)
    )
