"""The send path under failure (issue 17): a refused text, a retry, a pause, an opt-out or a
deleted campaign never breaks a campaign, a cap or the record. Each test names the finding it
reproduces; each failed on the code before the fix."""

import datetime as dt
import itertools
import json

import pytest
import responses
from django.db.models import ProtectedError
from freezegun import freeze_time

from bench.fake_openphone import error_body, gateway_body
from campaigns import audience, booking, services
from campaigns.models import Campaign, CampaignContact, CampaignSend, ComplianceRecord
from contacts.models import Contact
from messaging import outbox
from messaging import services as messaging_services
from messaging.models import Message
from tests.campaigns.conftest import add_audience, eastern, expected_at
from tests.factories import SHOP_NUMBER, CampaignFactory
from tests.messaging.conftest import OPENPHONE, accepted

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def active_campaign(size: int, **fields) -> tuple[Campaign, list[Contact]]:
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="", **fields)
    return campaign, add_audience(campaign, size)


def run(campaign: Campaign, at: dt.datetime) -> booking.ExecutionResult:
    with freeze_time(at):
        return booking.execute_campaign(campaign_id=campaign.pk)


def deliver_all(at: dt.datetime) -> list[str]:
    with freeze_time(at):
        return [outbox.deliver_message(pk) for pk in outbox.due_texts(now=at).values_list("pk", flat=True)]


# --- Finding 1: one refused text stopped the campaign for good ---------------------------------


def test_a_refused_text_is_final_for_that_member_and_the_next_runs_carry_on(openphone):
    campaign, contacts = active_campaign(3)
    refused = contacts[1].phone

    ids = itertools.count()

    def answer(request):
        if json.loads(request.body)["to"] == [refused]:
            return 404, {"Content-Type": "application/json"}, json.dumps(error_body(404, "Invalid 'to' number"))
        return accepted(f"AC{next(ids)}")(request)

    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=answer)
    assert run(campaign, MONDAY_10).sent == 3
    assert sorted(deliver_all(MONDAY_10 + dt.timedelta(minutes=3))) == ["failed", "sent", "sent"]

    again = run(campaign, MONDAY_10 + dt.timedelta(minutes=5))  # raised IntegrityError before
    booking.run_campaigns(now=MONDAY_10 + dt.timedelta(minutes=6))

    assert again.sent == 0 and again.status == Campaign.Status.COMPLETED
    assert CampaignSend.objects.filter(contact=contacts[1]).count() == 1
    member = CampaignContact.objects.get(contact=contacts[1])
    assert member.status == "ineligible" and "Invalid 'to' number" in member.ineligible_reason


@pytest.fixture
def refused_once(openphone):
    """A campaign of ``size`` whose first text to the second member OpenPhone refused with a final
    4xx; every later request is accepted."""
    refused = {"phone": None, "left": 1}
    ids = itertools.count()

    def answer(request):
        if json.loads(request.body)["to"] == [refused["phone"]] and refused["left"]:
            refused["left"] -= 1
            return 404, {"Content-Type": "application/json"}, json.dumps(error_body(404, "Invalid 'to' number"))
        return accepted(f"AC{next(ids)}")(request)

    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=answer)

    def make(size: int, **fields) -> tuple[Campaign, list[Contact]]:
        campaign, contacts = active_campaign(size, **fields)
        refused["phone"] = contacts[1].phone
        run(campaign, MONDAY_10)
        deliver_all(MONDAY_10 + dt.timedelta(minutes=3))
        return campaign, contacts

    return make


def test_staff_may_try_a_failed_text_again_and_the_failed_attempt_stays_on_record(refused_once, api_client):
    campaign, contacts = refused_once(3)
    assert run(campaign, MONDAY_10 + dt.timedelta(minutes=5)).status == Campaign.Status.COMPLETED
    member = CampaignContact.objects.get(contact=contacts[1])

    with freeze_time(MONDAY_10 + dt.timedelta(minutes=6)):
        response = api_client.post(f"/api/campaigns/{campaign.pk}/members/{member.pk}/retry")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["ineligible_reason"]) == ("pending", "")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE  # reopened for the member tried again
    assert run(campaign, MONDAY_10 + dt.timedelta(minutes=7)).sent == 1
    assert deliver_all(MONDAY_10 + dt.timedelta(minutes=9)) == ["sent"]
    sends = CampaignSend.objects.filter(contact=contacts[1]).order_by("id")
    assert [send.message.status for send in sends] == ["failed", "sent"]
    assert ComplianceRecord.objects.filter(contact=contacts[1]).count() == 2
    member.refresh_from_db()
    assert member.status == CampaignContact.Status.SENT
    assert run(campaign, MONDAY_10 + dt.timedelta(minutes=11)).status == Campaign.Status.COMPLETED
    booking.run_campaigns(now=MONDAY_10 + dt.timedelta(minutes=12))
    assert sends.count() == 2  # never a third booking


