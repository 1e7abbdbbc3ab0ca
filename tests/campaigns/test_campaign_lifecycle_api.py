"""Lifecycle actions through the API: draft → scheduled → active ⇄ paused → completed / cancelled."""

import datetime as dt

import pytest
from freezegun import freeze_time

from campaigns.models import Campaign, CampaignContact, CampaignSend
from messaging.models import Message
from tests.campaigns.conftest import EASTERN, add_audience, eastern, texts_went_out
from tests.factories import SHOP_NUMBER, CampaignFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


@pytest.fixture
def draft(db):
    campaign = CampaignFactory(from_number=SHOP_NUMBER)
    add_audience(campaign, 200)
    return campaign


def post(api_client, campaign: Campaign, action: str, body: dict | None = None):
    return api_client.post(f"/api/campaigns/{campaign.pk}/{action}", body or {}, format="json")


def test_start_activates_a_draft_and_books_today(api_client, draft):
    with freeze_time(MONDAY_10):
        response = post(api_client, draft, "start")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["sent"], body["queued"], body["booked_today"]) == ("active", 125, 75, 125)
    assert body["business_date"] == "2024-01-15"
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.ACTIVE
    assert CampaignSend.objects.filter(campaign=draft).count() == 125


def test_scheduled_campaigns_start_when_the_clock_reaches_them(api_client, draft):
    with freeze_time(eastern(2024, 1, 12, 16, 0)):
        response = post(api_client, draft, "schedule", {"starts_at": "2024-01-15T09:30:00-05:00"})
    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"

    from campaigns.booking import run_campaigns

    with freeze_time(eastern(2024, 1, 15, 9, 29)):
        assert run_campaigns() == []
    with freeze_time(eastern(2024, 1, 15, 9, 30)):
        [result] = run_campaigns()

    assert (result.status, result.sent) == ("active", 125)


def test_scheduling_needs_an_audience(api_client):
    campaign = CampaignFactory(from_number=SHOP_NUMBER)

    response = post(api_client, campaign, "schedule")

    assert response.status_code == 409
    assert "no audience" in response.json()["detail"][0]["msg"]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_pause_stops_booking_and_resume_continues_exactly_where_it_left_off(api_client, draft):
    with freeze_time(MONDAY_10):
        post(api_client, draft, "start")
    # The dispatcher sent the first 25 (10:00–10:28:48) before the pause at 10:30.
    first_25 = list(CampaignSend.objects.order_by("scheduled_for")[:25].values_list("pk", flat=True))
    texts_went_out(CampaignSend.objects.filter(pk__in=first_25), MONDAY_10)
    booked_before = set(CampaignSend.objects.values_list("contact_id", flat=True))

    with freeze_time(eastern(2024, 1, 15, 10, 30)):
        paused = post(api_client, draft, "pause")
    assert paused.json()["status"] == "paused"
    with freeze_time(eastern(2024, 1, 15, 11, 0)):
        # While paused the clock books nothing, and a direct run is refused.
        assert post(api_client, draft, "execute").status_code == 409

    with freeze_time(eastern(2024, 1, 15, 14, 0)):
        resumed = post(api_client, draft, "resume").json()

    # The 100 booked but unsent whose slots passed get new slots from 14:00; nobody is added,
    # nobody is lost, and the day's total stays at the limit.
    assert (resumed["status"], resumed["rebooked"], resumed["sent"], resumed["queued"]) == ("active", 100, 100, 75)
    assert set(CampaignSend.objects.values_list("contact_id", flat=True)) == booked_before
    assert CampaignSend.objects.count() == 125
    waiting = CampaignSend.objects.filter(message__status="queued").order_by("scheduled_for")
    assert waiting[0].scheduled_for.astimezone(EASTERN) == eastern(2024, 1, 15, 14, 0)
    assert CampaignSend.objects.filter(message__status="sent").count() == 25


def test_resuming_on_a_later_day_books_that_days_limit_afresh(api_client, draft):
    with freeze_time(MONDAY_10):
        post(api_client, draft, "start")
        post(api_client, draft, "pause")

    with freeze_time(eastern(2024, 1, 16, 9, 0)):
        resumed = post(api_client, draft, "resume").json()

    assert (resumed["sent"], resumed["queued"]) == (125, 75)
    assert set(CampaignSend.objects.values_list("business_date", flat=True)) == {dt.date(2024, 1, 16)}


