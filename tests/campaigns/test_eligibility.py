"""Eligibility is decided each time the campaign runs, and ineligible members keep their reason."""

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from campaigns import audience, booking, sends
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from contacts.not_texted import Reason
from messaging import outbox
from messaging import services as messaging_services
from tests.campaigns.conftest import add_audience, eastern, text_of, texts_went_out
from tests.factories import SHOP_NUMBER, CampaignFactory, CampaignSendFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def run(campaign: Campaign, at: dt.datetime = MONDAY_10) -> booking.ExecutionResult:
    with freeze_time(at):
        return booking.execute_campaign(campaign_id=campaign.pk)


def member(campaign: Campaign, contact: Contact) -> CampaignContact:
    return CampaignContact.objects.get(campaign=campaign, contact=contact)


def test_opted_out_and_landline_members_are_kept_with_the_reason_and_not_texted(active_campaign):
    opted_out, landline, fine = add_audience(active_campaign, 3)
    Contact.objects.filter(pk=opted_out.pk).update(opted_out_at=timezone.now(), opt_out_reason="Replied STOP")
    Contact.objects.filter(pk=landline.pk).update(line_type=Contact.LineType.LANDLINE)

    result = run(active_campaign)

    assert (result.sent, result.ineligible) == (1, 2)
    assert member(active_campaign, opted_out).ineligible_reason == "Opted out"
    assert member(active_campaign, landline).ineligible_reason == "Not a mobile number (landline)"
    assert list(CampaignSend.objects.values_list("contact_id", flat=True)) == [fine.pk]


def test_opting_out_after_being_added_is_caught_at_the_next_run(active_campaign):
    [contact] = add_audience(active_campaign, 1)
    run(active_campaign, at=eastern(2024, 1, 13, 12, 0))  # Saturday: waiting for Monday
    assert member(active_campaign, contact).status == CampaignContact.Status.PENDING

    Contact.objects.filter(pk=contact.pk).update(opted_out_at=timezone.now(), opt_out_reason="Replied STOP")
    result = run(active_campaign)

    assert result.sent == 0
    assert member(active_campaign, contact).status == CampaignContact.Status.INELIGIBLE
    assert not CampaignSend.objects.exists()


def test_a_resubscribed_contact_becomes_eligible_again(active_campaign, staff_user):
    [contact] = add_audience(active_campaign, 1, opted_out_at=timezone.now(), opt_out_reason="STOP")
    add_audience(active_campaign, 1)
    monday = run(active_campaign)
    assert (monday.sent, monday.ineligible) == (1, 1)

    messaging_services.resubscribe(contact=contact, user=staff_user, reason="Asked us in person")

    assert member(active_campaign, contact).status == CampaignContact.Status.PENDING
    assert run(active_campaign, at=MONDAY_10 + dt.timedelta(minutes=5)).sent == 1
    assert member(active_campaign, contact).ineligible_reason == ""


def test_resubscribing_someone_who_never_opted_out_changes_nothing(active_campaign, staff_user):
    [contact] = add_audience(active_campaign, 1)

    assert messaging_services.resubscribe(contact=contact, user=staff_user, reason="Asked us twice") is False

    contact.refresh_from_db()
    assert (contact.opted_out_at, contact.opt_out_reason) == (None, "")
    assert member(active_campaign, contact).status == CampaignContact.Status.PENDING


@pytest.mark.parametrize(("days_ago", "eligible"), [(10, False), (29, False), (31, True)])
def test_the_frequency_cap_counts_texts_from_any_other_campaign(active_campaign, days_ago, eligible):
    [contact] = add_audience(active_campaign, 1)
    elsewhere = CampaignSendFactory(
        contact=contact,
        status="sent",
        sent_at=MONDAY_10 - dt.timedelta(days=days_ago),
        scheduled_for=MONDAY_10 - dt.timedelta(days=days_ago),
    )

    result = run(active_campaign)

    assert result.sent == (1 if eligible else 0)
    if not eligible:
        # Passed over, keeping its place, until the cap lets it go.
        passed_over = member(active_campaign, contact)
        assert passed_over.status == CampaignContact.Status.PENDING
        assert passed_over.held_because == Reason.TEXTED_BY_ANOTHER_CAMPAIGN
        texted_on = MONDAY_10 - dt.timedelta(days=days_ago)
        assert passed_over.ineligible_reason == (
            f"Texted by another campaign (“{elsewhere.campaign.name}”) on {texted_on:%b %-d, %Y}; "
            "this one waits 30 days after another's text"
        )
        cap_ends = MONDAY_10 + dt.timedelta(days=30 - days_ago)
        assert passed_over.not_before == cap_ends
        assert run(active_campaign, at=MONDAY_10 + dt.timedelta(minutes=5)).sent == 0
        reopens = BusinessCalendar.from_settings().next_opening(cap_ends)
        assert run(active_campaign, at=reopens + dt.timedelta(minutes=1)).sent == 1