def test_a_failed_attempt_still_uses_its_days_limit(refused_once):
    campaign, contacts = refused_once(3, daily_limit=3)
    member = CampaignContact.objects.get(contact=contacts[1])

    audience.retry_failed_member(member=member, now=MONDAY_10 + dt.timedelta(minutes=4))
    result = run(campaign, MONDAY_10 + dt.timedelta(minutes=5))

    assert (result.sent, result.queued, result.booked_today) == (0, 1, 3)
    member.refresh_from_db()
    assert member.status == CampaignContact.Status.PENDING
    assert {moment.date() for moment in expected_at(campaign, MONDAY_10 + dt.timedelta(minutes=5)).values()} == {
        dt.date(2024, 1, 16)
    }


@pytest.mark.parametrize("case", ["sent member", "opted out", "cancelled campaign", "retried already"])
def test_only_a_failed_member_of_a_campaign_still_sending_may_be_tried_again(refused_once, api_client, case):
    campaign, contacts = refused_once(3)
    member = CampaignContact.objects.get(contact=contacts[1])
    if case == "sent member":
        member = CampaignContact.objects.get(contact=contacts[0])
    elif case == "opted out":
        messaging_services.opt_out(contact=contacts[1], reason="Replied STOP")
    elif case == "cancelled campaign":
        services.cancel_campaign(campaign=campaign)
    else:
        audience.retry_failed_member(member=member)

    response = api_client.post(f"/api/campaigns/{campaign.pk}/members/{member.pk}/retry")

    assert response.status_code == 409 and response.json()["detail"][0]["type"] == "campaign_locked"
    assert CampaignSend.objects.filter(contact=member.contact).count() == 1


def test_the_admin_tries_the_failed_members_it_is_given_again(refused_once, admin_client):
    campaign, contacts = refused_once(3)
    members = CampaignContact.objects.filter(campaign=campaign)

    response = admin_client.post(
        "/admin/campaigns/campaigncontact/",
        {"action": "retry_failed", "_selected_action": [member.pk for member in members]},
        follow=True,
    )

    page = response.content.decode()
    assert "1 member(s) will be tried again." in page and "Only a member whose text failed" in page
    assert list(members.filter(status="pending").values_list("contact", flat=True)) == [contacts[1].pk]


# --- Finding 2: deleting a campaign erased the history the caps depend on ------------------------


def test_a_campaign_that_texted_anyone_cannot_be_deleted_by_any_entry_point(openphone, owner_client, admin_client):
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACone"))
    campaign, contacts = active_campaign(1)
    run(campaign, MONDAY_10)
    deliver_all(MONDAY_10 + dt.timedelta(minutes=1))

    response = owner_client.delete(f"/api/campaigns/{campaign.pk}")

    assert response.status_code == 409
    assert "1 text(s) and 1 compliance record(s) on record" in response.json()["detail"][0]["msg"]
    assert CampaignSend.objects.filter(campaign=campaign).count() == 1 and ComplianceRecord.objects.count() == 1
    admin_client.post(f"/admin/campaigns/campaign/{campaign.pk}/delete/", {"post": "yes"})
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    with pytest.raises(ProtectedError):
        Campaign.objects.filter(pk=campaign.pk).delete()

    # The next campaign still sees the text: no second text within the frequency cap.
    later, _ = active_campaign(0)
    audience.add_contacts_by_id(campaign=later, contact_ids=[contacts[0].pk])
    assert run(later, MONDAY_10 + dt.timedelta(minutes=3)).sent == 0
    assert CampaignContact.objects.get(campaign=later).ineligible_reason.startswith("Texted by another campaign")


def test_a_finished_campaign_is_archived_hidden_from_lists_and_kept(owner_client):
    campaign, _ = active_campaign(1)
    run(campaign, MONDAY_10)

    assert owner_client.post(f"/api/campaigns/{campaign.pk}/archive").status_code == 409  # active: cancel first
    services.cancel_campaign(campaign=campaign)
    archived = owner_client.post(f"/api/campaigns/{campaign.pk}/archive")

    assert archived.status_code == 200 and archived.json()["archived_at"]
    listed = [row["id"] for row in owner_client.get("/api/campaigns").json()["results"]]
    only_archived = [row["id"] for row in owner_client.get("/api/campaigns?archived=true").json()["results"]]
    assert campaign.pk not in listed and only_archived == [campaign.pk]
    assert CampaignSend.objects.filter(campaign=campaign).count() == 1


