import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ContactFactory

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
