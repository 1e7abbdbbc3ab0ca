"""What a campaign's texts cost, counted in the database: each member's text costs what it costs
when it is written for them, whatever their values hold (accents, emoji, blanks, unusual spaces,
long addresses), with and without the footer; and what makes some cost more is said."""

import collections
import html as html_module
import re
import sys

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import costs, writing
from campaigns.audience import add_contacts_by_id
from campaigns.models import Campaign
from contacts.models import Contact
from messaging.segments import sms_cost
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignFactory,
    ContactFactory,
    MessageFactory,
    PropertyContactFactory,
)

pytestmark = pytest.mark.django_db

# Values as imports bring them: plain, accented inside and outside GSM-7, emoji (two UTF-16 units),
# GSM-7 extension characters (two septets), blanks, unusual spaces a strip removes, long ones.
NAMES = ["Pat", "Zoë", "Łukasz", "José", "  ", "", "O’Brien", "😀Joy", "Ann^[x]", "\u00a0Ann\u3000", "B" * 60, "€va"]
CITIES = ["", "Quincy", "Saint-Étienne", "Kraków", " ", "Milton"]
ADDRESSES = ["", "12 Elm St", "4 Ｍain St", "1 {Long} Road " * 6]


def text_of(html: str, element_id: str | None = None) -> str:
    """What a reader sees of the page (or of the element with this id): tags dropped, spaces joined."""
    if element_id is not None:
        html = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', html, re.S).group(1)
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip())


def audience(campaign: Campaign, size: int) -> None:
    """Members with every kind of value, some with a home that fills in what the contact lacks,
    some already texted (no footer)."""
    for n in range(size):
        contact = ContactFactory(
            first_name=NAMES[n % len(NAMES)],
            city=CITIES[n % len(CITIES)],
            address=ADDRESSES[n % len(ADDRESSES)],
        )
        if n % 3:
            home_city, year = CITIES[(n + 1) % len(CITIES)], [1954, 0, None][n % 3]
            PropertyContactFactory(contact=contact, property__city=home_city, property__year_built=year)
        if n % 4 == 0:
            MessageFactory(contact=contact)
        CampaignContactFactory(campaign=campaign, contact=contact, variant="AB"[n % 2])


def each_member_written(campaign: Campaign) -> dict[str, collections.Counter]:
    """The reference: every member's own text written as it will go, and its segments counted."""
    counted: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for member in writing.text_readers(campaign).select_related("contact"):
        text = writing.campaign_text(campaign=campaign, contact=member.contact, variant=member.reads)
        counted[member.reads][sms_cost(text).segments] += 1
    return counted


@pytest.mark.parametrize("footer", [True, False])
def test_each_members_text_costs_what_it_costs_when_written_for_them(footer):
    campaign = CampaignFactory(
        include_opt_out_footer=footer,
        template_a="Hi {name}, is your {year_built} home in {city} dry? We are near {address}.",
        template_b="Hello {first_name|neighbour} {last_name}, {city|your town}: {name}, cracks? " + "Free look. " * 4,
    )
    audience(campaign, 72)

    found = costs.text_costs(campaign, writing.text_readers(campaign))

    expected = each_member_written(campaign)
    assert {cost.variant: cost.by_segments for cost in found} == {
        variant: dict(sorted(counted.items())) for variant, counted in expected.items()
    }
    for cost in found:
        assert cost.segments == sum(segments * n for segments, n in expected[cost.variant].items())
        assert cost.members == sum(expected[cost.variant].values())


