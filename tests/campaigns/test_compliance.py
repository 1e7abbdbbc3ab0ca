"""Every campaign text inside business hours ∩ the recipient's legal hours, provably."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns import audience, booking, compliance, sends
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignSend, ComplianceRecord
from contacts.models import Contact
from contacts.timezones import assign_time_zones
from messaging import outbox
from messaging import services as messaging_services
from messaging.consent import Consent, consent_intent
from messaging.models import Message
from tests.campaigns.conftest import EASTERN, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory

pytestmark = pytest.mark.django_db

MONDAY = (2024, 1, 15)
WRITTEN_CONSENT = {
    "consent_basis": "express_written",
    "consent_at": dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
    "consent_source": "Signed estimate form, in person",
    "consent_wording": "I agree to receive marketing texts from Attack-a-Crack.",
}


def contact(phone: str, *, zip_code: str = "", state: str = "", **fields) -> Contact:
    made = ContactFactory(
        phone=phone, zip_code=zip_code, state=state, time_zone="", time_zone_source="unknown", **fields
    )
    assign_time_zones()
    made.refresh_from_db()
    return made


def campaign_with(*contacts: Contact, **fields) -> Campaign:
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="", **fields)
    audience.add_contacts_by_id(campaign=campaign, contact_ids=[c.pk for c in contacts])
    return campaign


def booked_slot(campaign: Campaign, at: dt.datetime) -> dt.datetime | None:
    with freeze_time(at):
        booking.execute_campaign(campaign_id=campaign.pk)
    send = CampaignSend.objects.filter(campaign=campaign).first()
    return send.scheduled_for.astimezone(EASTERN) if send else None


# --- Where zones come from ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "zip_code", "state", "zones", "source"),
    [
        ("+16172000001", "02169", "", "America/New_York", "address"),
        ("+16172000002", "90012", "", "America/Los_Angeles", "address"),  # ZIP beats area code
        ("+16172000003", "", "AZ", "America/Denver,America/Phoenix", "address"),  # the Navajo Nation keeps DST
        ("+12135550123", "", "", "America/Los_Angeles", "area_code"),
        ("+13125550188", "", "", "America/Chicago", "area_code"),
    ],
)
def test_zone_from_zip_then_state_then_area_code(phone, zip_code, state, zones, source):
    made = contact(phone, zip_code=zip_code, state=state)

    assert (made.time_zone, made.time_zone_source) == (zones, source)


def test_a_propertyradar_contact_takes_the_zone_of_its_house():
    from tests.factories import PropertyContactFactory

    link = PropertyContactFactory(
        contact__zip_code="", contact__state="", contact__time_zone="", contact__time_zone_source="unknown",
        contact__phone="+16172000009", property__zip_code="33101", property__state="FL",
    )  # fmt: skip

    assign_time_zones()

    link.contact.refresh_from_db()
    assert link.contact.time_zone == "America/New_York"


def test_staff_override_the_zone_through_the_api_and_it_sticks(api_client):
    made = contact("+16172000010", zip_code="02169")

    response = api_client.patch(f"/api/contacts/{made.pk}", {"time_zone": "America/Denver"}, format="json")
    assign_time_zones()

    assert response.status_code == 200
    assert (response.json()["time_zone"], response.json()["time_zone_source"]) == ("America/Denver", "staff")
    made.refresh_from_db()
    assert made.time_zone == "America/Denver"
    bad = api_client.patch(f"/api/contacts/{made.pk}", {"time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "time_zone"]


# --- The user's examples ------------------------------------------------------------------


@pytest.mark.parametrize(("hour", "minute", "allowed"), [(8, 59, False), (9, 0, True), (17, 59, True), (18, 0, False)])
def test_a_617_number_at_the_edges_of_the_business_window(hour, minute, allowed):
    boston = contact("+16172000020", zip_code="02169")
    calendar = BusinessCalendar.from_settings()
    recipient = compliance.Recipient.of(boston.time_zone, "MA")

    assert compliance.may_send_at(calendar, eastern(*MONDAY, hour, minute), recipient) is allowed


def test_a_617_number_is_booked_from_nine_not_at_0859():
    boston = contact("+16172000021", zip_code="02169")

    assert booked_slot(campaign_with(boston), eastern(*MONDAY, 8, 59)) == eastern(*MONDAY, 9, 0)


def test_a_213_number_at_nine_eastern_is_held_until_eleven():
    los_angeles = contact("+12135550123")

    assert booked_slot(campaign_with(los_angeles), eastern(*MONDAY, 9, 0)) == eastern(*MONDAY, 11, 0)


def test_a_213_send_due_at_nine_is_held_by_the_dispatcher():
    los_angeles = contact("+12135550124")
    campaign = campaign_with(los_angeles)
    [send] = sends.book(
        campaign=campaign, number=SHOP_NUMBER, today=dt.date(*MONDAY), now=eastern(*MONDAY, 8, 0),
        slots=[(los_angeles.pk, "A", eastern(*MONDAY, 9, 0))],
    )  # fmt: skip

    with freeze_time(eastern(*MONDAY, 9, 0)):
        assert outbox.deliver_message(text_of(send).pk) == "held"


def test_an_unknown_zone_gets_the_strictest_window_across_us_zones():
    # A non-geographic 500 number: no zone, no state. Connecticut's law may apply, so it needs
    # written consent (tests/campaigns/test_lawful_basis.py) and Connecticut's hours.
    unknown = contact("+15005550100", **WRITTEN_CONSENT)

    assert (unknown.time_zone, unknown.time_zone_source) == ("", "unknown")
    # 09:00 in Honolulu (the strictest state's opening) and 20:00 leave 14:00–18:00 Eastern in January.
    assert booked_slot(campaign_with(unknown), eastern(*MONDAY, 9, 0)) == eastern(*MONDAY, 14, 0)


def test_a_florida_numbers_fourth_marketing_text_in_24_hours_is_held():
    miami = contact("+13055550100", zip_code="33101")
    campaigns = [campaign_with(miami, frequency_cap_days=0) for _ in range(4)]

    slots = [booked_slot(campaign, eastern(*MONDAY, 10, index)) for index, campaign in enumerate(campaigns)]

    assert all(slots[:3]) and slots[3] is None
    assert CampaignSend.objects.filter(contact=miami).count() == 3


def test_a_texas_number_has_no_state_cap():
    dallas = contact("+12145550100", zip_code="75201")
    campaigns = [campaign_with(dallas, frequency_cap_days=0) for _ in range(4)]

    assert all(booked_slot(campaign, eastern(*MONDAY, 10, i)) for i, campaign in enumerate(campaigns))


def test_stop_arriving_while_a_batch_is_dispatched_stops_the_rest_of_that_contacts_sends(_sms_outbox):
    person = contact("+16172000030", zip_code="02169")
    first, second = (campaign_with(person, frequency_cap_days=0) for _ in range(2))
    for campaign in (first, second):
        booked_slot(campaign, eastern(*MONDAY, 10, 0))
    one, two = CampaignSend.objects.order_by("scheduled_for")

    with freeze_time(one.scheduled_for):
        assert outbox.deliver_message(text_of(one).pk) == "sent"
        assert consent_intent("STOP") == Consent.OPT_OUT
        messaging_services.opt_out(contact=person, reason="Replied 'STOP'")
    with freeze_time(two.scheduled_for):
        assert outbox.deliver_message(text_of(two).pk) == "taken"  # already cancelled by the opt-out

    assert (text_of(two).status, text_of(two).error) == ("cancelled", "Not sent: the contact opted out")
    assert [sms.to_number for sms in _sms_outbox] == [person.phone]


def test_a_queued_help_reply_never_reaches_a_number_that_then_opted_out(_sms_outbox, settings):
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    person = contact("+16172000031", zip_code="02169")
    help_reply = outbox.queue_text(contact=person, body=settings.SMS_HELP_REPLY, kind="automatic")

    messaging_services.opt_out(contact=person, reason="Replied 'STOP'")

    assert outbox.deliver_message(help_reply.pk) == "taken"  # the opt-out already failed it
    help_reply.refresh_from_db()
    assert (help_reply.status, help_reply.error) == ("cancelled", "Not sent: the contact opted out")
    assert _sms_outbox == []


def test_the_dispatcher_itself_refuses_any_text_to_an_opted_out_number(_sms_outbox, settings):
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    person = contact("+16172000032", zip_code="02169")
    help_reply = outbox.queue_text(contact=person, body=settings.SMS_HELP_REPLY, kind="automatic")
    Contact.objects.filter(pk=person.pk).update(opted_out_at=eastern(*MONDAY, 9), opt_out_reason="STOP")

    assert outbox.deliver_message(help_reply.pk) == "cancelled"
    assert _sms_outbox == []


def test_a_daily_limit_above_the_providers_cap_is_refused_with_a_clear_error(api_client):
    response = api_client.post(
        "/api/campaigns", {"name": "Too much", "template_a": "Hi {name}", "daily_limit": 6500}, format="json"
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "daily_limit"] and "6000" in error["msg"]


# --- The property: nothing outside the window, over a cap, or to an opted-out number -------

PLACES = [  # (phone, zip, state)
    ("+16172001000", "02169", "MA"),
    ("+12135551000", "90012", "CA"),
    ("+13055551000", "33101", "FL"),
    ("+14055551000", "73102", "OK"),
    ("+13125551000", "60601", "IL"),
    ("+18085551000", "96813", "HI"),
    ("+19075551000", "99501", "AK"),
    ("+16025551000", "85004", "AZ"),
    ("+12135552000", "", ""),  # area code only
    ("+15005551000", "", ""),  # nothing known (a non-geographic 500 number)
]
TWO_YEARS = {"min_value": dt.datetime(2024, 1, 1), "max_value": dt.datetime(2025, 12, 31)}  # noqa: DTZ001 (naive for hypothesis)
DST_DAYS = [dt.date(2024, 3, 10), dt.date(2024, 3, 11), dt.date(2024, 11, 3), dt.date(2024, 11, 4)]
moments = st.one_of(
    st.builds(
        lambda day, minutes: dt.datetime.combine(day, dt.time(), tzinfo=EASTERN) + dt.timedelta(minutes=minutes),
        st.sampled_from(DST_DAYS),
        st.integers(0, 24 * 60 - 1),
    ),
    st.datetimes(**TWO_YEARS, timezones=st.just(dt.UTC)),
)
people = st.lists(
    st.tuples(st.integers(0, len(PLACES) - 1), st.sampled_from(["never", "before", "during"])), min_size=1, max_size=12
)


def local_hours_ok(moment: dt.datetime, zones: tuple[str, ...], state: str) -> bool:
    """An oracle written apart from the code under test: local clock readings, nothing shared."""
    eastern_time = moment.astimezone(EASTERN)
    if eastern_time.weekday() >= 5 or not dt.time(9) <= eastern_time.time() < dt.time(18):
        return False
    closing = dt.time(20) if state in ("MA", "FL", "OK", "") else dt.time(21)
    opening = dt.time(9) if state == "" else dt.time(8)  # Connecticut's 09:00 is the strictest
    every_zone = zones or ("Pacific/Honolulu", "America/Adak", "America/New_York")
    return all(opening <= moment.astimezone(ZoneInfo(zone)).time() < closing for zone in every_zone)


@pytest.mark.long
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=moments, audience=people, cap_days=st.sampled_from([0, 30]), dispatch_after=st.integers(0, 600))
def test_no_send_outside_the_window_over_a_cap_or_to_an_opted_out_number(start, audience, cap_days, dispatch_after):
    with transaction.atomic():
        contacts = []
        for index, (place, opt_out) in enumerate(audience):
            phone, zip_code, state = PLACES[place]
            phone = phone[:-3] + f"{index:03d}"
            opted_out_at = start - dt.timedelta(days=1) if opt_out == "before" else None
            contacts.append(
                (ContactFactory(phone=phone, zip_code=zip_code, state=state, time_zone="", time_zone_source="unknown",
                                opted_out_at=opted_out_at, opt_out_reason="STOP" if opted_out_at else "",
                                **WRITTEN_CONSENT), opt_out)
            )  # fmt: skip
        assign_time_zones()
        campaigns = [
            campaign_with(*[c for c, _ in contacts], frequency_cap_days=cap_days, daily_limit=125) for _ in range(4)
        ]
        for campaign in campaigns:
            booking.execute_campaign(campaign_id=campaign.pk, now=start)
        # Some opt out after booking, before their text would go.
        for person, opt_out in contacts:
            if opt_out == "during":
                messaging_services.opt_out(contact=person, reason="Replied 'STOP'")
        # The dispatcher runs at each slot, or late (then the send must be held, not sent).
        for send in CampaignSend.objects.filter(message__status="queued").order_by("scheduled_for"):
            with freeze_time(send.scheduled_for + dt.timedelta(seconds=dispatch_after)):
                outbox.deliver_message(text_of(send).pk)
        # A later run re-books what was held, into allowed slots only.
        later = start + dt.timedelta(hours=3)
        for campaign in campaigns:
            if Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE:
                booking.execute_campaign(campaign_id=campaign.pk, now=later)

        booked = list(CampaignSend.objects.select_related("contact", "compliance", "message"))
        for send in booked:
            person = send.contact
            zones = tuple(z for z in person.time_zone.split(",") if z)
            state = person.state or compliance_state(person)
            assert local_hours_ok(send.scheduled_for, zones, state), (send.scheduled_for, zones, state)
            record = send.compliance
            assert record.allowed_from <= send.scheduled_for < record.allowed_until
            assert all(record.booking_checks.values()) and set(record.booking_checks) == set(compliance.BOOKING_RULES)
            if send.message.status == "sent":
                sent_at = send.message.sent_at
                assert local_hours_ok(sent_at, zones, state), (sent_at, zones, state)
                assert sent_at - send.scheduled_for <= dt.timedelta(minutes=10)
                assert person.opted_out_at is None or person.opted_out_at > sent_at
                assert all(record.dispatch_checks.values())
            if record.dispatch_outcome:
                assert set(record.dispatch_checks) == set(compliance.DISPATCH_RULES)
        texted = [s for s in booked if s.message.status in compliance.TEXTED_STATUSES]
        for person, _ in contacts:
            if compliance_state(person) in ("FL", "OK"):
                assert sum(1 for s in texted if s.contact_id == person.pk) <= 3
        per_day: dict[dt.date, int] = {}
        for send in booked:
            if send.message.status != "cancelled":
                per_day[send.business_date] = per_day.get(send.business_date, 0) + 1
        assert all(count <= 125 for count in per_day.values())
        # One record per send, and the bookings released to be made again keep theirs, saying so.
        assert ComplianceRecord.objects.exclude(send=None).count() == len(booked)
        released = ComplianceRecord.objects.filter(send=None).values_list("dispatch_outcome", flat=True)
        assert set(released) <= {"released", "slot missed"}
        transaction.set_rollback(True)


def compliance_state(person: Contact) -> str:
    from contacts.timezones import recipient_state

    return recipient_state(person.state, "", person.phone)


def test_the_oracle_itself_refuses_what_it_should():
    monday_nine = eastern(*MONDAY, 9, 0)
    assert local_hours_ok(monday_nine, ("America/New_York",), "MA")
    assert not local_hours_ok(monday_nine, ("America/Los_Angeles",), "CA")  # 06:00 there
    assert not local_hours_ok(eastern(2024, 1, 13, 12, 0), ("America/New_York",), "MA")  # Saturday
    assert not local_hours_ok(eastern(*MONDAY, 12, 0), (), "")  # 07:00 in Honolulu


def test_the_compliance_log_answers_why_and_exports_as_csv(client):
    from django.urls import reverse

    from tests.factories import StaffUserFactory

    client.force_login(StaffUserFactory(is_superuser=True))
    los_angeles = contact("+12135550125")
    campaign = campaign_with(los_angeles)
    booked_slot(campaign, eastern(*MONDAY, 9, 0))
    send = CampaignSend.objects.get()
    with freeze_time(send.scheduled_for):
        outbox.deliver_message(text_of(send).pk)
    record = ComplianceRecord.objects.get(send=send)

    response = client.post(
        reverse("admin:campaigns_compliancerecord_changelist"),
        {"action": "export_csv", "_selected_action": [record.pk]},
    )

    body = b"".join(response.streaming_content).decode()
    header, row = body.strip().splitlines()
    assert header.startswith("send,campaign,contact phone,recipient zones")
    assert "+12135550125" in row and "America/Los_Angeles" in row and "CA" in row and "08:00-21:00" in row
    assert record.dispatch_outcome == "sent to provider"
    assert record.allowed_from == eastern(*MONDAY, 11, 0)


# --- One table of rules, one definition of the state cap (issue 17, findings 5 and 6) -----------


@pytest.fixture
def florida_cap(settings, tmp_path):
    """Florida's cap as a rules file states it: here 1 text in 48 hours, not the default 3 in 24."""

    def write(texts: int, hours: int) -> None:
        rules = json.loads(compliance.recipients.RULES_FILE.read_text())
        rules["state_caps"]["FL"] = {"texts": texts, "hours": hours}
        path = tmp_path / f"rules-{texts}-{hours}.json"  # a new file: the rules are cached by path
        path.write_text(json.dumps(rules))
        settings.RECIPIENT_RULES_FILE = str(path)

    return write