def test_a_contact_booked_today_by_another_campaign_is_not_booked_twice(active_campaign):
    other = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER)
    contacts = add_audience(active_campaign, 3)
    audience.add_contacts_by_id(campaign=other, contact_ids=[c.pk for c in contacts])

    first, second = run(active_campaign), run(other)

    assert (first.sent, second.sent, second.queued) == (3, 0, 3)
    # Each waits, keeping its place, until 30 days after the slot the other campaign booked it in.
    slots = dict(CampaignSend.objects.filter(campaign=active_campaign).values_list("contact_id", "scheduled_for"))
    assert {
        (member.held_because, member.ineligible_reason, member.not_before - slots[member.contact_id])
        for member in other.memberships.all()
    } == {
        (
            Reason.TEXTED_BY_ANOTHER_CAMPAIGN,
            f"Texted by another campaign (“{active_campaign.name}”) on Jan 15, 2024; "
            "this one waits 30 days after another's text",
            dt.timedelta(days=30),
        )
    }


def test_a_failed_or_cancelled_text_elsewhere_does_not_count_against_the_cap(active_campaign):
    contacts = add_audience(active_campaign, 2)
    CampaignSendFactory(contact=contacts[0], status="failed", scheduled_for=MONDAY_10)
    CampaignSendFactory(contact=contacts[1], status="cancelled", cancelled_reason="Opted out", scheduled_for=MONDAY_10)

    assert run(active_campaign).sent == 2


def test_contacts_who_texted_us_before_are_skipped_by_default(active_campaign):
    contact, other = add_audience(active_campaign, 2)
    InboundMessageFactory(contact=contact)

    result = run(active_campaign)

    assert (result.sent, result.ineligible) == (1, 1)
    assert member(active_campaign, contact).ineligible_reason == "Has texted us before (campaign skips them)"


def test_or_flagged_for_review_and_texted_once_approved(active_campaign):
    active_campaign.prior_contact_policy = Campaign.PriorContactPolicy.FLAG
    active_campaign.save()
    contact, _ = add_audience(active_campaign, 2)
    InboundMessageFactory(contact=contact)

    assert (run(active_campaign).flagged, CampaignSend.objects.count()) == (1, 1)
    flagged = member(active_campaign, contact)
    assert flagged.status == CampaignContact.Status.FLAGGED

    audience.approve_flagged_member(member=flagged)
    again = run(active_campaign, at=MONDAY_10 + dt.timedelta(minutes=5))

    assert (again.sent, again.flagged) == (1, 0)
    assert CampaignSend.objects.filter(contact=contact).exists()


def test_a_flagged_member_holds_the_campaign_open(active_campaign):
    active_campaign.prior_contact_policy = Campaign.PriorContactPolicy.FLAG
    active_campaign.save()
    [contact] = add_audience(active_campaign, 1)
    InboundMessageFactory(contact=contact)

    assert run(active_campaign).status == Campaign.Status.ACTIVE


def test_a_text_another_campaign_sent_after_booking_holds_this_one_as_it_goes(active_campaign):
    [contact] = add_audience(active_campaign, 1)
    run(active_campaign)
    booked = CampaignSend.objects.get(campaign=active_campaign)
    other = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, frequency_cap_days=0)
    [elsewhere] = sends.book(
        campaign=other, number=SHOP_NUMBER, today=MONDAY_10.date(), now=MONDAY_10, slots=[(contact.pk, "A", MONDAY_10)]
    )
    texts_went_out(CampaignSend.objects.filter(pk=elsewhere.pk), at=MONDAY_10)

    with freeze_time(booked.scheduled_for):
        assert outbox.deliver_message(text_of(booked).pk) == "held"

    booked.compliance.refresh_from_db()
    assert booked.compliance.dispatch_checks["frequency_cap"] is False
