"""Campaign invariants the database enforces, and what deleting a campaign takes with it."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from campaigns import services
from campaigns.api import CampaignFieldsSerializer
from campaigns.forms import CampaignForm
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from messaging.models import Message
from tests.factories import CampaignContactFactory, CampaignFactory, CampaignSendFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_to_delete_a_campaign_that_has_sends():
    campaign = CampaignFactory()
    members = CampaignContactFactory.create_batch(3, campaign=campaign)
    sends = [CampaignSendFactory(campaign=campaign, contact=m.contact) for m in members]
    Message.objects.filter(campaign_send=sends[0]).update(status="sent", body="Hi Mary")

    with pytest.raises(ProtectedError):
        campaign.delete()

    assert CampaignSend.objects.filter(campaign=campaign).count() == 3
    assert CampaignContact.objects.filter(campaign=campaign).count() == 3


def test_deleting_a_campaign_that_never_booked_a_text_takes_its_memberships_not_contacts():
    campaign = CampaignFactory()
    other = CampaignFactory()
    members = CampaignContactFactory.create_batch(3, campaign=campaign)
    kept_member = CampaignContactFactory(campaign=other, contact=members[0].contact)

    campaign.delete()

    assert not CampaignContact.objects.filter(campaign_id=campaign.id).exists()
    assert Contact.objects.count() == 3
    assert CampaignContact.objects.get() == kept_member


def test_a_contact_is_in_a_campaign_once():
    member = CampaignContactFactory()

    with pytest.raises(IntegrityError, match="campaign_contact_unique"):
        CampaignContactFactory(campaign=member.campaign, contact=member.contact)


def test_a_contact_gets_one_send_per_campaign():
    send = CampaignSendFactory()

    with pytest.raises(IntegrityError, match="message_one_live_campaign_text_per_member"):
        CampaignSendFactory(campaign=send.campaign, contact=send.contact)


@pytest.mark.parametrize("daily_limit", [0, 6001])
def test_daily_limit_outside_1_to_6000_is_refused(daily_limit):
    with pytest.raises(IntegrityError, match="campaign_daily_limit_range"):
        CampaignFactory(daily_limit=daily_limit)


def test_an_unknown_status_is_refused():
    with pytest.raises(IntegrityError, match="campaign_status_valid"):
        CampaignFactory(status="running")


def test_a_winner_needs_the_time_it_was_declared():
    with pytest.raises(IntegrityError, match="campaign_winner_has_time"), transaction.atomic():
        CampaignFactory(winner="B")
    assert CampaignFactory(winner="B", winner_declared_at=timezone.now()).winner == "B"


def test_an_ineligible_member_must_say_why():
    with pytest.raises(IntegrityError, match="campaign_contact_ineligible_has_reason"):
        CampaignContactFactory(status=CampaignContact.Status.INELIGIBLE)


def test_a_failed_campaign_text_stays_on_record_beside_the_retry():
    send = CampaignSendFactory()
    Message.objects.filter(campaign_send=send).update(status="failed", body="Hi", error="Invalid 'to' number")

    retry = CampaignSendFactory(campaign=send.campaign, contact=send.contact)

    assert (
        list(Message.objects.filter(campaign=send.campaign).values_list("status", flat=True).order_by("id"))
        == [
            "failed",
            "queued",
        ]
        and retry.message.campaign_send == retry
    )


def test_no_text_goes_without_its_words():
    with pytest.raises(IntegrityError, match="message_outbound_written_before_it_goes"):
        MessageFactory(body="", status="sent")


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        ("draft", {"scheduled", "cancelled"}),
        ("scheduled", {"draft", "active", "cancelled"}),
        ("active", {"paused", "completed", "cancelled"}),
        ("paused", {"active", "completed", "cancelled"}),
        ("completed", set()),
        ("cancelled", set()),
    ],
)
def test_lifecycle_transitions(current, allowed):
    campaign = Campaign(status=current)

    assert {status for status in Campaign.Status.values if campaign.can_transition_to(status)} == allowed


def test_the_api_form_and_services_edit_the_same_campaign_fields():
    assert set(CampaignFieldsSerializer().fields) == set(Campaign.EDITABLE_FIELDS) == services.EDITABLE_FIELDS
    assert set(CampaignForm.Meta.fields) == set(Campaign.EDITABLE_FIELDS) - {"starts_at"}