def test_booking_keeps_to_the_state_caps_own_hours_not_a_fixed_24(florida_cap):
    florida_cap(texts=1, hours=48)
    miami = contact("+13055550101", zip_code="33101")
    monday, tuesday = (campaign_with(miami, frequency_cap_days=0) for _ in range(2))

    assert booked_slot(monday, eastern(*MONDAY, 10, 0))
    # 30 hours later: outside 24 hours (booked before), inside Florida's 48 here.
    assert booked_slot(tuesday, eastern(2024, 1, 16, 16, 0)) is None


def test_a_text_whose_outcome_is_unknown_counts_against_the_cap_at_booking_and_at_dispatch(florida_cap):
    miami = contact("+13055550102", zip_code="33101")
    first, second, third = (campaign_with(miami, frequency_cap_days=0) for _ in range(3))
    florida_cap(texts=3, hours=24)
    booked_slot(first, eastern(*MONDAY, 10, 0))
    booked_slot(second, eastern(*MONDAY, 10, 5))
    Message.objects.filter(campaign=first).update(
        status="unknown", body="Hi", attempts=1, claimed_at=eastern(*MONDAY, 10, 0)
    )
    florida_cap(texts=1, hours=24)  # the rules file is tightened

    assert booked_slot(third, eastern(*MONDAY, 11, 0)) is None  # booking counts the unknown text

    held = CampaignSend.objects.get(campaign=second)
    with freeze_time(held.scheduled_for):
        assert outbox.deliver_message(text_of(held).pk) == "held"  # and so does dispatch
    held.compliance.refresh_from_db()
    assert held.compliance.dispatch_checks["state_cap"] is False


