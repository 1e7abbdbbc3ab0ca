"""A steady tick decides nothing again, and every input a run reads makes the next run decide again.

The skip is proved two ways: a steady run issues no write and returns what the last run found; and
for each kind of change (a write to each watched table, a setting, time passing a boundary) the
next run reaches the decision a run without any skipping reaches (`decide_from_scratch`)."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from campaigns import audience, booking, services
from campaigns.models import Campaign, CampaignContact, CampaignDecision, CampaignSend, DecisionChange, Holiday
from contacts.importing import pipeline
from contacts.models import Contact, Property
from messaging import outbox
from messaging import services as messaging_services
from messaging.models import ConsentReview, Message
from tests.campaigns.conftest import add_audience, eastern
from tests.contacts.csv_files import propertyradar_csv
from tests.factories import (
    SHOP_NUMBER,
    CampaignFactory,
    CampaignSendFactory,
    InboundMessageFactory,
    MessageFactory,
    PropertyContactFactory,
)

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def run(campaign: Campaign, at: dt.datetime) -> booking.ExecutionResult:
    with freeze_time(at):
        return booking.execute_campaign(campaign_id=campaign.pk, now=at)


def state(campaign: Campaign) -> list[tuple]:
    """Everything a run decides, for comparing two runs."""
    members = campaign.memberships.order_by("contact_id").values_list(
        "contact_id", "status", "ineligible_reason", "queued_for"
    )
    sends = campaign.sends.order_by("contact_id").values_list("contact_id", "message__status", "scheduled_for")
    return [*members, *sends, Campaign.objects.get(pk=campaign.pk).status]


@pytest.fixture
def steady(db):
    """A campaign whose day is booked (its limit used): its next runs have nothing to do."""
    campaign = CampaignFactory(
        status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=2, template_b="", frequency_cap_days=30,
        prior_contact_policy=Campaign.PriorContactPolicy.FLAG,
    )  # fmt: skip
    add_audience(campaign, 6)
    run(campaign, MONDAY_10)  # books 2: it wrote, so the next run decides again
    run(campaign, MONDAY_10 + dt.timedelta(minutes=1))  # changes nothing: recorded
    assert CampaignDecision.objects.filter(campaign=campaign).exists()
    return campaign


def test_a_steady_run_writes_nothing_and_reports_what_the_last_run_found(steady):
    before = state(steady)
    last = run(steady, MONDAY_10 + dt.timedelta(minutes=1))

    with CaptureQueriesContext(connection) as queries:
        again = run(steady, MONDAY_10 + dt.timedelta(minutes=2))

    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("UPDATE", "INSERT", "DELETE")]
    assert writes == [] and len(queries) <= 10
    assert again == last
    assert (again.sent, again.queued, again.booked_today) == (0, 4, 2)
    assert state(steady) == before


def change_and_expect_a_decision(campaign: Campaign, change, at: dt.datetime) -> None:
    """After ``change``, the next run decides exactly what deciding from scratch decides."""
    change(campaign)
    run(campaign, at)
    skipped_or_not = state(campaign)
    CampaignDecision.objects.all().delete()
    run(campaign, at)
    assert state(campaign) == skipped_or_not


def opt_out(campaign):
    waiting = campaign.memberships.filter(status=CampaignContact.Status.QUEUED).first()
    Contact.objects.filter(pk=waiting.contact_id).update(opted_out_at=timezone.now(), opt_out_reason="STOP")


def inbound_text(campaign):
    InboundMessageFactory(contact=campaign.memberships.filter(status="queued").first().contact)


def consent_review(campaign):
    contact = campaign.memberships.filter(status="queued").first().contact
    message = InboundMessageFactory(contact=contact, body="please no more")
    ConsentReview.objects.create(contact=contact, message=message, created_at=timezone.now())


def new_member(campaign):
    add_audience(campaign, 1)


def another_campaigns_text(campaign):
    contact = campaign.memberships.filter(status="queued").first().contact
    CampaignSendFactory(contact=contact, campaign=CampaignFactory(), sent_at=MONDAY_10, scheduled_for=MONDAY_10,
                        status="sent")  # fmt: skip


def landline(campaign):
    Contact.objects.filter(pk=campaign.memberships.filter(status="queued").first().contact_id).update(
        line_type=Contact.LineType.LANDLINE
    )


def holiday_tomorrow(campaign):
    Holiday.objects.create(date=dt.date(2024, 1, 16), name="Snow day")


def cancelled_send(campaign):
    send = booked(campaign)
    Message.objects.filter(campaign_send=send).update(status="cancelled", error="Not sent: Opted out")


def outbound_text_only(campaign):
    # Not an input: a delivery or a staff text changes nothing a run decides from.
    MessageFactory(contact=campaign.memberships.first().contact)


def booked(campaign) -> CampaignSend:
    return campaign.sends.filter(message__status="queued").order_by("scheduled_for").first()


def waiting(campaign) -> CampaignContact:
    return campaign.memberships.filter(status=CampaignContact.Status.QUEUED).order_by("id").first()


def text_goes_out(campaign):
    send = booked(campaign)
    with freeze_time(send.scheduled_for):
        assert outbox.deliver_message(send.message.pk) == "sent"


def texted_member_replies(campaign):
    text_goes_out(campaign)
    InboundMessageFactory(contact=campaign.sends.get(message__status="sent").contact, body="How much?")


def booked_member_opts_out(campaign):
    # Their booked text is cancelled: a place in today's limit comes free.
    messaging_services.opt_out(contact=booked(campaign).contact, reason="Replied 'STOP'")


def waiting_member_opts_out(campaign):
    messaging_services.opt_out(contact=waiting(campaign).contact, reason="Replied 'Please stop'")


def flagged_member_approved(campaign):
    inbound_text(campaign)
    run(campaign, MONDAY_10 + dt.timedelta(minutes=2))
    audience.approve_flagged_member(member=campaign.memberships.get(status=CampaignContact.Status.FLAGGED))


def possible_opt_out_decided(campaign):
    consent_review(campaign)
    run(campaign, MONDAY_10 + dt.timedelta(minutes=2))
    messaging_services.decide_review(review=ConsentReview.objects.get(decision=""), opted_out=False)


def member_removed(campaign):
    waiting(campaign).delete()


def moves_to_california(campaign):
    # Their window opens three hours later: the forecast for their day moves with it.
    Contact.objects.filter(pk=waiting(campaign).contact_id).update(
        state="CA", zip_code="90001", time_zone="America/Los_Angeles"
    )


def house_in_florida(campaign):
    contact = waiting(campaign).contact
    Contact.objects.filter(pk=contact.pk).update(state="", time_zone="America/New_York")
    PropertyContactFactory(contact=contact, property__state="FL")


def house_changes_state(campaign):
    contact = waiting(campaign).contact
    Contact.objects.filter(pk=contact.pk).update(state="", time_zone="America/Los_Angeles")
    link = PropertyContactFactory(contact=contact, property__state="MA")
    run(campaign, MONDAY_10 + dt.timedelta(minutes=2))
    Property.objects.filter(pk=link.property_id).update(state="CA")


def limit_raised(campaign):
    services.update_campaign(campaign=Campaign.objects.get(pk=campaign.pk), daily_limit=3)


def paused_and_resumed(campaign):
    services.pause_campaign(campaign=Campaign.objects.get(pk=campaign.pk))
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.ACTIVE)


@pytest.mark.parametrize(
    "change",
    [opt_out, inbound_text, consent_review, new_member, another_campaigns_text, landline, holiday_tomorrow,
     cancelled_send, outbound_text_only, text_goes_out, texted_member_replies, booked_member_opts_out,
     waiting_member_opts_out, flagged_member_approved, possible_opt_out_decided, member_removed,
     moves_to_california, house_in_florida, house_changes_state, limit_raised, paused_and_resumed],
)  # fmt: skip
def test_each_input_a_run_reads_leads_to_the_decision_a_fresh_run_makes(steady, change):
    change_and_expect_a_decision(steady, change, MONDAY_10 + dt.timedelta(minutes=3))


def test_a_write_to_an_input_is_seen_by_the_next_run(steady):
    opt_out(steady)

    run(steady, MONDAY_10 + dt.timedelta(minutes=3))

    assert steady.memberships.filter(ineligible_reason="Opted out").count() == 1


def test_a_text_that_missed_its_slot_is_released_when_the_time_comes(steady):
    first_slot = booked(steady).scheduled_for
    late = first_slot + dt.timedelta(minutes=11)

    result = run(steady, late)

    assert result.rebooked == 1


def test_a_setting_that_changes_makes_the_next_run_decide_again(steady, settings):
    def days_forecast() -> int:
        return steady.memberships.filter(status="queued").values("queued_for").distinct().count()

    assert days_forecast() == 2  # four waiting, two a day
    settings.SMS_DAILY_LIMIT_PER_NUMBER = 1

    run(steady, MONDAY_10 + dt.timedelta(minutes=3))

    assert days_forecast() == 4  # one a day now


def test_the_next_day_decides_again(steady):
    tuesday = eastern(2024, 1, 16, 10, 0)

    result = run(steady, tuesday)

    assert result.sent == 2 and result.business_date == dt.date(2024, 1, 16)


def test_a_member_kept_out_by_the_frequency_cap_is_let_in_when_the_other_text_ages_out(db):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=1, template_b="",
                               frequency_cap_days=1)  # fmt: skip
    capped, _, _ = add_audience(campaign, 3)  # one booked today, one waiting for tomorrow
    texted_at = MONDAY_10 - dt.timedelta(hours=23)
    CampaignSendFactory(contact=capped, campaign=CampaignFactory(), status="sent",
                        sent_at=texted_at, scheduled_for=texted_at)  # fmt: skip
    run(campaign, MONDAY_10)
    Message.objects.filter(campaign=campaign).update(status="sent", sent_at=MONDAY_10, body="Hi", attempts=1)  # sent
    run(campaign, MONDAY_10 + dt.timedelta(minutes=1))
    decision = CampaignDecision.objects.get(campaign=campaign)
    assert decision.valid_until == texted_at + dt.timedelta(days=1)  # 11:00, before the window closes
    assert CampaignContact.objects.get(campaign=campaign, contact=capped).status == CampaignContact.Status.INELIGIBLE

    run(campaign, texted_at + dt.timedelta(days=1, minutes=1))

    member = CampaignContact.objects.get(campaign=campaign, contact=capped)
    assert (member.status, member.ineligible_reason) == (CampaignContact.Status.QUEUED, "")


def test_a_campaign_added_to_while_its_run_is_skipped_books_the_new_member(steady):
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=2)):
        audience.add_contacts_by_id(campaign=steady, contact_ids=[Contact.objects.create(phone="+16175559999").pk])

    run(steady, eastern(2024, 1, 16, 10, 0))

    assert steady.memberships.get(contact__phone="+16175559999").status in ("scheduled", "queued")


@pytest.fixture(params=["in replication mode", "by a role that may not use it"])
def importing_role(request):
    with connection.cursor() as cursor:
        if request.param != "in replication mode":
            # Without replication mode the contacts' row triggers would fire: the import's flag
            # turns them off. Created and dropped with the test's transaction.
            cursor.execute("CREATE ROLE importer_without_replication_rights")
            cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO importer_without_replication_rights")
            cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO importer_without_replication_rights")
            cursor.execute("SET ROLE importer_without_replication_rights")
        yield
        cursor.execute("RESET ROLE")


def test_an_import_is_logged_as_a_few_changes_to_every_member_not_a_row_each(steady, importing_role):
    stored = Contact.objects.first()
    already = DecisionChange.objects.count()
    rows = [
        {
            "APN": f"RAND-{n}",
            "Address": f"{n} OAK ST",
            "City": "QUINCY",
            "ZIP": "02169",
            "Primary Name": "PAT WALSH",
            "Primary Mobile Phone1": f"617-555-{1000 + n}",
        }
        for n in range(40)
    ]
    rows.append({"APN": "RAND-X", "Address": "2 ELM ST", "City": "QUINCY", "ZIP": "02169",
                 "Primary Name": "AN UPDATE", "Primary Mobile Phone1": stored.phone})  # fmt: skip

    report = pipeline.import_contacts(file=io.BytesIO(propertyradar_csv(rows)), file_name="list.csv")
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")

    assert (report.contacts_created, report.properties_created) == (40, 41)
    logged = list(DecisionChange.objects.order_by("seq").values_list("contact_id", "campaign_id")[already:])
    # One for each statement that wrote the contacts' tables, each a change to every member.
    assert logged == [(None, None)] * len(logged) and 1 <= len(logged) <= 8
    change_and_expect_a_decision(steady, lambda campaign: None, MONDAY_10 + dt.timedelta(minutes=3))


def test_a_run_after_one_text_goes_out_decides_that_member_alone(steady):
    other = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, daily_limit=2, template_b="")
    audience.add_contacts_by_id(
        campaign=other, contact_ids=list(steady.memberships.values_list("contact_id", flat=True))
    )
    run(other, MONDAY_10 + dt.timedelta(minutes=1))
    run(other, MONDAY_10 + dt.timedelta(minutes=1))
    text_goes_out(steady)

    with CaptureQueriesContext(connection) as queries:
        run(other, MONDAY_10 + dt.timedelta(minutes=3))

    sqls = [q["sql"] for q in queries]
    # The queue read (waiting_members) joins each member's contact for its zone: not done.
    assert not [sql for sql in sqls if '"contacts_contact"."time_zone"' in sql]
    refreshed = [sql for sql in sqls if sql.startswith('UPDATE "campaigns_campaigncontact"')]
    assert len(refreshed) == 1 and '"contact_id" IN (' in refreshed[0]
    assert CampaignDecision.objects.get(campaign=other).seen_through == DecisionChange.objects.latest("seq").seq
