"""The campaign pages in a real browser, at desktop and phone width: an A/B chart whose interval
lines never cross a label."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign
from tests.browser.conftest import SIZES, screenshot
from tests.campaigns.test_ab_results import sent_sends
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def last_monday_10() -> dt.datetime:
    """10:00 on a past Monday, so the verdict has a completed day of sends to look at."""
    zone = BusinessCalendar.from_settings().zone
    today = timezone.now().astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return dt.datetime.combine(monday, dt.time(10), tzinfo=zone)


CHART_BOXES = """() => {
  const svg = document.querySelector("section[aria-labelledby=ab] svg");
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, text: element.textContent};
  };
  return {
    chart: box(svg),
    texts: [...svg.querySelectorAll("text")].map(box),
    lines: [...svg.querySelectorAll("line")].map(box),
  };
}"""


def crosses(text: dict, line: dict, pad: float = 1.0) -> bool:
    """Whether the line (a thin box, padded by its stroke) and the text's box meet."""
    return (
        text["left"] < line["right"] + pad
        and line["left"] - pad < text["right"]
        and text["top"] < line["bottom"] + pad
        and line["top"] - pad < text["bottom"]
    )


@pytest.mark.parametrize(
    ("name", "a", "b"),
    [
        ("ab-chart-zero", (5, 0, 0), (5, 0, 0)),
        ("ab-chart-hundred", (4, 4, 4), (3, 3, 0)),
        ("ab-chart-wide", (2, 1, 0), (400, 4, 1)),
    ],
)
def test_no_interval_line_of_the_ab_chart_crosses_a_label(page: Page, staff_login, name, a, b):
    campaign = CampaignFactory(name="Chart", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    for variant, (sent, interested, opted_out) in (("A", a), ("B", b)):
        sent_sends(campaign, variant, sent, interested=interested, opted_out=opted_out, at=last_monday_10())
    page.goto(f"/campaigns/{campaign.pk}/")

    for size in SIZES.values():
        page.set_viewport_size(size)
        boxes = page.evaluate(CHART_BOXES)
        assert len(boxes["texts"]) == 8
        for text in boxes["texts"]:
            assert boxes["chart"]["left"] <= text["left"] and text["right"] <= boxes["chart"]["right"], text
            for line in boxes["lines"]:
                assert not crosses(text, line), f"at {size['width']} px an interval line crosses {text['text']!r}"
    page.locator("section[aria-labelledby=ab]").scroll_into_view_if_needed()
    screenshot(page, name)