def test_a_member_over_their_state_cap_gives_the_days_one_place_to_the_next_in_their_window(florida_cap):
    florida_cap(texts=1, hours=24)
    capped, next_in_line = contact("+13055550103", zip_code="33101"), contact("+13055550104", zip_code="33101")
    booked_slot(campaign_with(capped, frequency_cap_days=0), eastern(*MONDAY, 9, 0))
    campaign = campaign_with(capped, next_in_line, frequency_cap_days=0, daily_limit=1)

    assert booked_slot(campaign, eastern(*MONDAY, 10, 0))
    assert list(CampaignSend.objects.filter(campaign=campaign).values_list("contact", flat=True)) == [next_in_line.pk]


def test_the_compliance_record_names_every_rule_of_the_table_with_what_was_evaluated():
    person = contact("+16172000031", zip_code="02169")
    campaign = campaign_with(person)
    booked_slot(campaign, eastern(*MONDAY, 10, 0))
    send = CampaignSend.objects.get()
    Contact.objects.filter(pk=person.pk).update(line_type=Contact.LineType.LANDLINE)  # learnt after booking

    with freeze_time(send.scheduled_for):
        assert outbox.deliver_message(text_of(send).pk) == "held"

    record = send.compliance
    record.refresh_from_db()
    assert set(record.booking_checks) == set(compliance.BOOKING_RULES) and all(record.booking_checks.values())
    assert set(record.dispatch_checks) == set(compliance.DISPATCH_RULES)
    assert record.dispatch_checks["mobile_number"] is False
    assert [name for name, passed in record.dispatch_checks.items() if not passed] == ["mobile_number"]
    assert {rule.name for rule in compliance.RULES} == set(compliance.BOOKING_RULES) | set(compliance.DISPATCH_RULES)
