"""One person's compliance history, for the owner's lawyer: the API, and the contact page's consent
form and download (issue 37)."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from freezegun import freeze_time
from openapi_schema_validator import OAS30Validator

from campaigns import sends
from campaigns.models import CampaignSend, ComplianceRecord
from contacts import lawful_basis
from contacts.models import ConsentChange
from messaging import outbox, services
from tests.api_schema import api_schema
from tests.campaigns.conftest import EASTERN, eastern, text_of
from tests.campaigns.test_lawful_basis import NOW, WRITTEN, campaign_of, load, person, run
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

LATER = eastern(2026, 12, 2, 15, 0)
STOPPED = eastern(2026, 12, 3, 11, 30)


@pytest.fixture
def history():
    """A listed customer texted by one campaign, whose booking with another went by unsent; then
    written consent recorded on the page by Dana, then a STOP."""
    contact = person(
        "+16173001101",
        first_name="Ann",
        last_name="Kowalski",
        consent_basis="customer",
        consent_at=eastern(2026, 1, 5, 9),
    )
    load("617,3001101\n")
    texted = campaign_of(contact, name="Winter foundation check")
    missed = campaign_of(contact, name="Crawl space offer")
    run(texted)
    run(missed)
    send = CampaignSend.objects.get(campaign=texted)
    with freeze_time(send.scheduled_for):
        assert outbox.deliver_message(text_of(send).pk) == "sent"
    late = CampaignSend.objects.get(campaign=missed).scheduled_for + dt.timedelta(hours=2)
    with freeze_time(late):
        assert sends.release_missed(missed, late, keep_today=True, today=late.date()) == 1
    dana = StaffUserFactory(username="dana")
    with freeze_time(LATER):
        lawful_basis.record_consent(contact, {**WRITTEN, "consent_at": LATER}, via="page", by=dana)
    with freeze_time(STOPPED):
        services.opt_out(contact=contact, reason="Replied 'STOP'")
    contact.refresh_from_db()
    return {"contact": contact, "texted": texted, "missed": missed, "send": send}


def iso(moment: dt.datetime) -> str:
    """A moment as the API writes it: on the shop's clock, with its offset."""
    return moment.astimezone(EASTERN).isoformat()


def test_the_history_holds_consent_lists_texts_and_opt_outs(api_client, history):
    contact, texted, missed = history["contact"], history["texted"], history["missed"]

    response = api_client.get(f"/api/contacts/{contact.pk}/compliance")

    assert response.status_code == 200
    body = response.json()
    assert body["contact"] == {"id": contact.pk, "phone": "+16173001101", "name": "Ann Kowalski"}
    assert body["consent"] == {
        "basis": "express_written",
        "at": iso(LATER),
        "source": WRITTEN["consent_source"],
        "wording": WRITTEN["consent_wording"],
        "description": "Written consent on 2026-12-02",
    }
    assert body["consent_changes"] == [
        {
            "basis": "express_written",
            "at": iso(LATER),
            "source": WRITTEN["consent_source"],
            "wording": WRITTEN["consent_wording"],
            "via": "page",
            "changed_by": "dana",
            "changed_at": iso(LATER),
        }
    ]
    assert body["do_not_call"] == {
        "listings": [
            {"list": "national", "area_code": "617", "as_of": "2026-11-30", "listed": True},
            {"list": "state", "area_code": "617", "as_of": None, "listed": False},
        ],
        "loads": [
            {
                "list": "national",
                "kind": "full",
                "as_of": "2026-11-30",
                "loaded_at": iso(NOW),
                "file_name": "list.txt",
            }
        ],
    }
    sent, released = body["texts"]
    record = ComplianceRecord.objects.get(campaign=texted)
    assert sent == {
        "campaign": {"id": texted.pk, "name": "Winter foundation check"},
        "purpose": "marketing",
        "slot": iso(record.slot),
        "booked_at": iso(NOW),
        "dispatched_at": iso(history["send"].scheduled_for),
        "dispatch_outcome": "sent to provider",
        "consent_basis": "customer",  # what it relied on then, not the consent recorded since
        "lists_checked": [
            {"list": "national", "area_code": "617", "as_of": "2026-11-30", "listed": True},
            {"list": "state", "area_code": "617", "as_of": None, "listed": False},
        ],
        "booking_checks": record.booking_checks,
        "dispatch_checks": record.dispatch_checks,
        "status": "sent",
        "sent_at": iso(history["send"].scheduled_for),
    }
    assert record.booking_checks["not_on_do_not_call_list"] is True and all(record.dispatch_checks.values())
    assert (released["campaign"]["name"], released["dispatch_outcome"]) == ("Crawl space offer", "slot missed")
    assert (released["status"], released["sent_at"]) == (None, None)  # its booking and text are gone
    assert ComplianceRecord.objects.get(campaign=missed).send is None
    assert body["opted_out_at"] == iso(STOPPED)
    assert body["opt_out_events"] == [{"kind": "opt_out", "reason": "Replied 'STOP'", "created_at": iso(STOPPED)}]


def test_the_history_is_what_the_schema_describes(api_client, history):
    schema = api_schema()
    operation = schema["paths"]["/api/contacts/{contact_id}/compliance"]["get"]
    described = operation["responses"]["200"]["content"]["application/json"]["schema"]

    body = api_client.get(f"/api/contacts/{history['contact'].pk}/compliance").json()

    OAS30Validator({**described, "components": schema["components"]}).validate(body)
    history_schema = schema["components"]["schemas"]["ComplianceHistory"]
    assert set(body) == set(history_schema["properties"]) == set(history_schema["required"])


