"""What the search reads, kept right by every write (contacts/search_text.py): the import, an edit,
a house linked or unlinked, a house's address changed (the upgrade: tests/contacts/test_migrations.py);
and the trigram indexes that serve it on PostgreSQL."""

import pytest
from django.db import connection
from django.urls import reverse

from contacts import services
from contacts.models import Contact, Property, PropertyContact
from contacts.selectors import contact_search
from tests.contacts.csv_files import propertyradar_csv
from tests.contacts.test_import_pipeline import HOUSEHOLDS, run_import
from tests.factories import ContactFactory, PropertyContactFactory, PropertyFactory

pytestmark = pytest.mark.django_db

MARY = "+16175550101"  # on 12 Elm St (her own address, from her first line) and 9 Sea St
ANN = "+17815550103"


def phones(query: str) -> set[str]:
    return set(contact_search(query=query).values_list("phone", flat=True))


def test_an_import_gives_each_new_contact_every_house_the_file_names_for_it():
    run_import(propertyradar_csv(HOUSEHOLDS))

    assert phones("9 Sea St") == {MARY}  # her second house: only its link says she lives there
    assert phones("Sea St 02169") == {MARY}
    houses = Contact.objects.get(phone=MARY).house_addresses
    assert houses.split("\x1f") == ["12 Elm St", "Quincy", "9 Sea St", "Quincy"]


def test_a_later_import_that_moves_a_house_or_links_one_to_a_stored_contact_is_searched():
    run_import(propertyradar_csv(HOUSEHOLDS))
    later = [
        # The same house (its APN) at a corrected address, in another ZIP.
        {"APN": "RAND-000003-B", "Address": "9 SEAVIEW AVE", "City": "QUINCY", "ZIP": "02171",
         "Primary Name": "SEAN MCCARTHY", "Primary Mobile Phone1": "617-555-0101"},
        # Ann, stored already, on a house of her own.
        {"APN": "RAND-000007-B", "Address": "20 BAY RD", "City": "WEYMOUTH", "ZIP": "02188",
         "Primary Name": "ANN O'BRIEN", "Primary Mobile Phone1": "781-555-0103"},
    ]  # fmt: skip

    report = run_import(propertyradar_csv(later))

    assert (report.contacts_created, report.properties_updated, report.properties_created) == (0, 1, 1)
    assert phones("Seaview") == {MARY} and phones("SeaSt") == set()
    assert phones("02171") == {MARY}
    assert phones("Bay Rd Weymouth") == {ANN} and phones("02188") == {ANN}


def test_reimporting_the_same_file_rewrites_no_contact():
    run_import(propertyradar_csv(HOUSEHOLDS))
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text::bigint FROM contacts_contact ORDER BY id")
        before = cursor.fetchall()

    run_import(propertyradar_csv(HOUSEHOLDS))

    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text::bigint FROM contacts_contact ORDER BY id")
        assert cursor.fetchall() == before


def test_an_edit_of_the_name_or_address_is_searched_at_once():
    nora = ContactFactory(first_name="Nora", last_name="Quinn", email="", address="1 Elm St", city="Quincy")

    services.update_contact(contact=nora, last_name="O'Connor", address="44 Hancock St")

    assert phones("oconnor hancock") == {nora.phone}
    assert phones("Quinn") == set() and phones("Elm") == set()


def test_a_house_linked_moved_or_unlinked_is_searched_at_once():
    nora = ContactFactory(first_name="Nora", last_name="Quinn", email="", address="1 Elm St", zip_code="02169")
    house = PropertyFactory(address="9 Wollaston Ave", city="Quincy", zip_code="02170")

    link = PropertyContactFactory(contact=nora, property=house)
    assert phones("Wollaston") == {nora.phone} and phones("02170") == {nora.phone}

    house.address, house.zip_code = "12 Beach St", "02171"
    house.save()
    assert phones("Wollaston") == set() and phones("Beach St") == {nora.phone} and phones("02171") == {nora.phone}

    other = ContactFactory(first_name="Other", last_name="Walsh", email="", address="")
    link.contact = other
    link.save()
    assert phones("Beach St") == {other.phone}

    link.delete()
    assert phones("Beach St") == set() and phones("02171") == set()
    assert Contact.objects.get(pk=other.pk).house_addresses == ""


def test_houses_deleted_one_or_many_leave_their_contacts_search(admin_client):
    nora = ContactFactory(first_name="Nora", last_name="Quinn", email="", address="")
    houses = [PropertyFactory(address=f"{n} Beach St") for n in (1, 2, 3)]
    for house in houses:
        PropertyContactFactory(contact=nora, property=house)

    houses[0].delete()
    assert phones("1BeachSt") == set() and phones("2BeachSt") == {nora.phone}

    response = admin_client.post(
        reverse("admin:contacts_property_changelist"),
        {"action": "delete_selected", "_selected_action": [houses[1].pk, houses[2].pk], "post": "yes"},
    )

    assert response.status_code == 302 and not Property.objects.exists()
    assert phones("Beach St") == set()


def test_links_deleted_in_bulk_in_the_admin_leave_their_contacts_search(admin_client):
    nora = ContactFactory(first_name="Nora", last_name="Quinn", email="", address="")
    link = PropertyContactFactory(contact=nora, property=PropertyFactory(address="9 Wollaston Ave"))

    admin_client.post(
        reverse("admin:contacts_propertycontact_changelist"),
        {"action": "delete_selected", "_selected_action": [link.pk], "post": "yes"},
    )

    assert not PropertyContact.objects.exists() and phones("Wollaston") == set()


def test_a_word_is_not_found_across_two_fields_and_a_zip_only_from_its_start():
    nora = ContactFactory(first_name="Pat", last_name="O'Connor", email="", address="44 Hancock St", zip_code="02169")

    assert phones("Pat O'Connor") == {nora.phone}
    assert phones("patoconnor") == set()  # as before: each field is compared on its own
    assert phones("Pat 0216") == {nora.phone} and phones("Pat 169") == set()


def explained(query: str) -> str:
    """The plan for ``query``'s search, with every way to the rows closed but bitmap index scans:
    at a test's few rows the planner rightly prefers reading the table; this asks whether the
    index can serve the condition at all."""
    sql, params = contact_search(query=query).order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("oconnor", "contact_search_text_trgm"),
        ("Mc-Grath Hwy", "contact_search_text_trgm"),
        ("617-555-0123", "contact_phone_trgm"),
        ("02169", "contact_search_zip_codes_trgm"),
    ],
)
def test_a_trigram_index_serves_each_kind_of_search(query, index):
    ContactFactory.create_batch(3)

    assert f"Bitmap Index Scan on {index}" in explained(query)


def test_a_word_of_one_or_two_letters_is_still_found():
    nora = ContactFactory(first_name="Nora", last_name="Ng", email="", address="", city="")
    ContactFactory(first_name="Other", last_name="Walsh", email="", address="", city="")

    assert phones("Ng") == {nora.phone}  # no trigram to look up: read from the rows, newest first
    assert phones("Nora Ng") == {nora.phone}
