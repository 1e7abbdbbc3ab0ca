"""Consent in people's own words (issue 22): a clear opt-out acts at once, a possible one waits
for a person and holds the contact from campaign texts meanwhile, and staff change consent from
the pages with a reason that the consent history keeps."""

import datetime as dt

import pytest
from freezegun import freeze_time

from campaigns import booking
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import OptOutEvent
from messaging import outbox, services
from messaging.models import ConsentReview, Message
from tests.campaigns.conftest import add_audience, eastern, text_of
from tests.factories import SHOP_NUMBER, CampaignFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def reply(contact, body: str, at: dt.datetime) -> Message:
    """An inbound text as webhook processing stores it, then what it means is acted on."""
    with freeze_time(at):
        message = InboundMessageFactory(contact=contact, body=body, created_at=at, status_changed_at=at)
        services.handle_keywords(message)
    return message


@pytest.fixture
def booked():
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="")
    [person] = add_audience(campaign, 1)
    booking.execute_campaign(campaign_id=campaign.pk, now=MONDAY_10 - dt.timedelta(minutes=30))
    return campaign, person, CampaignSend.objects.get()


@pytest.mark.parametrize(
    "text", ["Please stop", "stop please", "No more texts", "Take me off your list", "Don't text me again", "S T O P"]
)
def test_a_clear_opt_out_in_their_own_words_acts_at_once(booked, text):
    campaign, person, send = booked

    reply(person, text, MONDAY_10 - dt.timedelta(minutes=20))

    person.refresh_from_db()
    assert person.is_opted_out and person.opt_out_reason == f"Replied {text!r}"
    assert text_of(send).status == "cancelled"
    confirmations = Message.objects.filter(contact=person, kind=Message.Kind.OPT_OUT_CONFIRMATION)
    assert confirmations.count() == 1
    assert not ConsentReview.objects.exists()


def test_a_possible_opt_out_waits_for_a_person_and_holds_campaign_texts_meanwhile(booked, admin_client):
    campaign, person, send = booked

    message = reply(person, "Can you stop by Tuesday?", MONDAY_10 - dt.timedelta(minutes=20))
    # Staff already allowed this campaign to text people who wrote to us (its prior-contact rule).
    CampaignContact.objects.update(review_approved=True)

    person.refresh_from_db()
    assert not person.is_opted_out
    review = ConsentReview.objects.get()
    assert (review.message, review.decision) == (message, "")
    with freeze_time(send.scheduled_for):
        assert outbox.deliver_message(text_of(send).pk) == "held"
    send.refresh_from_db()
    assert send.compliance.dispatch_checks["consent_clear"] is False
    booking.execute_campaign(campaign_id=campaign.pk, now=MONDAY_10 + dt.timedelta(minutes=30))  # slot missed
    member = CampaignContact.objects.get()
    assert member.status == "flagged" and "may be an opt-out" in member.ineligible_reason
    assert not CampaignSend.objects.exists()  # released: its record stays, saying the slot was missed
    with freeze_time(MONDAY_10 + dt.timedelta(minutes=31)):
        today = admin_client.get("/").content.decode()
        thread = admin_client.get(f"/conversations/{person.pk}/").content.decode()
    assert "Possible opt-outs: a person decides" in today and "Can you stop by Tuesday?" in today
    assert "Possible opt-out: “Can you stop by Tuesday?”" in thread

    response = admin_client.post(
        f"/conversations/reviews/{review.pk}/decide", {"decision": "not_opt_out", "next": "/"}, follow=True
    )

    assert "Not an opt-out" in response.content.decode()
    review.refresh_from_db()
    assert review.decision == "not_opt_out" and review.decided_by.is_superuser and review.decided_at
    result = booking.execute_campaign(campaign_id=campaign.pk, now=MONDAY_10 + dt.timedelta(minutes=40))
    assert result.sent == 1  # texted after all
    assert admin_client.post(f"/conversations/reviews/{review.pk}/decide", {"decision": "opt_out"}).status_code == 302
    person.refresh_from_db()
    assert not person.is_opted_out  # a decided review is not decided again


def test_a_possible_opt_out_a_person_reads_as_one_opts_them_out_with_the_record(booked, admin_client):
    _, person, send = booked
    reply(person, "Wrong number", MONDAY_10 - dt.timedelta(minutes=20))
    review = ConsentReview.objects.get()

    admin_client.post(f"/conversations/reviews/{review.pk}/decide", {"decision": "opt_out"})

    person.refresh_from_db()
    assert person.is_opted_out and person.opt_out_reason == "Read as an opt-out: 'Wrong number'"
    event = OptOutEvent.objects.get(contact=person)
    assert event.created_by is not None and event.message == review.message
    assert Message.objects.filter(contact=person, kind=Message.Kind.OPT_OUT_CONFIRMATION).count() == 1
    assert text_of(send).status == "cancelled"


def test_a_stop_after_a_possible_opt_out_settles_it(booked):
    _, person, _ = booked
    reply(person, "Don't stop, I'm interested", MONDAY_10 - dt.timedelta(minutes=20))
    reply(person, "STOP", MONDAY_10 - dt.timedelta(minutes=19))

    review = ConsentReview.objects.get()
    assert review.decision == "opt_out" and review.decided_by is None


def test_staff_opt_a_contact_out_and_back_in_from_the_thread_with_a_reason(booked, admin_client):
    _, person, _ = booked
    thread = f"/conversations/{person.pk}/"

    refused = admin_client.post(
        f"/conversations/{person.pk}/consent", {"action": "opt_out", "reason": " "}, follow=True
    )
    person.refresh_from_db()
    assert not person.is_opted_out and "Say why" in refused.content.decode()

    admin_client.post(f"/conversations/{person.pk}/consent", {"action": "opt_out", "reason": "Asked by phone"})
    person.refresh_from_db()
    assert person.is_opted_out and person.opt_out_reason == "By staff: Asked by phone"
    page = admin_client.get(thread).content.decode()
    assert "(By staff: Asked by phone): texts cannot be sent" in page and "<fieldset disabled>" in page
    assert not Message.objects.filter(kind=Message.Kind.OPT_OUT_CONFIRMATION).exists()  # they did not text

    admin_client.post(
        f"/conversations/{person.pk}/consent",
        {"action": "opt_in", "reason": "Signed the estimate form", "next": thread},
    )
    person.refresh_from_db()
    assert not person.is_opted_out
    history = list(OptOutEvent.objects.filter(contact=person).order_by("id").values_list("kind", "reason"))
    assert history == [
        ("opt_out", "By staff: Asked by phone"),
        ("opt_in", "Re-subscribed by staff: Signed the estimate form"),
    ]
    contact_page = admin_client.get(f"/contacts/{person.pk}/").content.decode()
    assert "Re-subscribed by staff: Signed the estimate form" in contact_page and "Opt out, because" in contact_page


def test_the_consent_form_goes_back_only_to_this_site(booked, admin_client):
    _, person, _ = booked

    response = admin_client.post(
        f"/conversations/{person.pk}/consent",
        {"action": "opt_out", "reason": "Asked", "next": "https://evil.example/"},
    )

    assert response["Location"] == f"/conversations/{person.pk}/"
    person.refresh_from_db()
    assert person.is_opted_out
