import pytest

from tests.factories import ContactFactory, InboundMessageFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_list_returns_messages_newest_first(api_client):
    sent = MessageFactory(body="Hi Mary, this is Attack-a-Crack.")
    reply = InboundMessageFactory(contact=sent.contact, body="Yes, how much?")

    response = api_client.get("/api/messages")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [m["id"] for m in results] == [reply.id, sent.id]
    assert results[0]["direction"] == "inbound"
    assert results[0]["body"] == "Yes, how much?"
    assert results[0]["contact"] == sent.contact.id
    assert results[1]["external_id"] == sent.external_id


def test_list_filters_by_contact(api_client):
    mary, john = ContactFactory(), ContactFactory()
    marys = MessageFactory.create_batch(2, contact=mary)
    MessageFactory(contact=john)

    response = api_client.get("/api/messages", {"contact": mary.id})

    assert {m["id"] for m in response.json()["results"]} == {m.id for m in marys}


@pytest.mark.parametrize("value", ["mary", "0", "-3", "1.5"])
def test_a_bad_contact_filter_is_422_naming_the_parameter(api_client, value):
    response = api_client.get("/api/messages", {"contact": value})

    assert response.status_code == 422
    assert [entry["loc"] for entry in response.json()["detail"]] == [["query", "contact"]]


def test_get_one_message(api_client):
    message = MessageFactory()

    response = api_client.get(f"/api/messages/{message.id}")

    assert response.status_code == 200
    assert response.json()["to_number"] == message.contact.phone


def test_unknown_message_is_404(api_client):
    assert api_client.get("/api/messages/987654").status_code == 404