def test_cancel_cancels_every_unsent_text_with_the_reason(api_client, draft):
    with freeze_time(MONDAY_10):
        post(api_client, draft, "start")

        response = post(api_client, draft, "cancel")

    assert response.json()["status"] == "cancelled"
    assert set(Message.objects.values_list("status", "error")) == {("cancelled", "Not sent: Campaign cancelled")}
    assert CampaignSend.objects.count() == 125  # every booking stays on record


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Campaign.Status.DRAFT, "pause"),
        (Campaign.Status.DRAFT, "resume"),
        (Campaign.Status.ACTIVE, "schedule"),
        (Campaign.Status.COMPLETED, "resume"),
        (Campaign.Status.COMPLETED, "start"),
        (Campaign.Status.CANCELLED, "cancel"),
        (Campaign.Status.PAUSED, "pause"),
    ],
)
def test_an_illegal_transition_is_409_and_changes_nothing(api_client, draft, status, action):
    Campaign.objects.filter(pk=draft.pk).update(status=status)

    response = post(api_client, draft, action)

    assert response.status_code == 409
    [error] = response.json()["detail"]
    assert error["type"] == "invalid_transition"
    draft.refresh_from_db()
    assert draft.status == status


def test_templates_cannot_change_while_active_but_can_when_paused(api_client, draft):
    with freeze_time(MONDAY_10):
        post(api_client, draft, "start")

    locked = api_client.patch(f"/api/campaigns/{draft.pk}", {"template_a": "New {name}"}, format="json")
    assert locked.status_code == 409
    assert locked.json()["detail"][0]["type"] == "campaign_locked"
    renamed = api_client.patch(f"/api/campaigns/{draft.pk}", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200

    post(api_client, draft, "pause")
    edited = api_client.patch(f"/api/campaigns/{draft.pk}", {"template_a": "New {name}"}, format="json")

    assert edited.status_code == 200
    draft.refresh_from_db()
    assert (draft.template_a, draft.name) == ("New {name}", "Renamed")


@pytest.mark.parametrize("field", ["template_a", "template_b"])
def test_a_template_with_an_unknown_token_is_422_naming_it(api_client, field):
    payload = {"name": "Spring", "template_a": "Hi {name}", field: "Hi {firstname}, {city}"}

    response = api_client.post("/api/campaigns", payload, format="json")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["type"] == "unknown_token"
    assert "{firstname}" in error["msg"]
    assert not Campaign.objects.exists()


def test_declaring_a_winner_sends_the_rest_the_winning_text(api_client, draft):
    with freeze_time(MONDAY_10):
        post(api_client, draft, "start")

    texts_went_out(CampaignSend.objects.all(), MONDAY_10)

    response = post(api_client, draft, "winner", {"variant": "B"})
    assert response.status_code == 200
    assert response.json()["winner"] == "B"
    assert response.json()["winner_declared_at"]
    with freeze_time(eastern(2024, 1, 16, 9, 0)):
        post(api_client, draft, "execute")

    tuesday = CampaignSend.objects.filter(business_date=dt.date(2024, 1, 16))
    assert tuesday.count() == 75
    assert set(tuesday.values_list("variant", flat=True)) == {"B"}
    # Members keep the variant they were assigned, for the record.
    assert set(CampaignContact.objects.filter(campaign=draft).values_list("variant", flat=True)) == {"A", "B"}
    again = post(api_client, draft, "winner", {"variant": "A"})
    assert again.status_code == 409


def test_a_winner_needs_two_variants(api_client):
    campaign = CampaignFactory(template_b="")

    response = post(api_client, campaign, "winner", {"variant": "A"})

    assert response.status_code == 409
    assert "only one variant" in response.json()["detail"][0]["msg"]


def test_the_send_schedule_lists_upcoming_sends(api_client, draft):
    with freeze_time(MONDAY_10):
        post(api_client, draft, "start")

    response = api_client.get(f"/api/campaigns/{draft.pk}/sends", {"status": "queued", "page_size": 200})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 125
    assert {row["business_date"] for row in results} == {"2024-01-15"}
