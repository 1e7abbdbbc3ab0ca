"""The campaign pages in a real browser, at desktop and phone width: the winner asked for and then
shown as it is, cancelled and completed campaigns as they ended, the list's numbers equal to the
campaign pages', and an A/B chart whose interval lines never cross a label."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact
from messaging.models import Message
from tests.browser.conftest import SIZES, screenshot
from tests.campaigns.test_ab_results import sent_sends
from tests.factories import SHOP_NUMBER, CampaignContactFactory, CampaignFactory, CampaignSendFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def last_monday_10() -> dt.datetime:
    """10:00 on a past Monday, so the verdict has a completed day of sends to look at."""
    zone = BusinessCalendar.from_settings().zone
    today = timezone.now().astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return dt.datetime.combine(monday, dt.time(10), tzinfo=zone)


def texted(campaign: Campaign, variant: str, count: int, **counts) -> None:
    """``count`` members of the campaign whose text of ``variant`` went last Monday (see sent_sends)."""
    sent_sends(campaign, variant, count, at=last_monday_10(), **counts)
    Message.objects.filter(campaign=campaign, status=Message.Status.DELIVERED).update(delivered_at=last_monday_10())
    for send in campaign.sends.filter(variant=variant).exclude(contact__campaign_memberships__campaign=campaign):
        CampaignContactFactory(
            campaign=campaign, contact=send.contact, variant=variant, status=CampaignContact.Status.SENT
        )


def test_the_winner_is_asked_for_then_the_page_shows_one_text_and_who_gets_it(page: Page, staff_login):
    campaign = CampaignFactory(
        name="Spring A/B", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER,
        template_a="Hi {first_name}, A here", template_b="Hello {first_name}, B here",
    )  # fmt: skip
    texted(campaign, "A", 63, interested=1)
    texted(campaign, "B", 62, interested=16)
    waiting = [CampaignContactFactory(campaign=campaign, variant=variant) for variant in "AAB"]
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator("#progress-title ~ p.muted").last).to_contain_text("Split: 50% get text A")

    page.click("#send-the-rest")
    expect(page.locator("h1")).to_have_text(f"Send the rest of “{campaign.name}” text B?")
    expect(page.locator("#winner-waiting")).to_have_text(
        "The 3 members still waiting get text B (2 of them were to get the other text)."
    )
    expect(page.locator("main")).to_contain_text("This is final")
    screenshot(page, "winner-confirm")
    campaign.refresh_from_db()
    assert campaign.winner == ""  # nothing happens before the confirmation
    page.click("#confirm-winner")

    expect(page.locator(".alert.success").first).to_contain_text("The rest of the audience gets variant B")
    campaign.refresh_from_db()
    assert campaign.winner == "B"
    expect(page.locator("#winner-line")).to_contain_text("Text B won (declared")
    expect(page.locator("main")).not_to_contain_text("Split:")
    expect(page.locator(".preview-row")).to_have_count(1)
    expect(page.locator(".preview-row h3")).to_have_text("Text B")
    page.select_option("select[name=status]", "pending")
    page.click("button:has-text('Show')")
    expect(page.locator("#members tbody tr")).to_have_count(3)
    for member in waiting:
        expect(page.locator(f"tr[data-member='{member.pk}'] .member-text")).to_have_text("B")
    screenshot(page, "winner-declared")


def test_a_cancelled_campaign_shows_what_it_sent_and_what_it_never_sent(page: Page, staff_login):
    campaign = CampaignFactory(name="Summer", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="")
    texted(campaign, "A", 12, delivered=9)
    booked = CampaignContactFactory(campaign=campaign, status=CampaignContact.Status.SCHEDULED)
    CampaignSendFactory(campaign=campaign, contact=booked.contact, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    CampaignContactFactory.create_batch(4, campaign=campaign)
    page.goto(f"/campaigns/{campaign.pk}/")
    page.click("#cancel-campaign")
    page.click("#confirm-cancel")

    expect(page.locator("#campaign-status")).to_have_text("Cancelled")
    expect(page.locator("#sent")).to_have_text("12")
    expect(page.locator("#delivered")).to_have_text("9")
    expect(page.locator("#never-sent")).to_have_text("5")
    expect(page.locator("#never-sent-why")).to_contain_text(
        "1 booked text stopped before it went · 4 still waiting their turn"
    )
    expect(page.locator("#progress")).not_to_contain_text("Waiting")
    expect(page.get_by_text("Edit texts and settings")).to_have_count(0)
    expect(page.locator("#daily-limit")).to_have_count(0)
    screenshot(page, "campaign-cancelled")

    page.click("#never-sent-why a")
    expect(page.locator("#members tbody tr")).to_have_count(5)
    expect(page.locator("#members")).not_to_contain_text("Waiting")
    screenshot(page, "campaign-cancelled-never-sent")


def test_a_completed_campaign_shows_what_it_sent_and_offers_nothing_to_edit(page: Page, staff_login):
    campaign = CampaignFactory(name="Winter", status=Campaign.Status.COMPLETED, from_number=SHOP_NUMBER)
    texted(campaign, "A", 5, delivered=5)
    texted(campaign, "B", 4, delivered=3)
    page.goto(f"/campaigns/{campaign.pk}/")

    expect(page.locator("#closed-notice")).to_contain_text("Completed: nobody is left to text.")
    expect(page.locator("#sent")).to_have_text("9")
    expect(page.locator("#progress")).not_to_contain_text("Waiting")
    expect(page.get_by_text("Edit texts and settings")).to_have_count(0)
    screenshot(page, "campaign-completed")


def test_the_list_shows_the_campaign_pages_numbers(page: Page, staff_login, settings):
    settings.SMS_DAILY_LIMIT_PER_NUMBER = 125
    big = CampaignFactory(name="Big limit", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=500)
    texted(big, "A", 3)
    CampaignContactFactory.create_batch(2, campaign=big)
    cancelled = CampaignFactory(name="Stopped", status=Campaign.Status.CANCELLED, from_number=SHOP_NUMBER)
    texted(cancelled, "B", 2)
    page.goto("/campaigns/")
    screenshot(page, "campaign-list")

    for campaign in (big, cancelled):
        row = page.locator(f"tr[data-campaign='{campaign.pk}']")
        listed = {name: row.locator(f".{name}").inner_text().strip() for name in ("sent", "audience", "per-day")}
        row.locator("a").click()
        limit = page.locator("#daily-limit strong")
        on_page = {
            "sent": page.locator("#sent").inner_text(),
            "audience": page.locator("#audience").inner_text(),
            "per-day": f"Up to {limit.inner_text()}" if limit.count() else "–",
        }
        assert listed == on_page, campaign.name
        page.go_back()
    assert page.locator(f"tr[data-campaign='{big.pk}'] .per-day").inner_text() == "Up to 125"


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


# Every cell of a table with the card it is in: whether it shows, and where.
TABLE_CELLS = """(table) => {
  const card = table.closest(".card").getBoundingClientRect();
  return [...table.querySelectorAll("tbody td, tbody th")].map((cell) => {
    const r = cell.getBoundingClientRect();
    return {
      text: cell.innerText.trim(), shown: getComputedStyle(cell).display !== "none" && r.width > 0,
      left: r.left, right: r.right, height: r.height, line: parseFloat(getComputedStyle(cell).lineHeight),
      cardLeft: card.left, cardRight: card.right, kind: cell.dataset.label || cell.className,
    };
  });
}"""


def cells_within_their_card(page: Page, table: str) -> list[dict]:
    """The table's cells at phone width, each asserted shown and inside its card (empty cells aside)."""
    page.set_viewport_size(SIZES["phone"])
    cells = page.locator(table).evaluate(TABLE_CELLS)
    for cell in cells:
        if cell["text"]:
            assert cell["shown"], f"{table}: {cell['text']!r} is hidden at 375 px"
            assert cell["cardLeft"] <= cell["left"] and cell["right"] <= cell["cardRight"] + 0.5, (
                f"{table}: {cell['text']!r} runs out of its card ({cell['right']:.0f} > {cell['cardRight']:.0f} px)"
            )
    return cells