def test_the_database_counts_as_python_does():
    campaign = CampaignFactory(
        template_a="{name} {name} {city} {address} {last_name} {year_built}", template_b="Hi {first_name} {city}"
    )
    audience(campaign, 48)
    templates = {"A": campaign.template_a, "B": campaign.template_b}
    uses = {variant: costs.counting.token_uses(template) for variant, template in templates.items()}
    tokens = sorted({token for used in uses.values() for token in used})
    rows = costs.counting._with_values(writing.text_readers(campaign), tokens, footer=True)

    def without_examples(groups):
        return sorted(
            (g.variant, g.first_text, sorted(g.empty), sorted(g.not_plain), g.septets, g.ucs2_units, g.members)
            for g in groups
        )

    in_sql = costs.counting._grouped_in_sql(rows, uses)
    in_python = costs.counting._grouped_in_python(rows, uses)

    assert without_examples(in_sql) == without_examples(in_python)
    assert len(in_sql) < 48  # members with values of the same cost share a group


def test_every_character_a_strip_removes_is_stripped_in_the_database_too():
    assert set(costs.counting.WHITESPACE) == {char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace()}


# --- What the pages and the API say ---------------------------------------------------------

# 81 characters with the footer: one GSM-7 segment, two UCS-2 ones.
TEXT_A = "Hi {name}, free foundation check this week? Reply YES for a time."
TEXT_B = "Hi {name} 🏠 free foundation check this week? Reply YES for a time."


@pytest.fixture
def draft(settings):
    """A draft A/B campaign: eight members named Pat, one Zoë (outside GSM-7) in text A, one
    opted out (kept out: not counted)."""
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    campaign = CampaignFactory(template_a=TEXT_A, template_b=TEXT_B, from_number=SHOP_NUMBER)
    for n, name in enumerate(["Pat"] * 8 + ["Zoë"]):
        CampaignContactFactory(campaign=campaign, contact=ContactFactory(first_name=name), variant="AB"[n % 2])
    opted_out = ContactFactory(first_name="Olga", opted_out_at=timezone.now(), opt_out_reason="STOP")
    CampaignContactFactory(campaign=campaign, contact=opted_out, variant="A")
    return campaign


def test_the_launch_confirmation_says_what_the_texts_will_cost_and_what_costs_more(staff_client, draft):
    page = staff_client.get(reverse("campaigns:start", args=[draft.pk])).content.decode()

    # A: four Pats at 1 segment, Zoë at 2 (UCS-2); B: four Pats at 2 (the emoji): 14 segments.
    assert text_of(page, "cost") == (
        "These texts will cost $0.14: 14 segments at $0.01 a segment, each member's text counted with their "
        "own name, city and address."
    )
    assert [text_of(item) for item in re.findall(r'<li data-variant="\w">.*?</li>', page)] == [
        "Text A: 5 texts, 4 of 1 segment and 1 of 2 segments: $0.06",
        "Text B: 4 texts, 4 of 2 segments: $0.08",
    ]
    assert [text_of(flag) for flag in re.findall(r'<p class="alert warning cost-flag".*?</p>', page)] == [
        "Text A: 1 member's first name (Zoë) makes their text UCS-2: 2 segments instead of 1, +$0.01.",
        "Text B: the emoji 🏠 makes every text UCS-2: 2 segments instead of 1, +$0.04 for this campaign.",
    ]


def test_the_campaign_page_flags_what_costs_more_with_its_cost(staff_client, draft):
    page = staff_client.get(reverse("campaigns:detail", args=[draft.pk])).content.decode()

    flags = [text_of(flag) for flag in re.findall(r'<div class="alert warning cost-flag".*?</div>', page)]
    assert flags == [
        "Text A: 1 member's first name (Zoë) makes their text UCS-2: 2 segments instead of 1, +$0.01.",
        "Text B: the emoji 🏠 makes every text UCS-2: 2 segments instead of 1, +$0.04 for this campaign.",
    ]
    assert " · 8 segments ($0.08) for the 4 members who get text B" in text_of(page)


