"""A long list of ids goes to PostgreSQL as one array (attackacrack/lookups.py): the same rows as
``IN (...)``, in a statement whose length does not grow with the list."""

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from attackacrack.lookups import ONE_ARRAY_FROM
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def statement_of(queryset) -> tuple[str, list]:
    with CaptureQueriesContext(connection) as captured:
        list(queryset.all())  # evaluated afresh
    [query] = captured.captured_queries
    return query["sql"], list(queryset.query.sql_with_params()[1])


def test_a_long_list_of_ids_is_one_array_and_finds_the_same_rows():
    contacts = ContactFactory.create_batch(5)
    wanted = {contacts[1].pk, contacts[3].pk}
    ids = [*wanted, *range(10**9, 10**9 + ONE_ARRAY_FROM), None]  # many not there, and a NULL

    found = Contact.objects.filter(pk__in=ids)
    kept = Contact.objects.exclude(id__in=ids)

    assert {contact.pk for contact in found} == wanted
    assert {contact.pk for contact in kept} == {contact.pk for contact in contacts} - wanted
    sql, params = statement_of(found)
    assert '"contacts_contact"."id" = ANY(' in sql and " IN (" not in sql
    assert len(params) == 1 and sorted(params[0]) == sorted(id for id in ids if id is not None)


def test_a_short_list_keeps_in_and_a_subquery_is_left_alone():
    contacts = ContactFactory.create_batch(3)

    short = Contact.objects.filter(pk__in=[contacts[0].pk, contacts[2].pk])
    nested = Contact.objects.filter(pk__in=Contact.objects.filter(pk=contacts[1].pk).values("pk"))

    assert {contact.pk for contact in short} == {contacts[0].pk, contacts[2].pk}
    assert [contact.pk for contact in nested] == [contacts[1].pk]
    assert " IN (" in statement_of(short)[0] and "ANY(" not in statement_of(nested)[0]


def test_a_long_list_holding_an_expression_keeps_in():
    contacts = ContactFactory.create_batch(2)
    ids = [Value(contacts[0].pk), *range(10**9, 10**9 + ONE_ARRAY_FROM)]

    found = Contact.objects.filter(pk__in=ids)

    assert [contact.pk for contact in found] == [contacts[0].pk]
    assert " IN (" in statement_of(found)[0]


def test_a_long_list_of_nothing_but_nulls_finds_nothing_and_excludes_nothing():
    contact = ContactFactory()

    assert not Contact.objects.filter(pk__in=[None] * ONE_ARRAY_FROM).exists()
    assert list(Contact.objects.exclude(pk__in=[None] * ONE_ARRAY_FROM)) == [contact]