def test_a_draft_that_never_booked_a_text_can_still_be_deleted(owner_client):
    campaign = CampaignFactory()
    add_audience(campaign, 2)

    assert owner_client.delete(f"/api/campaigns/{campaign.pk}").status_code == 204
    assert not CampaignContact.objects.exists()


# --- Finding 3: an opt-out while a text waited for a retry left its send sending for ever ------


@pytest.fixture
def retrying(openphone) -> tuple[Campaign, Message]:
    """A campaign of one whose text OpenPhone rate-limited: it waits for a retry."""
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, json=gateway_body(), headers={"Retry-After": "30"})
    campaign, _ = active_campaign(1)
    run(campaign, MONDAY_10)
    assert deliver_all(MONDAY_10 + dt.timedelta(seconds=10)) == ["retrying"]
    return campaign, Message.objects.get()


def test_an_opt_out_while_a_retry_waits_cancels_its_send_and_the_campaign_completes(retrying):
    campaign, message = retrying

    messaging_services.opt_out(contact=message.contact, reason="Replied STOP")

    message.refresh_from_db()
    assert (message.status, message.error) == ("cancelled", "Not sent: the contact opted out")
    member = CampaignContact.objects.get()
    assert (member.status, member.ineligible_reason) == ("ineligible", "Opted out")
    assert run(campaign, MONDAY_10 + dt.timedelta(minutes=2)).status == Campaign.Status.COMPLETED


def test_cancelling_a_campaign_cancels_a_text_waiting_for_a_retry(retrying):
    campaign, message = retrying

    services.cancel_campaign(campaign=campaign)

    message.refresh_from_db()
    assert (message.status, message.error) == ("cancelled", "Not sent: Campaign cancelled")
    assert CampaignContact.objects.get().ineligible_reason == "Campaign cancelled"


def test_a_text_that_goes_on_its_retry_settles_its_member_and_completes_the_campaign(openphone, retrying):
    campaign, message = retrying
    openphone.remove(responses.POST, f"{OPENPHONE}/v1/messages")
    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=accepted("ACdone"))

    assert retry_at(message, MONDAY_10 + dt.timedelta(seconds=45)) == "sent"

    message.refresh_from_db()
    assert (message.status, message.external_id, message.attempts) == ("sent", "ACdone", 2)
    assert CampaignContact.objects.get().status == CampaignContact.Status.SENT  # its member with it
    # Nothing is left waiting on a text that is over: the next run completes the campaign.
    assert run(campaign, MONDAY_10 + dt.timedelta(minutes=1)).status == Campaign.Status.COMPLETED


# --- Finding 4: retries skipped the dispatch rules ------------------------------------------------


def retry_at(message: Message, at: dt.datetime) -> str:
    with freeze_time(at):
        return outbox.deliver_message(message.pk)


@pytest.mark.parametrize(
    ("change", "at", "failed_check"),
    [
        ("pause", MONDAY_10 + dt.timedelta(minutes=1), "campaign_active"),
        (None, MONDAY_10 + dt.timedelta(minutes=11), "on_time"),
        (None, eastern(2024, 1, 15, 18, 30), "business_window"),
    ],
)
def test_a_retry_that_can_no_longer_go_in_time_is_released_and_booked_again(
    openphone, retrying, change, at, failed_check
):
    campaign, message = retrying
    if change == "pause":
        services.pause_campaign(campaign=campaign)

    assert retry_at(message, at) == "released"  # went out late, or failed for good, before

    message.refresh_from_db()
    assert message.status == "cancelled" and failed_check in message.error and message.campaign_send is None
    assert message.campaign == campaign  # kept on record, for its attempt
    assert CampaignContact.objects.get().status == CampaignContact.Status.PENDING
    if change == "pause":
        services.resume_campaign(campaign=campaign, now=at + dt.timedelta(minutes=30))
    else:
        run(campaign, eastern(2024, 1, 16, 9, 0))
    [booked] = CampaignSend.objects.filter(message__status="queued")
    assert booked.scheduled_for > at
    assert not [call for call in openphone.calls if call.request.method == "POST"][1:]


def test_a_retry_after_longer_than_the_slot_allows_is_released_not_waited_for(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, json=gateway_body(), headers={"Retry-After": "3600"})
    campaign, _ = active_campaign(1)
    run(campaign, MONDAY_10)

    assert deliver_all(MONDAY_10 + dt.timedelta(seconds=10)) == ["released"]

    released = Message.objects.get()
    assert (released.status, released.campaign_send) == ("cancelled", None)
    assert not CampaignSend.objects.exists()  # the booking is released: the next run books them again
    assert CampaignContact.objects.get().status == CampaignContact.Status.PENDING
    assert run(campaign, MONDAY_10 + dt.timedelta(minutes=15)).sent == 1


