"""Outcomes through the API: recorded with their attribution, read with their corrections,
corrected and withdrawn, and refused naming the field."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from campaigns.models import Outcome
from campaigns.outcomes import record_conversation_outcome
from messaging.models import Message
from tests.factories import CampaignFactory, CampaignSendFactory, ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday_march_4th():
    with freeze_time("2024-03-04 15:00:00"):  # 10 am in Boston
        yield


def answered_campaign(contact, *, name: str = "Spring mailer", variant: str = "B") -> tuple:
    """``contact`` got a campaign's text on March 1st and answered it that afternoon."""
    campaign = CampaignFactory(name=name)
    sent = dt.datetime(2024, 3, 1, 14, tzinfo=dt.UTC)
    send = CampaignSendFactory(
        campaign=campaign, contact=contact, variant=variant, scheduled_for=sent, status="delivered", sent_at=sent
    )
    answer = InboundMessageFactory(
        contact=contact, body="Yes, how much?", created_at=sent + dt.timedelta(hours=3), in_reply_to_send=send
    )
    return campaign, answer


def url(contact, *rest) -> str:
    return "/".join([f"/api/contacts/{contact.pk}/outcomes", *map(str, rest)])


def test_recording_an_outcome_answers_201_with_its_attribution(api_client, staff_user):
    mary = ContactFactory(first_name="Mary")
    campaign, answer = answered_campaign(mary)

    response = api_client.post(
        url(mary), {"kind": "inspection_booked", "on": "2024-03-04", "note": "Thursday 9am"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    stored = Outcome.objects.get()
    assert body["id"] == stored.pk
    assert (stored.kind, stored.on, stored.note, stored.recorded_by) == (
        "inspection_booked",
        dt.date(2024, 3, 4),
        "Thursday 9am",
        staff_user,
    )
    assert (stored.campaign, stored.variant, stored.answered) == (campaign, "B", answer)
    assert body["attribution"] == {
        "campaign": {"id": campaign.pk, "name": "Spring mailer"},
        "variant": "B",
        "reply": {"id": answer.pk, "body": "Yes, how much?", "received_at": "2024-03-01T12:00:00-05:00"},
    }
    assert (body["counts"], body["replaces"], body["replaced_by"], body["amount"]) == (True, None, None, None)
    assert body["recorded_by"] == staff_user.username


def test_a_job_won_carries_its_amount_and_an_unattributed_outcome_says_so(api_client):
    contact = ContactFactory()

    response = api_client.post(url(contact), {"kind": "job_won", "on": "2024-03-02", "amount": "12500"}, format="json")

    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["attribution"]) == ("12500.00", None)
    assert Outcome.objects.get().amount == Decimal("12500.00")


def test_the_owner_records_outcomes_too(owner_client):
    contact = ContactFactory()

    response = owner_client.post(url(contact), {"kind": "lost", "on": "2024-03-04"}, format="json")

    assert response.status_code == 201
    assert Outcome.objects.get().kind == "lost"


@pytest.mark.parametrize(
    ("body", "field", "type_"),
    [
        ({"kind": "booked", "on": "2024-03-04"}, "kind", "invalid_choice"),
        ({"on": "2024-03-04"}, "kind", "required"),
        ({"kind": "lost"}, "on", "required"),
        ({"kind": "lost", "on": "March 4"}, "on", "invalid"),
        ({"kind": "lost", "on": "2024-03-05"}, "on", "invalid"),  # tomorrow in Boston
        ({"kind": "job_won", "on": "2024-03-04"}, "amount", "invalid"),
        ({"kind": "job_won", "on": "2024-03-04", "amount": None}, "amount", "invalid"),
        ({"kind": "job_won", "on": "2024-03-04", "amount": "0"}, "amount", "invalid"),
        ({"kind": "job_won", "on": "2024-03-04", "amount": "lots"}, "amount", "invalid"),
        ({"kind": "job_won", "on": "2024-03-04", "amount": "12.345"}, "amount", "max_decimal_places"),
        ({"kind": "lost", "on": "2024-03-04", "amount": "100"}, "amount", "invalid"),
        ({"kind": "lost", "on": "2024-03-04", "note": "x" * 2001}, "note", "max_length"),
    ],
)
def test_what_cannot_be_recorded_is_refused_422_naming_the_field(api_client, body, field, type_):
    contact = ContactFactory()

    response = api_client.post(url(contact), body, format="json")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", field], type_)
    assert not Outcome.objects.exists()


def test_an_unknown_contact_is_404(api_client):
    response = api_client.post("/api/contacts/999999/outcomes", {"kind": "lost", "on": "2024-03-04"}, format="json")

    assert response.status_code == 404
    assert not Outcome.objects.exists()


def test_outcomes_need_a_staff_token(anonymous_client):
    contact = ContactFactory()

    assert anonymous_client.get(url(contact)).status_code == 401
    assert anonymous_client.post(url(contact), {"kind": "lost", "on": "2024-03-04"}, format="json").status_code == 401
    assert not Outcome.objects.exists()


def test_a_correction_replaces_the_outcome_and_the_old_one_cannot_be_corrected_again(api_client):
    mary = ContactFactory()
    campaign, _ = answered_campaign(mary)
    booked = api_client.post(url(mary), {"kind": "inspection_booked", "on": "2024-03-04"}, format="json").json()

    corrected = api_client.post(
        url(mary, booked["id"], "corrections"),
        {"kind": "job_won", "on": "2024-03-04", "amount": "9800.50", "note": "Signed today"},
        format="json",
    )
    again = api_client.post(url(mary, booked["id"], "corrections"), {"kind": "lost", "on": "2024-03-04"}, format="json")

    assert corrected.status_code == 201
    assert corrected.json()["replaces"] == booked["id"]
    assert corrected.json()["attribution"]["campaign"]["id"] == campaign.pk
    assert again.status_code == 409
    assert again.json()["detail"][0]["type"] == "outcome_replaced"
    assert Outcome.objects.current().get().amount == Decimal("9800.50")
    assert Outcome.objects.count() == 2


def test_a_withdrawal_leaves_nothing_current_and_the_history_keeps_every_version(api_client):
    mary = ContactFactory()
    booked = api_client.post(url(mary), {"kind": "inspection_booked", "on": "2024-03-01"}, format="json").json()
    with freeze_time("2024-03-04 16:00:00"):
        withdrawal = api_client.post(url(mary, booked["id"], "withdrawal"), {"note": "Never booked"}, format="json")
    with freeze_time("2024-03-04 17:00:00"):
        api_client.post(url(mary), {"kind": "estimate_sent", "on": "2024-03-03"}, format="json")

    listed = api_client.get(url(mary)).json()

    assert withdrawal.status_code == 201
    assert (withdrawal.json()["withdrawn"], withdrawal.json()["counts"]) == (True, False)
    assert [outcome["kind"] for outcome in listed["current"]] == ["estimate_sent"]
    history = [(outcome["kind"], outcome["withdrawn"], outcome["counts"]) for outcome in listed["history"]]
    assert history == [
        ("estimate_sent", False, True),
        ("inspection_booked", True, False),
        ("inspection_booked", False, False),
    ]
    assert listed["history"][2]["replaced_by"] == withdrawal.json()["id"]
    again = api_client.post(url(mary, withdrawal.json()["id"], "withdrawal"), {}, format="json")
    assert again.status_code == 409


def test_an_outcome_is_corrected_only_under_its_own_contact(api_client):
    mary, other = ContactFactory(), ContactFactory()
    booked = record_conversation_outcome(contact=mary, kind="inspection_booked", on=dt.date(2024, 3, 4))

    corrected = api_client.post(
        url(other, booked.pk, "corrections"), {"kind": "lost", "on": "2024-03-04"}, format="json"
    )
    withdrawn = api_client.post(url(other, booked.pk, "withdrawal"), {}, format="json")

    assert (corrected.status_code, withdrawn.status_code) == (404, 404)
    assert Outcome.objects.count() == 1


def test_the_list_costs_the_same_queries_however_many_outcomes_and_corrections(
    api_client, django_assert_max_num_queries
):
    def contact_with(outcomes: int):
        contact = ContactFactory()
        answered_campaign(contact)
        for n in range(outcomes):
            first = api_client.post(url(contact), {"kind": "inspection_booked", "on": "2024-03-02"}, format="json")
            api_client.post(
                url(contact, first.json()["id"], "corrections"),
                {"kind": "job_won", "on": "2024-03-03", "amount": f"{1000 + n}"},
                format="json",
            )
        return contact

    few, many = contact_with(1), contact_with(20)
    with django_assert_max_num_queries(3) as few_queries:  # the token, the contact, its outcomes
        assert len(api_client.get(url(few)).json()["history"]) == 2
    with django_assert_max_num_queries(len(few_queries)):
        listed = api_client.get(url(many)).json()

    assert len(listed["current"]) == 20 and len(listed["history"]) == 40
    assert all(outcome["attribution"]["variant"] == "B" for outcome in listed["current"])
    assert Message.objects.filter(contact=many).count() == 2  # the campaign text and the answer
    assert timezone.now().date() == dt.date(2024, 3, 4)
