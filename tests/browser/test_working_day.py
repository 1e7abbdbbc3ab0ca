"""The office manager's working day in a real browser, at desktop and phone width, without the
admin or the API: import, build an audience, preview real members, schedule, read Today, approve
a flagged member, declare a winner, work the contacts. Where a page shows a number, the test
reads the number from the database and compares."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import writing
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact, ContactImport, PropertyContact
from contacts.phones import format_phone
from messaging.models import Message
from tests.browser.conftest import PASSWORD, log_in, screenshot
from tests.campaigns.test_ab_results import sent_sends
from tests.contacts.csv_files import propertyradar_csv
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
    PropertyContactFactory,
    PropertyFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

HOUSES = [
    {"APN": f"Q-{n}", "Address": f"{n} ELM ST", "City": "QUINCY", "ZIP": "02169", "Yr Built": "1950",
     "Primary Name": name, "Primary Mobile Phone1": phone}
    for n, (name, phone) in enumerate(
        [("SULLIVAN,MARY K", "617-555-0101"), ("WALSH, JOE", "617-555-0102"), ("ANN KELLY", "888-555-0103"),
         ("LEO TREMBLAY", "416-555-0104"), ("PAT BURKE", "617-555-0105")],
        start=1,
    )
] + [
    {"APN": "B-1", "Address": "3 OAK AVE", "City": "BRAINTREE", "ZIP": "02184", "Primary Name": "SEAN DOYLE",
     "Primary Mobile Phone1": "781-555-0106"},
]  # fmt: skip


def number(page: Page, selector: str) -> int:
    return int(page.locator(selector).inner_text().replace(",", "").strip())


def test_import_then_build_an_audience_by_city_and_add_it(page: Page, staff_login, tmp_path):
    export = tmp_path / "quincy.csv"
    export.write_bytes(propertyradar_csv(HOUSES))
    page.goto("/contacts/import")
    page.set_input_files("#id_file", str(export))
    page.click("button:has-text('Import')")

    expect(page.locator("#import-status")).to_have_text("Completed")
    report = ContactImport.objects.get()
    # The report adds up, and says so in numbers the database holds.
    assert report.entries_read == (
        report.contacts_created + report.contacts_updated + report.contacts_unchanged + report.duplicates_folded
        + report.entries_rejected
    )  # fmt: skip
    expect(page.locator("#import-sum")).to_contain_text(
        f"{report.entries_read} entries read = {report.contacts_created} created + 0 updated + 0 unchanged"
    )
    assert number(page, "#not-textable") == Contact.objects.exclude(not_textable_reason="").count() == 2
    mary = Contact.objects.get(phone="+16175550101")
    assert (mary.first_name, mary.last_name) == ("Mary", "Sullivan")  # "SULLIVAN,MARY K"
    screenshot(page, "import-report-adds-up")

    campaign = CampaignFactory(name="Quincy spring", from_number=SHOP_NUMBER)
    page.goto(f"/campaigns/{campaign.pk}/")
    page.fill("#audience-filter [name=city]", "Quincy")
    page.click("#audience-filter button:has-text('See who would be added')")

    quincy = Contact.objects.filter(city__iexact="Quincy")
    expect(page.locator("#matching")).to_have_text(str(quincy.count()))
    assert number(page, "#to-add") == quincy.count() == 5
    expect(page.locator("#not-textable")).to_contain_text("A toll-free number")
    expect(page.locator("#not-textable")).to_contain_text("Not a US number (Canada)")
    assert not campaign.memberships.exists()  # nothing is added before the button
    screenshot(page, "audience-builder")
    page.click("#add-contacts")

    expect(page.locator(".alert.success")).to_have_text("Added 5 contacts to the audience.")
    assert set(campaign.memberships.values_list("contact_id", flat=True)) == set(quincy.values_list("id", flat=True))

    # The same filter again adds nobody: all five are already in.
    page.goto(f"/campaigns/{campaign.pk}/audience?city=Quincy")
    assert number(page, "#already") == 5 and number(page, "#to-add") == 0


def test_preview_steps_through_real_members_and_warns_of_missing_values(page: Page, staff_login):
    campaign = CampaignFactory(
        name="Old homes", template_a="Hi {name}, homes built in {year_built} in {city} settle.", template_b=""
    )
    with_year = PropertyContactFactory(contact=ContactFactory(first_name="Mary", city="Quincy")).contact
    without_year = [
        PropertyContactFactory(contact=ContactFactory(first_name=name, city="Milton"), property=PropertyFactory(
            year_built=None)).contact
        for name in ("Joe", "Ann")
    ]  # fmt: skip
    for contact in [with_year, *without_year]:
        CampaignContactFactory(campaign=campaign, contact=contact)
    page.goto(f"/campaigns/{campaign.pk}/")

    expect(page.locator("#previewed-member")).to_contain_text("Member 1 of 3")
    first = writing.campaign_text(campaign=campaign, contact=with_year, variant="A")
    assert first.startswith("Hi Mary, homes built in 1954 in Quincy settle.")
    expect(page.locator("[data-variant=A] .preview")).to_have_text(first)
    lacking = PropertyContact.objects.filter(
        contact__campaign_memberships__campaign=campaign, property__year_built=None
    )
    warning = page.locator(".missing-value[data-token=year_built]")
    expect(warning).to_contain_text(f"{lacking.count()} members have no value for {{year_built}}: it is left out")
    joe = writing.campaign_text(campaign=campaign, contact=without_year[0], variant="A")
    assert joe.startswith("Hi Joe, homes built in in Milton settle.")
    expect(warning).to_contain_text(f"One of them gets: “{joe}”")
    screenshot(page, "preview-real-members")

    page.click("a[rel=next]")
    expect(page.locator("#previewed-member")).to_contain_text("Member 2 of 3")
    member = campaign.memberships.order_by("id")[1]
    expected = writing.campaign_text(campaign=campaign, contact=member.contact, variant="A")
    expect(page.locator("[data-variant=A] .preview")).to_have_text(expected)

    # Or pick one from the audience.
    last = campaign.memberships.order_by("id").last()
    page.locator(f"tr[data-member='{last.pk}'] a.preview-member").click()
    expect(page.locator("#previewed-member")).to_contain_text(f"Member 3 of 3: {last.contact}")


def test_a_template_that_can_run_over_the_limit_is_refused_at_save(page: Page, staff_login):
    page.goto("/campaigns/new")
    page.fill("#id_name", "Too long")
    page.fill("#id_template_a", "Hi {name}, " + "x" * 1590)
    page.click("button:has-text('Save')")

    expect(page.locator(".field.has-error")).to_contain_text("OpenPhone sends at most 1,600")
    assert not Campaign.objects.exists()


def test_schedule_for_the_next_business_morning_with_a_confirmation_of_what_will_happen(page: Page, staff_login):
    campaign = CampaignFactory(name="Spring", daily_limit=500, from_number=SHOP_NUMBER)
    for contact in ContactFactory.create_batch(130):
        CampaignContactFactory(campaign=campaign, contact=contact)
    page.goto(f"/campaigns/{campaign.pk}/")
    # The number's limit wins over the campaign's 500, and the page says so.
    expect(page.locator("#daily-limit")).to_contain_text("Up to 125 texts a business day from (617) 555-0100")
    expect(page.locator("#daily-limit")).to_contain_text("its own limit is 500")

    page.click("text=Schedule…")
    calendar = BusinessCalendar.from_settings()
    next_day = next(calendar.business_days_after(calendar.local_date(timezone.now())))
    expect(page.locator("#id_date")).to_have_value(next_day.isoformat())
    expect(page.locator("#id_time")).to_have_value("09:00")
    expect(page.locator("main form")).to_contain_text("America/New_York")
    screenshot(page, "schedule")
    page.click("button:has-text('Next: see what will happen')")

    plan = page.locator("#plan")
    expect(plan).to_have_text(
        f"125 texts on {next_day:%A, %b} {next_day.day} from (617) 555-0100, from 9:00 AM; "
        "the other 5 over the next 1 business day."
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT  # nothing happens before the confirmation
    screenshot(page, "schedule-confirm")
    page.click("#confirm")

    expect(page.locator("#campaign-status")).to_have_text("Scheduled")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.starts_at == dt.datetime.combine(next_day, dt.time(9), tzinfo=calendar.zone)
    expect(page.locator("#starts-at")).to_contain_text(f"{next_day:%b} {next_day.day}, {next_day.year}, 9:00 AM")


def test_cancel_is_named_asks_first_and_says_it_is_final(page: Page, staff_login):
    campaign = CampaignFactory(name="Summer", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    booked = CampaignSendFactory(campaign=campaign, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator("#cancel-campaign")).to_have_text("Cancel campaign…")

    page.click("#cancel-campaign")
    expect(page.locator("h1")).to_have_text("Cancel “Summer” for good?")
    expect(page.locator("main")).to_contain_text("cannot be started again")
    expect(page.locator("main")).to_contain_text("The 1 booked text not yet sent is cancelled.")
    screenshot(page, "cancel-confirm")
    page.click("text=Keep the campaign")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE

    page.click("#cancel-campaign")
    page.click("#confirm-cancel")
    expect(page.locator("#campaign-status")).to_have_text("Cancelled")
    booked.message.refresh_from_db()
    assert (booked.message.status, booked.message.error) == ("cancelled", "Not sent: Campaign cancelled")


def test_today_says_sent_delivered_and_booked_apart_and_shows_paused_campaigns_as_paused(page: Page, staff_login):
    now = timezone.now()
    today = BusinessCalendar.from_settings().local_date(now)
    running = CampaignFactory(name="Running one", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    paused = CampaignFactory(name="Paused one", status=Campaign.Status.PAUSED, from_number=SHOP_NUMBER)
    for index in range(3):
        CampaignSendFactory(
            campaign=running, status="sent", sent_at=now, scheduled_for=now, business_date=today,
            delivered_at=now if index == 0 else None,
        )  # fmt: skip
    soon = CampaignSendFactory(campaign=running, scheduled_for=now + dt.timedelta(hours=1), business_date=today)
    waiting = CampaignSendFactory(campaign=paused, scheduled_for=now + dt.timedelta(hours=2), business_date=today)
    Message.objects.filter(campaign=running, status="sent").update(segments=2)
    page.goto("/")

    todays = CampaignSend.objects.filter(from_number=SHOP_NUMBER, business_date=today).exclude(
        message__status="cancelled"
    )
    usage = page.locator(f".usage[data-number='{SHOP_NUMBER}']")
    assert number(page, ".usage .sent") == todays.filter(message__status="sent").count() == 3
    assert number(page, ".usage .delivered") == todays.filter(message__delivered_at__isnull=False).count() == 1
    assert number(page, ".usage .booked") == todays.count() == 5
    expect(usage).to_contain_text("3 of 125 sent")
    billed = Message.objects.filter(sent_at__isnull=False).aggregate(total=Sum("segments"))["total"]
    expect(page.locator("#spend")).to_contain_text(f"${billed / 100:.2f} {billed} segments so far: campaign texts")
    queue = page.locator("#next-in-queue")
    expect(queue).to_contain_text(str(soon.contact))
    expect(queue).not_to_contain_text(str(waiting.contact))  # a paused campaign's text is not next
    running_section = page.locator("section[aria-labelledby=running]")
    expect(running_section.locator(f"[data-campaign='{paused.pk}'] .badge")).to_have_text("Paused")
    expect(page.locator("#running + div")).to_contain_text("Running one")
    screenshot(page, "today-sent-delivered-booked")

    page.goto(f"/campaigns/{paused.pk}/")
    expect(page.locator("#paused-notice")).to_contain_text("Paused: nothing is sent. 1 booked text wait")
    expect(page.locator("#upcoming")).to_have_text("Nothing goes out while the campaign is paused.")
    page.goto(f"/campaigns/{running.pk}/")
    assert (number(page, "#sent"), number(page, "#delivered"), number(page, "#booked")) == (3, 1, 1)


def test_approve_a_flagged_member_from_the_campaign_audience(page: Page, staff_login):
    campaign = CampaignFactory(name="Follow-ups", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER,
                               prior_contact_policy=Campaign.PriorContactPolicy.FLAG)  # fmt: skip
    contact = ContactFactory(first_name="Rita", last_name="Moran")
    InboundMessageFactory(contact=contact, body="Do you do basements?")
    member = CampaignContactFactory(
        campaign=campaign, contact=contact, status=CampaignContact.Status.FLAGGED,
        held_because="review_texted_us_before", ineligible_reason="Has texted us before: review before texting",
    )  # fmt: skip
    page.goto(f"/campaigns/{campaign.pk}/")
    page.click("a:has-text('flagged for review')")
    row = page.locator(f"tr[data-member='{member.pk}']")
    expect(row).to_contain_text("Has texted us before")
    screenshot(page, "approve-flagged")
    row.locator("button:has-text('Approve the text')").click()

    expect(page.locator(".alert.success")).to_contain_text("Rita Moran · (617)")
    member.refresh_from_db()
    assert (member.status, member.review_approved) == (CampaignContact.Status.PENDING, True)
    expect(page.locator("#members")).to_contain_text("Nobody here.")  # no flagged member is left


def test_declare_the_winner_from_the_campaign_page(page: Page, staff_login):
    campaign = CampaignFactory(name="A/B", status=Campaign.Status.ACTIVE, template_b="Hello {first_name}, B here")
    at = dt.datetime(2024, 1, 15, 10, tzinfo=BusinessCalendar.from_settings().zone)
    sent_sends(campaign, "A", 63, interested=1, at=at)
    sent_sends(campaign, "B", 62, interested=16, at=at)
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator("section[aria-labelledby=ab]")).to_contain_text("Variant B wins")
    screenshot(page, "winner")
    page.click("#send-the-rest")
    page.click("#confirm-winner")

    expect(page.locator("main")).to_contain_text("The rest of the audience gets variant B")
    campaign.refresh_from_db()
    assert campaign.winner == "B"


def test_add_edit_find_and_export_contacts(page: Page, staff_login, tmp_path):
    page.goto("/contacts/")
    page.click("text=Add a contact")
    page.fill("#id_first_name", "Nora")
    page.fill("#id_last_name", "Quinn")
    page.fill("#id_phone", "(617) 555-0199")
    page.fill("#id_address", "44 Hancock St")
    page.fill("#id_city", "Quincy")
    page.fill("#id_zip_code", "02171")
    screenshot(page, "contact-add")
    page.click("button:has-text('Save')")

    expect(page.locator("h1")).to_have_text("Nora Quinn")
    nora = Contact.objects.get()
    assert (nora.phone, nora.zip_code, nora.time_zone) == ("+16175550199", "02171", "America/New_York")
    expect(page.locator("#contact-phone")).to_have_text("(617) 555-0199")

    page.click("#edit-contact")
    expect(page.locator("#id_phone")).to_have_value("(617) 555-0199")
    page.fill("#id_city", "Milton")
    page.click("button:has-text('Save')")
    expect(page.locator("#contact-address")).to_contain_text("Milton")
    nora.refresh_from_db()
    assert (nora.city, nora.phone) == ("Milton", "+16175550199")

    # A number another contact has is refused beside the field, with a way to that contact.
    other = ContactFactory(first_name="Other")
    page.click("#edit-contact")
    page.fill("#id_phone", format_phone(other.phone))
    page.click("button:has-text('Save')")
    expect(page.locator(".field.has-error")).to_contain_text(f"Contact {other.pk} already has the phone")
    nora.refresh_from_db()
    assert nora.phone == "+16175550199"

    for query in ("Hancock", "02171", "44 Hancock St"):
        page.goto(f"/contacts/?q={query}")
        expect(page.locator("#contacts tbody tr")).to_have_count(1)
        expect(page.locator("#contacts")).to_contain_text("Nora")
    screenshot(page, "contact-search-by-address")
    with page.expect_download() as download:
        page.click("#export")
    rows = Path(download.value.path()).read_text().splitlines()
    # One contact found, one exported (its number guarded against spreadsheet formulas).
    assert len(rows) == 2 and rows[1].split(",")[1] == "'+16175550199"


def test_a_signed_in_user_who_is_not_staff_is_told_so_and_can_sign_out(page: Page, live_server):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("helper", password=PASSWORD)
    log_in(page, "helper")

    expect(page.locator("h1")).to_have_text("You are signed in, but not as staff")
    expect(page.locator("main")).to_contain_text("signed in as helper")
    expect(page.locator("header nav")).not_to_contain_text("Campaigns")
    screenshot(page, "not-staff")
    page.click("main button:has-text('Sign out')")
    expect(page.locator("h1")).to_have_text("Log in")


def test_the_nav_marks_the_current_page_and_the_site_has_a_favicon(page: Page, staff_login):
    page.goto("/campaigns/")
    expect(page.locator("header nav a[aria-current=page]")).to_have_text("Campaigns")
    page.goto("/contacts/import")
    expect(page.locator("header nav a[aria-current=page]")).to_have_text("Import")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).status == 200
    assert settings.SMS_DAILY_LIMIT_PER_NUMBER == 125  # the figures above assume the default
