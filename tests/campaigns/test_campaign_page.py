"""The campaign pages show each campaign as it is: a closed one shows what it sent and what it
never sent, and offers nothing to edit; the list's numbers are the campaign page's own; the A/B
chart's interval lines never cross a label."""

import html
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns import services, writing
from campaigns.models import Campaign, CampaignContact, CampaignSend
from messaging.models import Message
from tests.campaigns.conftest import add_audience, eastern, texts_went_out
from tests.campaigns.test_ab_results import sent_sends
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignFactory,
    CampaignSendFactory,
    ContactFactory,
    PropertyContactFactory,
    PropertyFactory,
)

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)
TUESDAY_9 = eastern(2024, 1, 16, 9, 0)
CLOSED = [Campaign.Status.COMPLETED, Campaign.Status.CANCELLED]


def detail(client, campaign: Campaign, query: str = "") -> str:
    return client.get(reverse("campaigns:detail", args=[campaign.pk]) + query).content.decode()


def shown(page: str, element_id: str) -> str | None:
    """The text of the element with this id (tags inside it dropped), or None when there is none."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:span|p|strong|div)>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else None


def figure_labels(page: str) -> list[str]:
    progress = re.search(r'<div class="figures" id="progress">(.*?)</div>\s*<progress', page, re.S).group(1)
    return re.findall(r'<span class="label">([^<]*)</span>', progress)


# --- Closed campaigns -----------------------------------------------------------------------


def test_a_cancelled_campaign_shows_what_it_sent_and_what_the_cancel_left_unsent(admin_client):
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    add_audience(campaign, 200, zip_code="02169")
    with freeze_time(MONDAY_10):
        services.start_campaign(campaign=campaign, now=MONDAY_10)
    went = CampaignSend.objects.filter(campaign=campaign).order_by("scheduled_for")[:40]
    texts_went_out(CampaignSend.objects.filter(pk__in=[send.pk for send in went]), MONDAY_10)
    CampaignContact.objects.filter(campaign=campaign, contact__in=[send.contact_id for send in went]).update(
        status=CampaignContact.Status.SENT
    )
    flagged = CampaignContact.objects.filter(campaign=campaign, status=CampaignContact.Status.PENDING).first()
    CampaignContact.objects.filter(pk=flagged.pk).update(
        status=CampaignContact.Status.FLAGGED,
        held_because="review_texted_us_before",
        ineligible_reason="Has texted us before: review before texting",
    )

    with freeze_time(eastern(2024, 1, 15, 12, 0)):
        admin_client.post(reverse("campaigns:cancel", args=[campaign.pk]))
        page = detail(admin_client, campaign)
        never_sent = detail(admin_client, campaign, "?status=never_sent")

    assert figure_labels(page) == ["Sent", "Delivered", "Failed", "Never sent: cancelled"]
    assert (shown(page, "sent"), shown(page, "never-sent")) == ("40", "160")  # 85 booked + 74 waiting + 1 in review
    assert shown(page, "never-sent-why") == (
        "Never sent because the campaign was cancelled: 85 booked texts stopped before they went · 74 still "
        "waiting their turn · 1 awaiting a review. Who they are"
    )
    assert "members of its audience were never texted because of it" in page and ">Waiting<" not in page
    assert "Edit texts and settings" not in page and "Up to" not in page  # nothing to edit, nothing more a day
    assert "Approve the text" not in never_sent
    assert never_sent.count("Never sent (campaign cancelled)</span>") == 50  # a page of them, named so
    assert "Nothing more goes out: the campaign is cancelled." in page


def test_a_completed_campaign_shows_what_it_sent_and_nothing_waiting(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED, template_b="Hi {name}, B here")
    for status, delivered_at in [("delivered", MONDAY_10), ("delivered", MONDAY_10), ("sent", None)]:
        CampaignSendFactory(
            campaign=campaign, status=status, scheduled_for=MONDAY_10, sent_at=MONDAY_10, delivered_at=delivered_at
        )
    CampaignSendFactory(
        campaign=campaign, status=Message.Status.FAILED, scheduled_for=MONDAY_10, error="Carrier rejected", attempts=1
    )

    with freeze_time(TUESDAY_9):
        page = detail(admin_client, campaign)

    assert figure_labels(page) == ["Sent", "Delivered", "Failed"]
    assert (shown(page, "sent"), shown(page, "delivered"), shown(page, "failed")) == ("3", "2", "1")
    assert "Completed: nobody is left to text." in page
    assert shown(page, "verdict") == (
        "The campaign was completed before the test reached a verdict (day 1 of 10): neither text won."
    )
    assert "Edit texts and settings" not in page and "Up to" not in page and ">Waiting<" not in page


@pytest.mark.parametrize("status", CLOSED)
def test_the_edit_page_of_a_closed_campaign_offers_nothing_to_edit(admin_client, status):
    campaign = CampaignFactory(status=status, name="Spring")
    url = reverse("campaigns:edit", args=[campaign.pk])

    shown_page = admin_client.get(url, follow=True).content.decode()
    admin_client.post(url, {"name": "Renamed", "template_a": "Hi {first_name}"})

    assert f"A {status} campaign sends nothing more: it has nothing to edit." in shown_page
    assert 'name="template_a"' not in shown_page
    campaign.refresh_from_db()
    assert campaign.name == "Spring"


# --- The list and the campaign page ----------------------------------------------------------


def list_rows(page: str) -> dict[int, dict[str, str]]:
    rows = re.findall(r'<tr data-campaign="(\d+)">(.*?)</tr>', page, re.S)
    return {
        int(pk): {
            name: re.sub(r"<[^>]+>", "", re.search(rf'class="[^"]*\b{name}\b[^"]*">(.*?)</td>', row, re.S).group(1))
            .strip()
            .removeprefix("Up to ")
            for name in ("sent", "audience", "per-day")
        }
        for pk, row in rows
    }


def test_every_number_on_the_list_is_the_campaign_pages_own(admin_client, settings):
    settings.SMS_DAILY_LIMIT_PER_NUMBER = 125
    over_the_number = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=500)
    sent_sends(over_the_number, "A", 4, at=MONDAY_10)
    CampaignContactFactory.create_batch(3, campaign=over_the_number)
    under = CampaignFactory(from_number=SHOP_NUMBER, daily_limit=60)
    CampaignContactFactory.create_batch(2, campaign=under)
    cancelled = CampaignFactory(status=Campaign.Status.CANCELLED, from_number=SHOP_NUMBER, daily_limit=500)
    sent_sends(cancelled, "B", 2, at=MONDAY_10)

    with freeze_time(TUESDAY_9):
        rows = list_rows(admin_client.get(reverse("campaigns:list")).content.decode())
        pages = {campaign.pk: detail(admin_client, campaign) for campaign in (over_the_number, under, cancelled)}

    for pk, page in pages.items():
        limit = re.search(r'<p id="daily-limit">Up to <strong class="num">([\d,]+)</strong>', page)
        on_page = {"sent": shown(page, "sent"), "audience": shown(page, "audience"), "per-day": limit and limit[1]}
        assert rows[pk] == {**on_page, "per-day": on_page["per-day"] or "–"}, pk
    assert rows[over_the_number.pk]["per-day"] == "125"  # the number's limit caps its own 500
    assert rows[under.pk]["per-day"] == "60"
    assert rows[cancelled.pk]["per-day"] == "–"  # it sends nothing more


# --- The A/B chart ---------------------------------------------------------------------------

FONT = 12  # px, in the SVG's own units (app.css: svg text)
EM_PER_CHARACTER = 0.65  # wider than system fonts' average, digits and capitals included


def boxes(svg: ET.Element) -> tuple[list[tuple], list[tuple]]:
    """The chart's text boxes and line boxes as (left, top, right, bottom), in the SVG's units."""
    texts, lines = [], []
    for element in svg.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "text":
            x, y, width = float(element.get("x")), float(element.get("y")), len(element.text) * FONT * EM_PER_CHARACTER
            left = x - width if element.get("text-anchor") == "end" else x
            texts.append((left, y - 0.8 * FONT, left + width, y + 0.25 * FONT, element.text))
        elif tag == "line":
            x1, x2, y1, y2 = (float(element.get(name)) for name in ("x1", "x2", "y1", "y2"))
            lines.append((min(x1, x2) - 1, min(y1, y2) - 1, max(x1, x2) + 1, max(y1, y2) + 1))
    return texts, lines


def overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((5, 0, 0), (5, 0, 0)),  # 0% everywhere: intervals from 0 up to ~43%
        ((4, 4, 4), (3, 3, 0)),  # 100%
        ((2, 1, 0), (400, 4, 1)),  # one wide interval beside narrow ones
        ((63, 1, 0), (62, 16, 2)),  # a clear winner
    ],
)
def test_no_interval_line_of_the_ab_chart_crosses_a_label(admin_client, a, b):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    for variant, (sent, interested, opted_out) in (("A", a), ("B", b)):
        sent_sends(campaign, variant, sent, interested=interested, opted_out=opted_out, at=MONDAY_10)

    with freeze_time(TUESDAY_9):
        page = detail(admin_client, campaign)

    svg = ET.fromstring(re.search(r'<svg role="img".*?</svg>', page, re.S).group(0))
    width = float(svg.get("viewBox").split()[2])
    texts, lines = boxes(svg)
    assert len(texts) == 8 and len(lines) >= 4
    for text in texts:
        assert text[0] >= 0 and text[2] <= width, f"{text[4]!r} runs out of the chart"
        for line in lines:
            assert not overlaps(text, line), f"an interval line crosses {text[4]!r}"
        for other in texts:
            assert other is text or not overlaps(text, other), f"{text[4]!r} overlaps {other[4]!r}"


def test_a_campaign_of_one_text_shows_its_results_without_an_empty_b_or_a_verdict(admin_client):
    campaign = CampaignFactory(from_number=SHOP_NUMBER, template_b="")
    sent_sends(campaign, "A", 5, interested=1, at=MONDAY_10)

    page = detail(admin_client, campaign)

    assert '<h2 id="ab">Results</h2>' in page
    assert "A Interested" in page and "B Interested" not in page
    assert shown(page, "verdict") is None
    two_texts = CampaignFactory(from_number=SHOP_NUMBER, template_b="Hi {name}, B here")
    sent_sends(two_texts, "A", 5, interested=1, at=MONDAY_10)
    page = detail(admin_client, two_texts)
    assert '<h2 id="ab">A/B results</h2>' in page and "B Interested" in page and shown(page, "verdict")


# --- What members read ----------------------------------------------------------------------


def member_of(
    campaign: Campaign, variant: str, first_name: str, year_built: int | None, phone: str = "", **fields
) -> CampaignContact:
    contact = ContactFactory(first_name=first_name, **({"phone": phone} if phone else {}))
    home = PropertyContactFactory(contact=contact, property=PropertyFactory(year_built=year_built))
    return CampaignContactFactory(campaign=campaign, contact=home.contact, variant=variant, **fields)


def missing_value_warnings(page: str) -> dict[tuple[str, str], str]:
    found = re.findall(
        r'class="alert warning missing-value" data-variant="(\w)" data-token="(\w+)">(.*?)</div>', page, re.S
    )
    return {(variant, token): html.unescape(re.sub(r"<[^>]+>", "", text)) for variant, token, text in found}


def test_each_missing_value_warning_is_of_one_text_and_shows_what_its_member_reads(admin_client):
    campaign = CampaignFactory(
        template_a="Hi {name}, we fix foundation cracks in {city}.",
        template_b="Hi {first_name}! Homes built in {year_built} often show foundation cracks by now.",
    )
    member_of(campaign, "A", "Mary", None)  # text A has no {year_built}: nothing missing for her
    nameless = member_of(campaign, "A", "", 1954)
    sean = member_of(campaign, "B", "Sean", None)
    member_of(campaign, "B", "Joe", 1931)
    member_of(campaign, "B", "Tess", None, phone="+18885550198")  # toll-free: the first run will keep her out
    member_of(
        campaign,
        "B",
        "Ann",
        None,
        status=CampaignContact.Status.INELIGIBLE,
        held_because="opted_out",
        ineligible_reason="Opted out",
    )

    warnings = missing_value_warnings(detail(admin_client, campaign))

    assert set(warnings) == {("A", "name"), ("B", "year_built")}  # Ann and Tess are never texted: they read nothing
    nameless_reads = writing.campaign_text(campaign=campaign, contact=nameless.contact, variant="A")
    assert nameless_reads.startswith("Hi there, we fix foundation cracks in Quincy.")
    assert warnings["A", "name"] == (
        f"Text A: 1 member has no value for {{name}}: they read “there” instead. One of them gets: “{nameless_reads}”"
    )
    sean_reads = writing.campaign_text(campaign=campaign, contact=sean.contact, variant="B")
    assert sean_reads.startswith("Hi Sean! Homes built in often show foundation cracks by now.")
    assert warnings["B", "year_built"] == (
        f"Text B: 1 member has no value for {{year_built}}: it is left out of the sentence. One of them gets: "
        f"“{sean_reads}” If that does not read well, give the token words of its own to use instead, as in "
        "{year_built|…}, or reword the text."
    )


def test_each_texts_segments_are_counted_for_the_members_it_goes_to(admin_client):
    campaign = CampaignFactory(
        include_opt_out_footer=False, template_a="Hi {name}, cracks?", template_b="Hi {name}, " + "cracks? " * 25
    )
    for n in range(6):
        member_of(campaign, "A", f"A{n}", 1954)
    for n in range(4):
        member_of(campaign, "B", f"B{n}", 1954)
    member_of(campaign, "B", "Tess", 1954, phone="+18885550198")  # toll-free: the first run will keep her out
    member_of(
        campaign,
        "A",
        "Kept",
        1954,
        status=CampaignContact.Status.INELIGIBLE,
        held_because="landline",
        ineligible_reason="A landline",
    )

    page = detail(admin_client, campaign)

    estimates = dict(re.findall(r'data-variant="(\w)">.*?class="segments-for-readers">([^<]*)</span>', page, re.S))
    assert estimates == {
        "A": " · 6 segments ($0.06) for the 6 members who get text A",
        "B": " · 8 segments ($0.08) for the 4 members who get text B",  # 2 segments each
    }
    assert "whole audience" not in page
