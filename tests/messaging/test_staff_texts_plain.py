"""A staff text is billed like any other: it goes plain, from the conversation page and the API,
and staff are shown what was replaced; what has no plain equivalent stays."""

import pytest
from django.urls import reverse

from messaging.models import Message
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CURLY = "We’ll be there Tuesday – 9am… bring the dog inside please, the crew needs the side gate open."


@pytest.fixture(autouse=True)
def _shop_number(settings):
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"


def test_the_thread_sends_it_plain_and_says_what_it_saved(owner_pages):
    contact = ContactFactory()

    response = owner_pages.post(reverse("messaging:thread", args=[contact.pk]), {"body": CURLY}, follow=True)

    sent = Message.objects.get(direction="outbound")
    assert (
        sent.body == "We'll be there Tuesday - 9am... bring the dog inside please, the crew needs the side gate open."
    )
    assert sent.segments == 1
    page = response.content.decode()
    assert "Replaced 1 curly apostrophe, 1 long dash and 1 ellipsis with plain ones: 1 segment instead of 2." in page


def test_an_emoji_stays_and_nothing_is_said_when_nothing_was_replaced(owner_pages):
    contact = ContactFactory()

    response = owner_pages.post(reverse("messaging:thread", args=[contact.pk]), {"body": "See you 👍"}, follow=True)

    assert Message.objects.get(direction="outbound").body == "See you 👍"
    assert "instead of" not in response.content.decode() and "Replaced" not in response.content.decode()


def test_the_api_sends_it_plain_and_says_what_it_replaced(api_client):
    contact = ContactFactory()

    response = api_client.post(f"/api/contacts/{contact.pk}/messages", {"body": CURLY}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["body"] == Message.objects.get(pk=body["id"]).body
    assert "’" not in body["body"]
    assert body["normalised"]["segments_before"] == 2 and body["normalised"]["segments_after"] == 1
    assert {item["kind"] for item in body["normalised"]["replacements"]} == {
        "curly apostrophe",
        "long dash",
        "ellipsis",
    }
    plain = api_client.post(f"/api/contacts/{contact.pk}/messages", {"body": "Plain words"}, format="json")
    assert plain.json()["normalised"] is None