# --- The record outlives the send --------------------------------------------------------------


def test_a_released_booking_keeps_its_compliance_record_and_the_rebooking_gets_its_own(openphone):
    openphone.post(f"{OPENPHONE}/v1/messages", status=429, json=gateway_body(), headers={"Retry-After": "3600"})
    campaign, [contact] = active_campaign(1)
    run(campaign, MONDAY_10)
    assert deliver_all(MONDAY_10 + dt.timedelta(seconds=10)) == ["released"]

    run(campaign, MONDAY_10 + dt.timedelta(minutes=15))  # booked the member again

    first, second = ComplianceRecord.objects.order_by("id")
    assert (first.send, first.campaign, first.contact) == (None, campaign, contact)
    assert first.dispatch_outcome == "released" and first.slot == MONDAY_10
    assert second.send == CampaignSend.objects.get() and second.slot >= MONDAY_10 + dt.timedelta(minutes=15)
    assert not second.dispatch_outcome


def test_a_booking_whose_slot_went_by_unsent_is_recorded_as_missed():
    campaign, _ = active_campaign(1)
    run(campaign, MONDAY_10)
    services.pause_campaign(campaign=campaign)

    services.resume_campaign(campaign=campaign, now=MONDAY_10 + dt.timedelta(hours=1))

    missed = ComplianceRecord.objects.order_by("id").first()
    assert missed.send is None and missed.dispatch_outcome == "slot missed"
    assert ComplianceRecord.objects.count() == 2


def test_a_campaign_whose_only_bookings_were_released_cannot_be_deleted(owner_client):
    campaign, _ = active_campaign(1)
    run(campaign, MONDAY_10)
    services.pause_campaign(campaign=campaign)
    CampaignSend.objects.filter(campaign=campaign).delete()  # its booking released, the record stays

    response = owner_client.delete(f"/api/campaigns/{campaign.pk}")

    assert response.status_code == 409
    assert "0 text(s) and 1 compliance record(s)" in response.json()["detail"][0]["msg"]
    assert ComplianceRecord.objects.filter(campaign=campaign).exists()


# --- Every run is isolated ---------------------------------------------------------------------


@pytest.fixture
def failing_bookings_for(db):
    """A database that refuses every send booked for one campaign: a failure nobody planned for,
    made in the database, not by patching our code."""
    from django.db import connection

    def install(campaign: Campaign) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                CREATE FUNCTION refuse_campaign_{campaign.pk}() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'disk full while booking'; END $$ LANGUAGE plpgsql;
                CREATE TRIGGER refuse_campaign_{campaign.pk} BEFORE INSERT ON campaigns_campaignsend
                FOR EACH ROW WHEN (NEW.campaign_id = {campaign.pk}) EXECUTE FUNCTION refuse_campaign_{campaign.pk}();
                """
            )

    return install


def test_a_run_that_fails_is_recorded_shown_and_never_stops_the_others_or_answers_500(
    failing_bookings_for, api_client, admin_client
):
    broken, _ = active_campaign(2, name="Broken one")
    healthy, _ = active_campaign(2, name="Healthy one")
    failing_bookings_for(broken)

    results = booking.run_campaigns(now=MONDAY_10)

    assert [result.campaign_id for result in results] == [healthy.pk]
    assert CampaignSend.objects.filter(campaign=healthy).count() == 2
    broken.refresh_from_db()
    assert "disk full while booking" in broken.last_run_error and broken.last_run_failed_at
    today = admin_client.get("/").content.decode()
    assert "The run of campaign &#x27;Broken one&#x27; failed" in today
    with freeze_time(MONDAY_10):
        response = api_client.post(f"/api/campaigns/{broken.pk}/execute")
    assert response.status_code == 409 and response.json()["detail"][0]["type"] == "run_failed"


def test_a_run_that_succeeds_again_clears_the_alert(failing_bookings_for, admin_client):
    from django.db import connection

    campaign, _ = active_campaign(1, name="Flaky one")
    failing_bookings_for(campaign)
    booking.run_campaigns(now=MONDAY_10)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER refuse_campaign_{campaign.pk} ON campaigns_campaignsend")

    booking.run_campaigns(now=MONDAY_10 + dt.timedelta(minutes=1))

    campaign.refresh_from_db()
    assert (campaign.last_run_failed_at, campaign.last_run_error) == (None, "")
    assert "The run of campaign &#x27;Flaky one&#x27;" not in admin_client.get("/").content.decode()
