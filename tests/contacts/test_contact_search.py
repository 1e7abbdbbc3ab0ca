"""The contact search compares text by search key (contacts/search_key.py): the spellings people
use for one name find each other, on the page, in the export and in the API alike."""

import pytest

from contacts.models import Contact
from contacts.search_key import query_key, search_key
from contacts.selectors import contact_search
from tests.factories import ContactFactory, PropertyContactFactory, PropertyFactory

pytestmark = pytest.mark.django_db

IRISH = ["Oconnor", "O'Connor", "O’Connor", "O Connor", "O.Connor"]


def names(contacts) -> set[str]:
    return {contact.last_name or contact.first_name for contact in contacts}


@pytest.mark.parametrize("query", ["O'Connor", "O’Connor", "oconnor", "o'connor", "O‘CONNOR", "O.Connor"])
def test_every_spelling_of_oconnor_finds_every_stored_spelling(query):
    for last_name in IRISH:
        ContactFactory(first_name="Pat", last_name=last_name)
    ContactFactory(first_name="Pat", last_name="Connors", email="pat@example.com")

    assert names(contact_search(query=query)) == set(IRISH)


def test_o_connor_in_two_words_finds_every_oconnor():
    for last_name in IRISH:
        ContactFactory(first_name="Pat", last_name=last_name)
    ContactFactory(first_name="Pat", last_name="Walsh", email="pat@example.com")

    # Each word is looked for on its own, as "Mary Sullivan" needs: "O" and "Connor". So a
    # Connor with an "o" elsewhere in the record (pat@example.com) is found too.
    assert names(contact_search(query="O Connor")) == set(IRISH)


@pytest.mark.parametrize("query", ["Mary-Jane", "Mary Jane", "MaryJane", "mary–jane", "MARY-JANE"])
def test_every_spelling_of_mary_jane_finds_every_stored_spelling(query):
    for first_name in ("Mary-Jane", "Mary Jane", "MaryJane"):
        ContactFactory(first_name=first_name, last_name="", email="")
    ContactFactory(first_name="Mary", last_name="", email="", address="1 Elm St")

    assert names(contact_search(query=query)) == {"Mary-Jane", "Mary Jane", "MaryJane"}


def test_periods_and_spacing_in_streets_and_emails_do_not_matter():
    nora = ContactFactory(first_name="Nora", address="12 St. Agnes Rd.", email="nora.quinn@example.com")
    house = PropertyFactory(address="9 MC GRATH HWY", city="QUINCY")
    PropertyContactFactory(contact=nora, property=house)
    ContactFactory(first_name="Other", address="1 Elm St", email="other@example.com")

    for query in ("St Agnes", "stagnes rd", "noraquinn@", "McGrath Hwy", "Mc-Grath"):
        assert list(contact_search(query=query)) == [nora], query


def test_phone_digits_and_zip_codes_are_found_as_before():
    nora = ContactFactory(phone="+16175550123", zip_code="02171", first_name="Nora")
    ContactFactory(phone="+16175550199", zip_code="02186", first_name="Other")

    for query in ("617-555-0123", "(617) 555.0123", "5550123", "02171"):
        assert list(contact_search(query=query)) == [nora], query


def test_a_query_of_punctuation_alone_finds_no_one():
    ContactFactory(first_name="Mary-Jane")

    assert list(contact_search(query="-")) == []
    assert list(contact_search(query=" ' ")) == []


def test_the_api_searches_the_same_way(api_client):
    wanted = [ContactFactory(last_name=last_name).pk for last_name in IRISH]
    ContactFactory(last_name="Connors", first_name="Pat", email="pat@example.com")

    for query in ("O'Connor", "O’Connor", "oconnor"):
        response = api_client.get("/api/contacts", {"q": query})
        assert sorted(contact["id"] for contact in response.json()["results"]) == sorted(wanted), query


def test_the_search_key_in_sql_is_the_one_computed_in_python():
    spellings = ["O’Connor", "Mary-Jane", "St. Agnes\u00a0Rd", "D‘Arcy–Smith", "ÉLODIE"]
    for spelling in spellings:
        ContactFactory(first_name=spelling)

    stored = Contact.objects.annotate(key=search_key("first_name")).values_list("first_name", "key")

    assert {name: key for name, key in stored} == {spelling: query_key(spelling) for spelling in spellings}
    assert query_key("O’Connor") == "oconnor" and query_key("St. Agnes\u00a0Rd") == "stagnesrd"
