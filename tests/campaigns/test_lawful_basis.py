"""Every marketing text has a lawful basis: Do-Not-Call lists, consent and business
relationships, Connecticut's written consent, the 2026 state hours and caps (issue 37)."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from freezegun import freeze_time

from campaigns import audience, booking
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts import dnc, lawful_basis
from contacts.models import ConsentChange, Contact, DoNotCallCoverage, DoNotCallNumber
from contacts.timezones import assign_time_zones
from messaging import outbox
from tests.campaigns.conftest import EASTERN, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory
from tests.sqlite import on_sqlite

pytestmark = pytest.mark.django_db

TUESDAY = (2026, 12, 1)
NOW = eastern(*TUESDAY, 10, 0)
WRITTEN = {
    "consent_basis": "express_written",
    "consent_source": "Web form on attackacrack.com, checkbox",
    "consent_wording": "Yes, text me offers from Attack-a-Crack.",
}


def person(phone: str, *, state: str = "MA", zip_code: str = "02169", **fields) -> Contact:
    made = ContactFactory(
        phone=phone, state=state, zip_code=zip_code, time_zone="", time_zone_source="unknown", **fields
    )
    assign_time_zones()
    made.refresh_from_db()
    return made


def campaign_of(*contacts: Contact, **fields) -> Campaign:
    campaign = CampaignFactory(
        status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="", frequency_cap_days=0, **fields
    )
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[c.pk for c in contacts])
    return campaign


def run(campaign: Campaign, at: dt.datetime = NOW) -> None:
    with freeze_time(at):
        booking.execute_campaign(campaign_id=campaign.pk)


def member(campaign: Campaign, contact: Contact) -> CampaignContact:
    return campaign.memberships.get(contact=contact)


def load(lines: str, *, list_name: str = "national", as_of: dt.date = dt.date(2026, 11, 30), **kw):
    with freeze_time(NOW):
        return dnc.load_list(io.BytesIO(lines.encode()), list_name=list_name, as_of=as_of, file_name="list.txt", **kw)


# --- Do-Not-Call lists ------------------------------------------------------------------------


def test_a_number_on_the_registry_gets_no_marketing_text_without_a_basis_and_says_which_list():
    listed, free = person("+16172001001"), person("+16172001002")
    load("617,2001001\n")
    campaign = campaign_of(listed, free)

    run(campaign)

    assert member(campaign, free).status == "scheduled"
    refused = member(campaign, listed)
    assert (refused.status, refused.ineligible_reason) == (
        "ineligible",
        "On the National Do-Not-Call Registry (list of 2026-11-30); "
        "no written consent or recent business relationship on record",
    )


@pytest.mark.parametrize(
    ("basis", "when", "texted"),
    [
        ("express_written", dt.datetime(2020, 1, 1, tzinfo=dt.UTC), True),  # written consent lasts
        ("customer", eastern(2025, 6, 2, 9), True),  # a job 18 months back, less a day
        ("customer", eastern(2025, 5, 31, 9), False),  # 18 months and a day
        ("inquiry", eastern(2026, 9, 2, 9), True),  # asked 3 months back, less a day
        ("inquiry", eastern(2026, 8, 31, 9), False),
        ("none", None, False),
    ],
)
def test_a_listed_number_is_texted_only_inside_its_basis_window(basis, when, texted):
    fields = {"consent_basis": basis, "consent_at": when}
    if basis == "express_written":
        fields |= {key: WRITTEN[key] for key in ("consent_source", "consent_wording")}
    listed = person("+16172001003", **fields)
    load("617,2001003\n")
    campaign = campaign_of(listed)

    run(campaign)

    assert (member(campaign, listed).status == "scheduled") is texted


def test_the_state_list_is_read_too_and_a_number_on_no_list_may_be_cold_texted():
    on_state_list, cold = person("+15082001004"), person("+15082001005")
    load("508,2001004\n", list_name="state")
    campaign = campaign_of(on_state_list, cold)

    run(campaign)

    assert member(campaign, on_state_list).ineligible_reason.startswith(
        "On the Massachusetts Do-Not-Call list (list of 2026-11-30)"
    )
    assert member(campaign, cold).status == "scheduled"


def test_a_copy_older_than_31_days_stops_marketing_texts_to_its_area_codes_until_a_newer_one():
    boston, worcester = person("+16172001006"), person("+15082001007")
    load("617,2009999\n", as_of=dt.date(2026, 10, 30))  # 32 days before Tuesday
    campaign = campaign_of(boston, worcester)

    run(campaign)

    waiting = member(campaign, boston)
    assert (waiting.status, waiting.ineligible_reason) == (
        "pending",
        "The National Do-Not-Call Registry copy for area code 617 is of 2026-10-30, over 31 days old: load a newer one",
    )
    assert member(campaign, worcester).status == "scheduled"  # 508 is on no list's copy

    load("617,2009999\n", as_of=dt.date(2026, 11, 30))
    run(campaign, eastern(2026, 12, 2, 10))
    assert member(campaign, boston).status == "scheduled"


def test_informational_campaigns_text_customers_only_whatever_the_lists_say():
    customer = person("+16172001008", consent_basis="customer", consent_at=eastern(2019, 1, 1, 9))
    stranger = person("+16172001009")
    load("617,2001008\n617,2001009\n")
    campaign = campaign_of(customer, stranger, purpose="informational")

    run(campaign)

    assert member(campaign, customer).status == "scheduled"
    assert member(campaign, stranger).ineligible_reason == (
        "An informational campaign texts only customers: no job, payment or delivery on record"
    )


def test_a_text_booked_before_its_number_was_listed_is_held_as_it_goes():
    listed = person("+16172001010")
    campaign = campaign_of(listed)
    run(campaign)
    send = CampaignSend.objects.get(campaign=campaign)
    load("617,2001010\n")

    with freeze_time(send.scheduled_for):
        assert outbox.deliver_message(text_of(send).pk) == "held"
    send.compliance.refresh_from_db()
    assert send.compliance.dispatch_checks["not_on_do_not_call_list"] is False


def test_the_compliance_record_names_the_basis_and_the_lists_checked():
    customer = person("+16172001011", consent_basis="customer", consent_at=eastern(2026, 1, 5, 9))
    load("617,2001011\n")
    campaign = campaign_of(customer)

    run(campaign)

    record = CampaignSend.objects.get(campaign=campaign).compliance
    assert record.consent_basis == "customer"
    assert record.lists_checked == [
        {"list": "national", "area_code": "617", "as_of": "2026-11-30", "listed": True},
        {"list": "state", "area_code": "617", "as_of": None, "listed": False},
    ]
    assert record.booking_checks["not_on_do_not_call_list"] is True


# --- Consent changes ----------------------------------------------------------------------------


def still_running(campaign: Campaign) -> None:
    """Tomorrow the campaign may book everyone left (today it kept one back, so it stays active)."""
    Campaign.objects.filter(pk=campaign.pk).update(daily_limit=10)


def test_recording_written_consent_is_audited_and_lets_a_refused_member_be_booked():
    listed = person("+16172001012")
    load("617,2001012\n")
    campaign = campaign_of(listed, *ContactFactory.create_batch(2), daily_limit=1)
    run(campaign)
    assert member(campaign, listed).status == "ineligible"

    with freeze_time(NOW):
        change = lawful_basis.record_consent(listed, {**WRITTEN, "consent_at": NOW}, via="api")
    still_running(campaign)
    run(campaign, eastern(2026, 12, 2, 10))

    assert member(campaign, listed).status == "scheduled"
    assert (change.consent_basis, change.via, change.changed_at) == ("express_written", "api", NOW)
    assert ConsentChange.objects.filter(contact=listed).count() == 1
    with freeze_time(NOW):  # the same values again change nothing and write nothing
        assert lawful_basis.record_consent(listed, {**WRITTEN, "consent_at": NOW}, via="api") is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"consent_basis": "customer"}, "consent_at"),
        ({"consent_basis": "express_written", "consent_at": NOW}, "consent_source"),
        ({**WRITTEN, "consent_wording": " ", "consent_at": NOW}, "consent_wording"),
        ({"consent_basis": "inquiry", "consent_at": NOW + dt.timedelta(days=1)}, "consent_at"),
        ({"consent_basis": "friend"}, "consent_basis"),
    ],
)
def test_a_consent_that_does_not_hold_together_is_refused_naming_its_field(values, field):
    contact = person("+16172001013")

    with freeze_time(NOW), pytest.raises(Exception) as refused:
        lawful_basis.record_consent(contact, values, via="page")

    assert field in refused.value.message_dict
    contact.refresh_from_db()
    assert contact.consent_basis == "none" and not ConsentChange.objects.exists()


def test_an_opt_out_keeps_the_consent_on_record():
    from messaging import services

    contact = person("+16172001014", **WRITTEN, consent_at=NOW)
    services.opt_out(contact=contact, reason="Replied 'STOP'")

    contact.refresh_from_db()
    assert contact.is_opted_out and contact.consent_basis == "express_written"


# --- Connecticut, and the state table brought to 2026 ---------------------------------------------


def test_a_connecticut_recipient_needs_written_consent_and_an_unknown_state_is_treated_as_one():
    hartford = person("+18602001015", state="CT", zip_code="06103")
    signed = person("+18602001016", state="CT", zip_code="06103", **WRITTEN, consent_at=NOW)
    nowhere = person("+15002001017", state="", zip_code="")  # non-geographic: state unknown
    campaign = campaign_of(hartford, signed, nowhere)

    run(campaign)

    assert member(campaign, signed).status == "scheduled"
    assert member(campaign, hartford).ineligible_reason == (
        "In Connecticut a sales text needs written consent; none on record"
    )
    assert member(campaign, nowhere).ineligible_reason.startswith("Their state is unknown")


@pytest.mark.parametrize(
    ("phone", "state", "zip_code", "last_minute"),
    [
        ("+16172001018", "MA", "02169", (19, 59)),
        ("+13052001019", "FL", "33101", (19, 59)),
        ("+14052001020", "OK", "73102", (20, 59)),  # Central: 20:00 there is 21:00 here
        ("+14102001021", "MD", "21201", (19, 59)),
        ("+18602001022", "CT", "06103", (19, 59)),
        ("+16032001023", "NH", "03301", (20, 59)),  # the federal 21:00
    ],
)
def test_a_state_that_closes_before_the_business_is_kept_to_its_close(settings, phone, state, zip_code, last_minute):
    settings.BUSINESS_CLOSES = dt.time(22, 0)  # past every state's close, Oklahoma's (21:00 here) included
    settings.CAMPAIGN_PACE_MINUTES, settings.CAMPAIGN_PACE_BATCH = 1, 1
    recipient = person(phone, state=state, zip_code=zip_code, **WRITTEN, consent_at=NOW)
    campaign = campaign_of(recipient)

    run(campaign, eastern(2026, 12, 1, 18, 30))

    send = CampaignSend.objects.get(campaign=campaign)
    record = send.compliance
    closes = dt.datetime.combine(dt.date(2026, 12, 1), dt.time(*last_minute), tzinfo=EASTERN) + dt.timedelta(minutes=1)
    assert record.allowed_until == closes
    assert send.scheduled_for < closes
    with freeze_time(closes):  # and the text does not go at the close
        assert outbox.deliver_message(text_of(send).pk) == "held"


def test_texas_opens_at_noon_on_sunday_from_september_2025(settings):
    settings.BUSINESS_DAYS = frozenset(range(7))
    houston = person("+17132001024", state="TX", zip_code="77002", **WRITTEN, consent_at=NOW)
    campaign = campaign_of(houston)

    run(campaign, eastern(2026, 11, 29, 9, 0))  # a Sunday: 08:00 in Houston

    assert CampaignSend.objects.get(campaign=campaign).compliance.allowed_from == eastern(2026, 11, 29, 13, 0)


def test_a_law_applies_only_from_the_day_it_took_effect(settings):
    settings.BUSINESS_DAYS = frozenset(range(7))
    houston = person("+17132001025", state="TX", zip_code="77002", **WRITTEN, consent_at=eastern(2025, 1, 1, 9))
    campaign = campaign_of(houston)

    run(campaign, eastern(2025, 8, 31, 9, 0))  # the Sunday before Texas' law: the federal 08:00

    assert CampaignSend.objects.get(campaign=campaign).compliance.allowed_from == eastern(2025, 8, 31, 9, 0)


def test_oregons_cap_spares_a_business_relationship(settings):
    settings.CAMPAIGN_PACE_MINUTES, settings.CAMPAIGN_PACE_BATCH = 1, 1
    customer = person("+15032001026", state="OR", zip_code="97201", consent_basis="customer", consent_at=NOW)
    stranger = person("+15032001027", state="OR", zip_code="97201")
    campaigns = [campaign_of(customer, stranger) for _ in range(4)]

    for index, campaign in enumerate(campaigns):
        run(campaign, eastern(2026, 12, 1, 13, index))

    texted = CampaignSend.objects.values_list("contact_id", flat=True)
    assert list(texted).count(customer.pk) == 4
    assert list(texted).count(stranger.pk) == 3


# --- Loading the lists ---------------------------------------------------------------------------


def test_a_full_list_replaces_its_area_codes_and_a_change_list_adds_and_deletes():
    person("+16172001028")
    first = load("617,2001028\n617,2001029\n508,2001030\n")
    assert (first.kind, first.area_codes, first.numbers_read, first.numbers_added, first.contacts_matched) == (
        "full", "508,617", 3, 3, 1
    )  # fmt: skip

    again = load("617,2001029\n", as_of=dt.date(2026, 12, 1))  # 617 only: 508 keeps its copy
    assert (again.numbers_added, again.numbers_removed, again.contacts_matched) == (0, 1, 0)
    changes = load("617,2001028,A,20261201\n508,2001030,D\n", as_of=dt.date(2026, 12, 1))
    assert (changes.kind, changes.numbers_added, changes.numbers_removed) == ("changes", 1, 1)

    held = sorted(f"+{n}" for n in DoNotCallNumber.objects.values_list("number", flat=True))
    assert held == ["+16172001028", "+16172001029"]
    copies = dict(DoNotCallCoverage.objects.values_list("area_code", "as_of"))
    assert copies == {"617": dt.date(2026, 12, 1), "508": dt.date(2026, 12, 1)}


def test_a_zipped_file_loads_like_a_plain_one():
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("617.txt", "617,2001031\r\n617,200-1032\r\n")
        archive.writestr("781.txt", "781,2001033\n")
    with freeze_time(NOW):
        loaded = dnc.load_list(packed, list_name="national", as_of=dt.date(2026, 12, 1), file_name="dnc.zip")

    assert (loaded.numbers_read, loaded.area_codes) == (3, "617,781")


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ("617,2001034\n617,20010\n", "list.txt, line 2: expected 'area code,number'"),
        ("117,2001034\n", "117 is not an area code"),
        ("617,2001034\n617,2001035,D\n", "mixes full-list lines with change-list lines"),
        ("617,2001034,X\n", re.escape("a change list's line needs A (added) or D (deleted)")),
        ("\n\n", "holds no numbers"),
    ],
)
def test_a_bad_file_stores_nothing_and_names_the_line(lines, error):
    load("617,2009998\n")

    with pytest.raises(dnc.DncFileError, match=error):
        load(lines, as_of=dt.date(2026, 12, 1))

    assert [f"+{n}" for n in DoNotCallNumber.objects.values_list("number", flat=True)] == ["+16172009998"]
    assert DoNotCallCoverage.objects.get().as_of == dt.date(2026, 11, 30)


def test_an_older_copy_or_a_change_list_without_its_full_list_is_refused():
    load("617,2001036\n")

    with pytest.raises(dnc.DncFileError, match="A newer copy \\(of 2026-11-30\\) is loaded for area code 617"):
        load("617,2001036\n", as_of=dt.date(2026, 11, 1))
    with pytest.raises(dnc.DncFileError, match="no full list loaded \\(508\\)"):
        load("508,2001037,A\n", as_of=dt.date(2026, 12, 1))


def test_a_number_dropped_from_the_list_may_be_texted_again():
    listed = person("+16172001038")
    load("617,2001038\n")
    campaign = campaign_of(listed, *ContactFactory.create_batch(2), daily_limit=1)
    run(campaign)
    assert member(campaign, listed).status == "ineligible"

    load("617,2001038,D\n", as_of=dt.date(2026, 12, 1))
    still_running(campaign)
    run(campaign, eastern(2026, 12, 2, 10))

    assert member(campaign, listed).status == "scheduled"


def test_the_command_loads_a_file_and_reports_what_it_matched(tmp_path, capsys):
    person("+16172001039")
    path = tmp_path / "617.txt"
    path.write_text("617,2001039\n617,2001040\n")

    with freeze_time(NOW):
        call_command("import_dnc_list", str(path), "--list", "national", "--as-of", "2026-11-30")

    assert capsys.readouterr().out.strip() == (
        "National Do-Not-Call Registry of 2026-11-30 (full list, area codes 617): 2 numbers read, 2 added, "
        "0 removed; 1 of your contacts are on it."
    )
    path.write_text("617,2001039\n617,123\n")
    with freeze_time(NOW), pytest.raises(CommandError, match="Nothing loaded: 617.txt, line 2"):
        call_command("import_dnc_list", str(path), "--list", "national", "--as-of", "2026-12-01")


# --- What the owner sees before launching ----------------------------------------------------------


def test_the_launch_plan_says_how_many_go_out_cold_and_how_many_the_lists_keep_out(client, staff_user):
    from campaigns import selectors
    from campaigns.calendar import BusinessCalendar

    cold = [person(f"+1617200105{i}") for i in range(3)]
    listed = person("+16172001060")
    customer_listed = person("+16172001061", consent_basis="customer", consent_at=eastern(2026, 6, 1, 9))
    load("617,2001060\n617,2001061\n")
    campaign = CampaignFactory(status=Campaign.Status.DRAFT, from_number=SHOP_NUMBER)
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[c.pk for c in [*cold, listed, customer_listed]])

    plan = selectors.launch_plan(campaign, starts_at=NOW, calendar=BusinessCalendar.from_settings())

    assert (plan.textable, plan.no_consent, plan.kept_out_by_lists) == (4, 3, 1)
    client.force_login(staff_user)
    with freeze_time(NOW):
        page = client.get(f"/campaigns/{campaign.pk}/start").content.decode()
    assert "3 of these texts go to people with no consent on record" in page
    assert "1 member will not be texted, and why:" in page
    assert '<li data-reason="on_do_not_call_list"><span class="num">1</span> · On a Do-Not-Call list</li>' in page


def test_a_campaign_that_booked_texts_keeps_its_purpose(api_client):
    customer = person("+16172001070", consent_basis="customer", consent_at=eastern(2026, 6, 1, 9))
    campaign = campaign_of(customer)
    draft = CampaignFactory(status=Campaign.Status.DRAFT)
    run(campaign)

    refused = api_client.patch(f"/api/campaigns/{campaign.pk}", {"purpose": "informational"}, format="json")
    changed = api_client.patch(f"/api/campaigns/{draft.pk}", {"purpose": "informational"}, format="json")

    assert (refused.status_code, changed.status_code) == (409, 200)
    assert "keeps its purpose" in refused.json()["detail"][0]["msg"]
    campaign.refresh_from_db()
    draft.refresh_from_db()
    assert (campaign.purpose, draft.purpose) == ("marketing", "informational")


def test_lists_load_on_the_embedded_database_too(sqlite_database, tmp_path):
    full, changes = tmp_path / "617.txt", tmp_path / "617-changes.txt"
    full.write_text("617,2001080\n617,2001081\n")
    changes.write_text("617,2001080,D\n617,2001082,A\n")
    command = ["manage.py", "import_dnc_list", "--list", "national"]

    first = on_sqlite(sqlite_database, *command, str(full), "--as-of", "2026-12-01")
    second = on_sqlite(sqlite_database, *command, str(changes), "--as-of", "2026-12-02")
    again = on_sqlite(sqlite_database, *command, str(full), "--as-of", "2026-12-03")

    assert "2 numbers read, 2 added, 0 removed" in first
    assert "2 numbers read, 1 added, 1 removed" in second
    assert "2 numbers read, 1 added, 1 removed" in again  # 2001080 back, 2001082 gone