def test_a_contact_with_nothing_on_record_has_an_empty_history(api_client):
    contact = person("+16173001102")

    body = api_client.get(f"/api/contacts/{contact.pk}/compliance").json()

    assert body["consent"]["description"] == "No consent on record"
    assert body["do_not_call"] == {
        "listings": [
            {"list": "national", "area_code": "617", "as_of": None, "listed": False},
            {"list": "state", "area_code": "617", "as_of": None, "listed": False},
        ],
        "loads": [],
    }
    assert (body["consent_changes"], body["texts"], body["opt_out_events"], body["opted_out_at"]) == ([], [], [], None)


def test_a_load_of_another_area_code_is_not_in_the_history(api_client):
    contact = person("+16173001103")
    load("508,3001103\n617,3001104\n", as_of=dt.date(2026, 11, 29))
    load("508,3001103\n", as_of=dt.date(2026, 11, 30))

    loads = api_client.get(f"/api/contacts/{contact.pk}/compliance").json()["do_not_call"]["loads"]

    assert [(item["as_of"], item["kind"]) for item in loads] == [("2026-11-29", "full")]


def test_an_unknown_contact_is_404_in_the_error_shape(api_client):
    response = api_client.get("/api/contacts/999999/compliance")

    assert response.status_code == 404
    assert response.json()["detail"][0]["type"] == "not_found"


def test_the_history_needs_the_apis_sign_in(anonymous_client):
    contact = person("+16173001105")

    response = anonymous_client.get(f"/api/contacts/{contact.pk}/compliance")

    assert response.status_code == 401
    assert "+16173001105" not in response.content.decode()


# --- The contact page ----------------------------------------------------------------------------


@pytest.fixture
def dana_client(client):
    client.force_login(StaffUserFactory(username="dana"))
    return client


def test_the_page_shows_the_consent_in_plain_words_and_which_lists_hold_the_number(dana_client):
    contact = person("+16173001106", consent_basis="inquiry", consent_at=eastern(2026, 11, 2, 9))
    load("617,3001106\n")

    with freeze_time(NOW):
        page = dana_client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()

    assert "Inquiry on 2026-11-02" in page
    assert (
        'National Do-Not-Call Registry: <span class="badge ineligible">holds the number</span> (list of 2026-11-30)'
        in page
    )
    assert 'Massachusetts Do-Not-Call list: <span class="muted">no copy loaded for area code 617</span>' in page
    assert reverse("contact-compliance-download", args=[contact.pk]) in page


def test_the_page_form_records_the_consent_audited_with_the_user(dana_client):
    contact = person("+16173001107")

    with freeze_time(NOW):
        response = dana_client.post(
            reverse("contacts:lawful-basis", args=[contact.pk]),
            {**WRITTEN, "consent_at": "2026-11-20"},
        )

    assert response.status_code == 302 and response["Location"] == reverse("contacts:detail", args=[contact.pk])
    contact.refresh_from_db()
    assert (contact.consent_basis, contact.consent_at) == ("express_written", eastern(2026, 11, 20))
    change = ConsentChange.objects.get(contact=contact)
    assert (change.via, change.changed_by.username, change.changed_at) == ("page", "dana", NOW)
    assert change.consent_wording == WRITTEN["consent_wording"]
    page = dana_client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "Written consent on 2026-11-20" in page and "by dana" in page


def test_saving_the_page_form_unchanged_writes_no_change(dana_client):
    contact = person("+16173001108", consent_basis="customer", consent_at=eastern(2026, 3, 2, 14, 30))

    with freeze_time(NOW):
        response = dana_client.post(
            reverse("contacts:lawful-basis", args=[contact.pk]),
            {"consent_basis": "customer", "consent_at": "2026-03-02"},
        )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.consent_at == eastern(2026, 3, 2, 14, 30)  # the moment on record, not the day's start
    assert not ConsentChange.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"consent_basis": "express_written", "consent_at": "2026-11-20"}, "consent_source", "Say where and how"),
        ({"consent_basis": "customer"}, "consent_at", "Say when"),
        ({"consent_basis": "inquiry", "consent_at": "2026-12-25"}, "consent_at", "The date is in the future."),
        ({"consent_basis": "inquiry", "consent_at": "last week"}, "consent_at", "Enter a valid date."),
        ({"consent_basis": "friend"}, "consent_basis", "Select a valid choice."),
    ],
)
def test_the_page_form_refuses_input_naming_the_field(dana_client, values, field, message):
    contact = person("+16173001109")

    with freeze_time(NOW):
        response = dana_client.post(reverse("contacts:lawful-basis", args=[contact.pk]), values)

    assert response.status_code == 422
    form = response.context["lawful_basis_form"]
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode()
    contact.refresh_from_db()
    assert contact.consent_basis == "none" and not ConsentChange.objects.exists()


def test_the_download_is_the_apis_history_as_a_file(dana_client, api_client, history):
    contact = history["contact"]

    response = dana_client.get(reverse("contact-compliance-download", args=[contact.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="contact-{contact.pk}-compliance.json"'
    downloaded = json.loads(response.content)
    assert downloaded == api_client.get(f"/api/contacts/{contact.pk}/compliance").json()
    assert downloaded["consent_changes"][0]["changed_by"] == "dana" and len(downloaded["texts"]) == 2


def test_the_download_of_an_unknown_contact_is_404(dana_client):
    assert dana_client.get(reverse("contact-compliance-download", args=[999999])).status_code == 404
