"""The staff's daily work in a real browser: log in, import, campaigns, conversations."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from rest_framework.authtoken.models import Token

from campaigns import audience
from campaigns.models import Campaign
from contacts.models import Contact
from messaging.models import Message
from tests.browser.conftest import log_in, screenshot
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory, InboundMessageFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_anonymous_visitors_land_on_the_login_page(page: Page):
    page.goto("/campaigns/")

    expect(page).to_have_url("/login/?next=/campaigns/")
    expect(page.locator("h1")).to_have_text("Log in")
    screenshot(page, "login")


def test_log_in_and_see_the_dashboard(page: Page, staff_login):
    expect(page.locator("h1")).to_have_text("Today")
    expect(page.get_by_text("Campaign texts today")).to_be_visible()
    expect(page.get_by_text("worker has not run the dispatcher")).to_be_visible()
    screenshot(page, "dashboard")


def test_import_a_csv_through_the_page_and_see_the_report(page: Page, staff_login, tmp_path):
    csv = tmp_path / "neighbours.csv"
    csv.write_text(
        "First Name,Last Name,Phone,City\n"
        "Mary,Sullivan,(617) 555-0123,Quincy\n"
        "Joe,Walsh,617.555.0124,Braintree\n"
        "Bad,Row,12,Quincy\n"
    )
    page.goto("/contacts/import")
    page.click("text=What a list file may hold")
    expect(page.locator("#file-help")).to_contain_text("Written consent needs all four")
    screenshot(page, "import")

    page.set_input_files("#id_file", str(csv))
    page.click("button:has-text('Import')")

    expect(page.locator("#import-status")).to_have_text("Completed")
    expect(page.locator("#contacts-created")).to_have_text("2")
    expect(page.locator("#entries-rejected")).to_have_text("1")
    with page.expect_download() as download:
        page.click("text=Download the rejected rows")
    rejected = Path(download.value.path()).read_text()
    assert rejected.splitlines()[1].startswith("4,Not a valid phone number")  # line 4, with the reason
    assert set(Contact.objects.values_list("phone", flat=True)) == {"+16175550123", "+16175550124"}
    screenshot(page, "import-report")


def test_create_a_campaign_with_ab_templates_and_see_it_in_the_list(page: Page, staff_login):
    page.goto("/campaigns/new")
    page.fill("#id_name", "January Promo")
    page.fill("#id_template_a", "Hi {name}, special offer!")
    page.fill("#id_template_b", "Hello {name}, exclusive deal!")
    # The live preview follows the typing, for a sample contact.
    expect(page.locator("[data-variant=A] .preview")).to_contain_text("Hi Mary, special offer!")
    expect(page.locator("[data-variant=B] .preview")).to_contain_text("Hello Mary, exclusive deal!")
    screenshot(page, "campaign-form")
    page.click("button:has-text('Save')")

    expect(page.locator("h1")).to_contain_text("January Promo")
    page.click("text=Campaigns")
    expect(page.locator("table")).to_contain_text("January Promo")
    campaign = Campaign.objects.get(name="January Promo")
    assert (campaign.template_a, campaign.template_b, campaign.daily_limit) == (
        "Hi {name}, special offer!",
        "Hello {name}, exclusive deal!",
        125,
    )
    screenshot(page, "campaigns")


def test_a_bad_template_is_refused_beside_the_field(page: Page, staff_login):
    page.goto("/campaigns/new")
    page.fill("#id_name", "Typo")
    page.fill("#id_template_a", "Hi {firstname}!")
    page.click("button:has-text('Save')")

    expect(page.locator(".field.has-error")).to_contain_text("Unknown token {firstname}")
    assert not Campaign.objects.exists()


def test_pause_and_resume_a_campaign(page: Page, staff_login, settings):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, name="Spring")
    contacts = ContactFactory.create_batch(5)
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[c.pk for c in contacts])
    page.goto(f"/campaigns/{campaign.pk}/")
    screenshot(page, "campaign-detail")

    page.click("button:has-text('Pause')")
    expect(page.locator("h1 .badge")).to_have_text("Paused")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED

    page.click("button:has-text('Resume')")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_open_a_conversation_and_reply(page: Page, staff_login, eager_tasks, _sms_outbox):
    contact = ContactFactory(first_name="Mary", last_name="Sullivan")
    InboundMessageFactory(
        contact=contact, body="Can you come Tuesday?", created_at=timezone.now() - dt.timedelta(minutes=3)
    )

    page.goto("/conversations/")
    expect(page.locator("table")).to_contain_text("Can you come Tuesday?")
    screenshot(page, "conversations")
    page.click("text=Mary Sullivan")
    page.fill("#id_body", "Tuesday at 9 works. See you then!")
    page.click("button:has-text('Send')")

    expect(page.locator(".bubble.outbound")).to_contain_text("Tuesday at 9 works")
    reply = Message.objects.get(direction="outbound")
    assert (reply.kind, reply.status, reply.contact_id) == ("staff", "sent", contact.pk)
    assert [sms.body for sms in _sms_outbox] == ["Tuesday at 9 works. See you then!"]
    screenshot(page, "thread")


def test_the_thread_refreshes_by_itself_when_a_reply_arrives(page: Page, staff_login):
    contact = ContactFactory()
    InboundMessageFactory(contact=contact, body="Hello?")
    page.goto(f"/conversations/{contact.pk}/")

    InboundMessageFactory(contact=contact, body="Are you there?")

    expect(page.locator(".thread")).to_contain_text("Are you there?", timeout=12_000)


def test_contact_pages_and_the_token_page_render(page: Page, staff_login):

    contact = ContactFactory(first_name="Joe", city="Braintree")
    page.goto("/contacts/?q=Braintree")
    expect(page.locator("table")).to_contain_text("Joe")
    screenshot(page, "contacts")
    page.click(f"a[href='/contacts/{contact.pk}/']")
    expect(page.locator("h1")).to_contain_text("Joe")
    screenshot(page, "contact")
    page.goto("/account/token")
    page.click("button:has-text('Create a token')")
    expect(page.locator("#token")).to_have_text(Token.objects.get(user=staff_login).key)
    screenshot(page, "api-token")


def test_the_api_docs_and_the_admin_run_under_the_content_security_policy(page: Page, staff_login):
    # The page fixture fails the test on any violation the browser reports.
    campaign = CampaignFactory(name="Spring mailer")
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_contain_text("Attack-a-Crack API")
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#id_name")).to_have_value("Spring mailer")
    page.goto("/campaigns/new")
    page.fill("#id_template_a", "Hi {first_name}")
    expect(page.locator("#preview")).to_contain_text("Hi", timeout=5_000)


def test_a_staff_member_without_the_owners_rights_sees_the_limit_but_cannot_change_it(page: Page, live_server):
    StaffUserFactory(username="office")
    campaign = CampaignFactory(daily_limit=125)
    log_in(page, "office")

    expect(page.locator("header nav")).not_to_contain_text("API token")
    page.goto(f"/campaigns/{campaign.pk}/edit")
    expect(page.locator("#id_daily_limit")).to_be_disabled()
    expect(page.locator("form[data-preview]")).to_contain_text("Only the owner can change this.")
    screenshot(page, "campaign-form-staff")