def test_the_preview_api_says_what_the_texts_to_come_will_cost(api_client, draft):
    body = api_client.get(f"/api/campaigns/{draft.pk}/preview").json()

    cost = body["cost"]
    assert (cost["members"], cost["segments"], cost["dollars"], cost["estimated"]) == (9, 14, "0.14", False)
    assert [(text["variant"], text["by_segments"]) for text in cost["texts"]] == [
        ("A", [{"segments": 1, "members": 4}, {"segments": 2, "members": 1}]),
        ("B", [{"segments": 2, "members": 4}]),
    ]
    assert [
        (flag["cause"], flag["members"], flag["extra_segments"], flag["extra_dollars"]) for flag in cost["flags"]
    ] == [
        ("name", 1, 1, "0.01"),
        ("template", 4, 4, "0.04"),
    ]


def test_a_closed_campaign_has_no_texts_to_come(api_client, draft):
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.CANCELLED)

    assert api_client.get(f"/api/campaigns/{draft.pk}/preview").json()["cost"] is None


def test_long_values_that_take_a_text_to_another_segment_are_flagged():
    campaign = CampaignFactory(template_a="Hi {name}, " + "we fix foundation cracks fast. " * 4, template_b="")
    for name in ["Pat", "Ann", "Bo", "Maximiliano Alessandro Bartholomew"]:
        CampaignContactFactory(campaign=campaign, contact=ContactFactory(first_name=name))

    [cost] = costs.text_costs(campaign, writing.text_readers(campaign))

    assert cost.by_segments == {1: 3, 2: 1}
    assert [flag.message for flag in cost.flags] == [
        "Text A: 1 member's longer first name makes their text 2 segments instead of 1, +$0.01."
    ]


def test_a_large_rest_is_estimated_from_a_sample_and_the_head_counted_each(monkeypatch):
    monkeypatch.setattr(costs.estimates, "SAMPLE", 10)
    campaign = CampaignFactory(template_a=TEXT_A, template_b="")
    head = [CampaignContactFactory(campaign=campaign, contact=ContactFactory(first_name="Zoë")) for _ in range(3)]
    # The footer goes on everyone's first text: Zoë's are 81 UCS-2 units, two segments.
    for _ in range(60):
        CampaignContactFactory(campaign=campaign, contact=ContactFactory(first_name="Pat"))
    members = writing.text_readers(campaign)

    [cost] = costs.text_costs(campaign, members, head=frozenset(m.pk for m in head), rest=60)

    # The sample's Pats all cost one segment: scaled up, the rest is exactly theirs.
    assert cost.estimated
    assert cost.by_segments == {1: 60, 2: 3}
    [flag] = cost.flags
    assert not flag.estimated and flag.message.startswith("Text A: 3 members' first names (Zoë)")


def test_the_sample_is_spread_along_the_queue_whatever_the_ids_pattern(monkeypatch):
    monkeypatch.setattr(costs.estimates, "SAMPLE", 200)
    campaign = CampaignFactory(template_a=TEXT_A, template_b="")
    # Every fifth member is a Zoë: a draw by id modulo 5 would find all of them or none; stretches
    # of the queue read their members in a row, a Zoë in every five.
    first = Contact.objects.count()
    contacts = Contact.objects.bulk_create(
        Contact(phone=f"+1617{4000000 + first + n:07d}", first_name="Zoë" if n % 5 == 0 else "Pat")
        for n in range(1_000)
    )
    add_contacts_by_id(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
    drawn = []

    def counted(members, templates, *, footer):
        groups = costs.counting.readers(members, templates, footer=footer)
        drawn.append(collections.Counter({bool(g.not_plain): g.members for g in groups}))
        return groups

    monkeypatch.setattr(costs.estimates, "readers", counted)

    [cost] = costs.text_costs(campaign, writing.text_readers(campaign), rest=1_000)

    sample = drawn[0]  # then the head's (none here)
    assert 150 <= sample.total() <= 250  # a draw of about 200
    assert 0.12 <= sample[True] / sample.total() <= 0.28  # about one in five a Zoë, as in the audience
    assert cost.estimated and all(flag.estimated for flag in cost.flags)
    assert 950 <= cost.members <= 1_050  # scaled to the 1,000
