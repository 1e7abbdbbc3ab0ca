"""Conversations, a contact's thread, and one-to-one texts from staff through the API."""

import datetime as dt

import pytest
from django.utils import timezone

from messaging.models import Message
from tests.factories import ContactFactory, InboundMessageFactory, MessageFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def test_conversations_list_contacts_by_latest_text_with_unread_and_hide_campaign_only(api_client):
    talker = ContactFactory()
    InboundMessageFactory(contact=talker, created_at=NOW - dt.timedelta(hours=1))
    staff_only = ContactFactory()
    MessageFactory(contact=staff_only, created_at=NOW - dt.timedelta(hours=2))
    campaign_only = ContactFactory()
    MessageFactory(contact=campaign_only, kind=Message.Kind.CAMPAIGN, created_at=NOW)

    default = api_client.get("/api/conversations").json()["results"]
    with_campaigns = api_client.get("/api/conversations", {"include_campaign_sends": "true"}).json()["results"]

    assert [(row["id"], row["unread"]) for row in default] == [(talker.pk, True), (staff_only.pk, False)]
    assert [row["id"] for row in with_campaigns] == [campaign_only.pk, talker.pk, staff_only.pk]


def test_conversations_page_through_every_contact_once_in_order_of_latest_text(api_client):
    # Five contacts, each with older texts too, two of them with their latest texts at the same
    # instant: each must show up once, on the page of its latest text, whatever the page size.
    contacts = ContactFactory.create_batch(5)
    latest = [NOW - dt.timedelta(minutes=m) for m in (1, 2, 2, 3, 4)]
    for contact, at in zip(contacts, latest, strict=True):
        InboundMessageFactory(contact=contact, created_at=at - dt.timedelta(hours=5))
        MessageFactory(contact=contact, created_at=at - dt.timedelta(minutes=30))
        InboundMessageFactory(contact=contact, created_at=at)

    seen, url, pages = [], "/api/conversations?page_size=2", 0
    while url:
        body = api_client.get(url).json()
        seen += [(row["id"], row["last_message_at"]) for row in body["results"]]
        url, pages = body["next"], pages + 1

    # Newest first; at the same instant, the later-stored text first (contacts[2] before [1]).
    expected = [contacts[i].pk for i in (0, 2, 1, 3, 4)]
    assert [contact_id for contact_id, _ in seen] == expected
    assert pages == 3


def test_a_mangled_conversations_cursor_is_422_naming_it(api_client):
    response = api_client.get("/api/conversations", {"before": "yesterday"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "before"]


def test_reading_a_thread_marks_it_read(api_client):
    contact = ContactFactory()
    InboundMessageFactory(contact=contact, created_at=NOW - dt.timedelta(minutes=5))
    MessageFactory(contact=contact, created_at=NOW)

    thread = api_client.get(f"/api/contacts/{contact.pk}/messages").json()["results"]
    after = api_client.get("/api/conversations").json()["results"]

    assert [m["direction"] for m in thread] == ["outbound", "inbound"]
    assert after[0]["unread"] is False
    assert Message.objects.get(direction="inbound").read_at is not None


def test_staff_send_a_text_from_the_api(
    api_client, settings, staff_user, _sms_outbox, django_capture_on_commit_callbacks
):
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    contact = ContactFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(f"/api/contacts/{contact.pk}/messages", {"body": "Be there at 3"}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["status"], body["body"]) == ("staff", "queued", "Be there at 3")
    message = Message.objects.get()
    assert message.sent_by == staff_user and message.to_number == contact.phone
    assert len(callbacks) == 1  # handed to a worker once committed


def test_texting_an_opted_out_contact_is_409(api_client, settings):
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    contact = ContactFactory(opted_out_at=NOW, opt_out_reason="STOP")

    response = api_client.post(f"/api/contacts/{contact.pk}/messages", {"body": "Hi"}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"][0]["type"] == "cannot_text"
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "x" * 1601}])
def test_a_bad_text_is_422(api_client, body):
    contact = ContactFactory()

    response = api_client.post(f"/api/contacts/{contact.pk}/messages", body, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "body"]
