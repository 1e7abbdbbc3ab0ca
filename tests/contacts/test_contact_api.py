import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Contact
from tests.factories import ContactFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_list_returns_contacts_newest_first(api_client):
    older = ContactFactory(first_name="Mary", last_name="Sullivan")
    newer = ContactFactory(first_name="John", last_name="Walsh")

    response = api_client.get("/api/contacts")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["id"] for c in results] == [newer.id, older.id]
    assert results[1]["phone"] == older.phone
    assert results[1]["first_name"] == "Mary"
    assert results[1]["opted_out"] is False


def test_list_pages_with_a_cursor_without_counting_the_table(api_client):
    ContactFactory.create_batch(5)

    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/contacts", {"page_size": 2})

    assert len(response.json()["results"]) == 2
    assert response.json()["next"]
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    seen = []
    url = "/api/contacts?page_size=2"
    while url:
        page = api_client.get(url).json()
        seen += [c["id"] for c in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("query", ["617-555-0123", "(617) 555 0123", "5550123", "+1 617 555 0123"])
def test_search_by_phone_in_any_spelling(api_client, query):
    wanted = ContactFactory(phone="+16175550123")
    ContactFactory(phone="+16175550199")

    response = api_client.get("/api/contacts", {"q": query})

    assert [c["id"] for c in response.json()["results"]] == [wanted.id]


@pytest.mark.parametrize("query", ["sullivan", "Mary Sull", "mary.s@example", "braintree"])
def test_search_by_name_email_or_city(api_client, query):
    wanted = ContactFactory(first_name="Mary", last_name="Sullivan", email="mary.s@example.com", city="Braintree")
    ContactFactory(first_name="John", last_name="Walsh", email="jw@example.com", city="Quincy")

    response = api_client.get("/api/contacts", {"q": query})

    assert [c["id"] for c in response.json()["results"]] == [wanted.id]


def test_get_one_contact_shows_its_opt_out_state(api_client):
    contact = ContactFactory(opted_out_at=timezone.now(), opt_out_reason="Replied STOP")

    response = api_client.get(f"/api/contacts/{contact.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == contact.phone
    assert body["opted_out"] is True
    assert body["opt_out_reason"] == "Replied STOP"


def test_unknown_contact_is_404(api_client):
    response = api_client.get("/api/contacts/424242")

    assert response.status_code == 404
    assert response.json()["detail"][0]["type"] == "not_found"


def test_a_query_with_a_nul_byte_is_422_not_a_crash(api_client):
    response = api_client.get("/api/contacts", {"q": "ab\x00c"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_a_bad_cursor_is_404_in_the_error_shape(api_client):
    response = api_client.get("/api/contacts", {"cursor": "garbage"})

    assert response.status_code == 404
    assert response.json()["detail"][0]["msg"] == "Invalid cursor"


def test_create_contact_stores_the_phone_in_e164(api_client):
    response = api_client.post(
        "/api/contacts", {"phone": "(617) 555-0123", "first_name": "Mary", "state": "ma"}, format="json"
    )

    assert response.status_code == 201
    stored = Contact.objects.get(pk=response.json()["id"])
    assert (stored.phone, stored.first_name, stored.state) == ("+16175550123", "Mary", "MA")


def test_creating_a_second_contact_with_the_same_phone_is_a_conflict(api_client):
    existing = ContactFactory(phone="+16175550123")

    response = api_client.post("/api/contacts", {"phone": "617-555-0123"}, format="json")

    assert response.status_code == 409
    assert str(existing.id) in response.json()["detail"][0]["msg"]
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "loc"),
    [({"phone": "555"}, ["body", "phone"]), ({"phone": "617-555-0123", "email": "nope"}, ["body", "email"]),
     ({}, ["body", "phone"]), ({"phone": "617-555-0123", "zip_code": "2169"}, ["body", "zip_code"])],
)  # fmt: skip
def test_invalid_contact_fields_are_422_by_field(api_client, payload, loc):
    response = api_client.post("/api/contacts", payload, format="json")

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]
    assert not Contact.objects.exists()


def test_update_contact_changes_only_what_is_sent(api_client):
    contact = ContactFactory(first_name="Mary", city="Quincy")

    response = api_client.patch(f"/api/contacts/{contact.id}", {"city": "Braintree"}, format="json")

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.first_name, contact.city) == ("Mary", "Braintree")


def test_changing_a_phone_to_one_taken_is_a_conflict(api_client):
    taken = ContactFactory(phone="+16175550123")
    contact = ContactFactory(phone="+16175550124")

    response = api_client.patch(f"/api/contacts/{contact.id}", {"phone": "617-555-0123"}, format="json")

    assert response.status_code == 409
    contact.refresh_from_db()
    assert contact.phone == "+16175550124"
    assert taken.phone == "+16175550123"


def test_delete_contact(api_client):
    contact = ContactFactory()

    assert api_client.delete(f"/api/contacts/{contact.id}").status_code == 204
    assert not Contact.objects.filter(pk=contact.id).exists()


def test_a_contact_with_texts_cannot_be_deleted(api_client):
    message = MessageFactory()

    response = api_client.delete(f"/api/contacts/{message.contact.id}")

    assert response.status_code == 409
    assert response.json()["detail"][0]["type"] == "contact_in_use"
    assert Contact.objects.filter(pk=message.contact.id).exists()


def test_filter_opted_out(api_client):
    out = ContactFactory(opted_out_at=timezone.now(), opt_out_reason="STOP")
    textable = ContactFactory()

    assert [c["id"] for c in api_client.get("/api/contacts", {"opted_out": "true"}).json()["results"]] == [out.id]
    assert [c["id"] for c in api_client.get("/api/contacts", {"opted_out": "false"}).json()["results"]] == [textable.id]


def test_export_is_a_csv_a_spreadsheet_cannot_run(owner_client):
    ContactFactory(phone="+16175550123", first_name='=HYPERLINK("http://evil")', last_name="-2+3", city="@SUM(A1)")

    response = owner_client.get("/api/contacts/export.csv")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="contacts.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["phone"] == "'+16175550123"
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["last_name"] == "'-2+3"
    assert rows[0]["city"] == "'@SUM(A1)"


def test_export_applies_the_search(owner_client):
    # Names and streets of their own: a made-up "Hamilton" or "Milton St" would match too.
    ContactFactory(city="Quincy", first_name="Mary", last_name="Walsh", address="1 Elm St")
    ContactFactory(city="Milton", first_name="John", last_name="Walsh", address="2 Elm St")

    response = owner_client.get("/api/contacts/export.csv", {"q": "milton"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["first_name"] for row in rows] == ["John"]
