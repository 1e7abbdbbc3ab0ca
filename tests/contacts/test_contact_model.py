"""The database itself refuses duplicate phones and malformed data, and a refusal loses nothing."""

import pytest
from django.db import IntegrityError, transaction

from contacts.models import Contact, Property, PropertyContact
from tests.factories import ContactFactory, PropertyContactFactory, PropertyFactory

pytestmark = pytest.mark.django_db


def test_a_second_contact_with_the_same_phone_raises_integrity_error():
    ContactFactory(phone="+16175550123", first_name="Mary")

    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(phone="+16175550123", first_name="John")

    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Mary"]


def test_a_failed_insert_rolls_back_its_whole_transaction_and_keeps_earlier_work():
    ContactFactory(phone="+16175550123")

    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(phone="+16175550124", first_name="Written first")
        Contact.objects.create(phone="+16175550123", first_name="Duplicate")

    assert not Contact.objects.filter(phone="+16175550124").exists()
    assert Contact.objects.count() == 1
    # The connection is usable again after the rollback.
    ContactFactory(phone="+16175550125")
    assert Contact.objects.count() == 2


@pytest.mark.parametrize("phone", ["6175550123", "+0175550123", "+1 617 555 0123", "", "+1617555012a"])
def test_phone_must_be_e164(phone):
    with pytest.raises(IntegrityError, match="contact_phone_e164"):
        ContactFactory(phone=phone)


def test_an_opt_out_reason_without_an_opt_out_is_refused():
    with pytest.raises(IntegrityError, match="contact_opt_out_reason_only_when_opted_out"):
        ContactFactory(opt_out_reason="STOP")


def test_the_same_apn_cannot_be_two_properties():
    PropertyFactory(apn="RAND-000037-B000000-000008")

    with pytest.raises(IntegrityError, match="property_apn_unique"):
        PropertyFactory(apn="RAND-000037-B000000-000008")


def test_without_an_apn_a_property_is_keyed_by_address_and_zip():
    PropertyFactory(apn="", address="12 ELM ST", address_key="12 ELM ST", zip_code="02169")
    # Same street in another town is another house.
    PropertyFactory(apn="", address="12 ELM ST", address_key="12 ELM ST", zip_code="02184")

    with pytest.raises(IntegrityError, match="property_address_zip_unique_without_apn"):
        PropertyFactory(apn="", address="12 ELM ST", address_key="12 ELM ST", zip_code="02169")


def test_a_contact_is_linked_to_a_property_once_with_a_role():
    link = PropertyContactFactory(role=PropertyContact.Role.SECONDARY)

    assert list(link.property.contacts.all()) == [link.contact]
    assert list(link.contact.properties.all()) == [link.property]
    with pytest.raises(IntegrityError, match="property_contact_unique"):
        PropertyContactFactory(property=link.property, contact=link.contact)


def test_a_role_other_than_primary_or_secondary_is_refused():
    with pytest.raises(IntegrityError, match="property_contact_role_valid"):
        PropertyContactFactory(role="tenant")


def test_zip_codes_keep_their_leading_zeros():
    house = PropertyFactory(zip_code="02184")
    person = ContactFactory(zip_code="02184")

    assert Property.objects.get(pk=house.pk).zip_code == "02184"
    assert Contact.objects.get(pk=person.pk).zip_code == "02184"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Hancock", "44 hancock", "02171", "Quincy", "Wollaston Ave", "02170"])
def test_search_finds_a_contact_by_the_address_city_or_zip_its_page_shows(query):
    from contacts.selectors import contact_search
    from tests.factories import ContactFactory, PropertyContactFactory, PropertyFactory

    nora = ContactFactory(first_name="Nora", address="44 Hancock St", city="Quincy", zip_code="02171")
    PropertyContactFactory(contact=nora, property=PropertyFactory(address="9 Wollaston Ave", zip_code="02170"))
    ContactFactory(first_name="Other", address="1 Elm St", city="Milton", zip_code="02186")

    assert list(contact_search(query=query)) == [nora]