def test_on_a_phone_the_results_and_the_audience_show_every_cell_inside_their_cards(page: Page, staff_login):
    campaign = CampaignFactory(name="Fall", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    texted(campaign, "A", 10, interested=1, other_replies=2, delivered=9, opted_out=1)
    texted(campaign, "B", 8, interested=2, delivered=8)
    booked = CampaignContactFactory(
        campaign=campaign, status=CampaignContact.Status.SCHEDULED,
        contact__first_name="Maximiliana", contact__last_name="Fitzgerald-Vanderberg",
    )  # fmt: skip
    CampaignSendFactory(campaign=campaign, contact=booked.contact, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    CampaignContactFactory.create_batch(3, campaign=campaign)
    page.goto(f"/campaigns/{campaign.pk}/")
    page.click("#cancel-campaign")
    page.click("#confirm-cancel")
    expect(page.locator("#campaign-status")).to_have_text("Cancelled")

    results = cells_within_their_card(page, "section[aria-labelledby=ab] table")
    shown = " ".join(cell["text"] for cell in results)
    assert "Delivered" in shown and "Replies from people" in shown and "9" in shown
    page.click("#never-sent-why a")
    expect(page.locator("#members tbody tr")).to_have_count(4)
    audience = cells_within_their_card(page, "#members")
    statuses = [cell for cell in audience if "Never sent (campaign cancelled)" in cell["text"]]
    assert len(statuses) == 4
    assert any("Campaign cancelled" in cell["text"] for cell in audience)  # the booked one's why, on screen
    name = next(cell for cell in audience if "Maximiliana" in cell["text"])
    assert name["height"] <= 2.5 * name["line"], "the name and phone wrap over more than two lines"
    screenshot(page, "campaign-cancelled-phone-audience")
