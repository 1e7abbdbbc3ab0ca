"""A contact's lawful basis through the API: set, audited, kept after an opt-out, and the lists
that hold the number (issue 37)."""

import datetime as dt
import io

import pytest
from freezegun import freeze_time

from contacts import dnc
from contacts.models import ConsentChange, Contact
from messaging import services as messaging_services
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
WRITTEN = {
    "consent_basis": "express_written",
    "consent_at": "2026-11-20T14:00:00Z",
    "consent_source": "Web form on attackacrack.com, checkbox",
    "consent_wording": "Yes, text me offers from Attack-a-Crack.",
}


@freeze_time(NOW)
def test_a_contact_created_with_written_consent_keeps_it_and_its_audit(api_client, staff_user):
    response = api_client.post("/api/contacts", {"phone": "617-555-0101", **WRITTEN}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in WRITTEN} == {**WRITTEN, "consent_at": "2026-11-20T09:00:00-05:00"}
    contact = Contact.objects.get(pk=body["id"])
    change = ConsentChange.objects.get(contact=contact)
    assert (change.consent_basis, change.via, change.changed_by, change.changed_at) == (
        "express_written",
        "api",
        staff_user,
        NOW,
    )


@freeze_time(NOW)
def test_a_patch_of_consent_alone_changes_it_and_nothing_else(api_client):
    contact = ContactFactory(first_name="Mary")

    response = api_client.patch(
        f"/api/contacts/{contact.pk}",
        {"consent_basis": "customer", "consent_at": "2026-03-02T12:00:00Z", "consent_source": "Job #1042"},
        format="json",
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.consent_basis, contact.consent_source, contact.first_name) == ("customer", "Job #1042", "Mary")
    assert ConsentChange.objects.filter(contact=contact).count() == 1


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"consent_basis": "customer"}, ["body", "consent_at"]),
        ({"consent_basis": "express_written", "consent_at": "2026-11-20T14:00:00Z"}, ["body", "consent_source"]),
        ({"consent_basis": "inquiry", "consent_at": "2027-01-01T00:00:00Z"}, ["body", "consent_at"]),
        ({"consent_basis": "friend"}, ["body", "consent_basis"]),
    ],
)
@freeze_time(NOW)
def test_consent_that_does_not_hold_together_is_422_naming_the_field(api_client, payload, loc):
    contact = ContactFactory()

    response = api_client.patch(f"/api/contacts/{contact.pk}", payload, format="json")

    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]
    contact.refresh_from_db()
    assert contact.consent_basis == "none" and not ConsentChange.objects.exists()


@freeze_time(NOW)
def test_a_refused_consent_stores_no_new_contact_either(api_client):
    response = api_client.post("/api/contacts", {"phone": "617-555-0102", "consent_basis": "customer"}, format="json")

    assert response.status_code == 422
    assert not Contact.objects.exists()


@freeze_time(NOW)
def test_the_contact_says_which_lists_hold_its_number_and_as_of_when(api_client):
    contact = ContactFactory(phone="+16175550103")
    dnc.load_list(io.BytesIO(b"617,5550103\n"), list_name="national", as_of=dt.date(2026, 11, 30))

    body = api_client.get(f"/api/contacts/{contact.pk}").json()

    assert body["do_not_call"] == [
        {"list": "national", "area_code": "617", "as_of": "2026-11-30", "listed": True},
        {"list": "state", "area_code": "617", "as_of": None, "listed": False},
    ]


@freeze_time(NOW)
def test_an_opt_out_keeps_the_consent_on_record_in_the_api(api_client):
    contact = Contact.objects.get(
        pk=api_client.post("/api/contacts", {"phone": "617-555-0104", **WRITTEN}, format="json").json()["id"]
    )
    messaging_services.opt_out(contact=contact, reason="Replied 'STOP'")

    body = api_client.get(f"/api/contacts/{contact.pk}").json()

    assert body["opted_out"] is True and body["consent_basis"] == "express_written"
