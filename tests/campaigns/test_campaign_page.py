"""The campaign pages show each campaign as it is: the A/B chart's interval lines never cross a
label."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from freezegun import freeze_time

from campaigns.models import Campaign
from tests.campaigns.conftest import eastern
from tests.campaigns.test_ab_results import sent_sends
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)
TUESDAY_9 = eastern(2024, 1, 16, 9, 0)


def detail(client, campaign: Campaign, query: str = "") -> str:
    return client.get(reverse("campaigns:detail", args=[campaign.pk]) + query).content.decode()


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
