"""The user's campaign contract, translated to DRF: every call checked against the database."""

import pytest

from campaigns.models import Campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

JANUARY_PROMO = {
    "name": "January Promo",
    "template_a": "Hi {name}, special offer!",
    "template_b": "Hello {name}, exclusive deal!",
    "daily_limit": 125,
}


def test_create_campaign_stores_it_and_returns_it(api_client, staff_user):
    response = api_client.post("/api/campaigns", JANUARY_PROMO, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] is not None
    assert {key: body[key] for key in JANUARY_PROMO} == JANUARY_PROMO
    assert body["status"] == "draft"
    assert body["created_at"]
    stored = Campaign.objects.get(pk=body["id"])
    assert stored.name == "January Promo"
    assert stored.template_a == "Hi {name}, special offer!"
    assert stored.template_b == "Hello {name}, exclusive deal!"
    assert stored.daily_limit == 125
    assert stored.status == Campaign.Status.DRAFT
    assert stored.created_by == staff_user


def test_created_campaign_can_be_retrieved(api_client):
    campaign_id = api_client.post("/api/campaigns", JANUARY_PROMO, format="json").json()["id"]

    response = api_client.get(f"/api/campaigns/{campaign_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == campaign_id
    assert isinstance(body["id"], int)
    assert isinstance(body["daily_limit"], int)
    assert body["name"] == "January Promo"
    assert body["template_a"] == JANUARY_PROMO["template_a"]
    assert body["template_b"] == JANUARY_PROMO["template_b"]


def test_daily_limit_defaults_to_125_and_template_b_is_optional(api_client):
    response = api_client.post("/api/campaigns", {"name": "Test", "template_a": "A"}, format="json")

    assert response.status_code == 201
    stored = Campaign.objects.get(pk=response.json()["id"])
    assert stored.daily_limit == 125 == response.json()["daily_limit"]
    assert stored.template_b == ""


def test_list_returns_campaigns_newest_first_with_a_cursor(api_client):
    oldest, middle, newest = CampaignFactory.create_batch(3)

    first_page = api_client.get("/api/campaigns", {"page_size": 2})

    assert first_page.status_code == 200
    assert [c["id"] for c in first_page.json()["results"]] == [newest.id, middle.id]
    second_page = api_client.get(first_page.json()["next"])
    assert [c["id"] for c in second_page.json()["results"]] == [oldest.id]
    assert second_page.json()["next"] is None


def test_patch_updates_only_the_given_fields(owner_client):
    campaign = CampaignFactory(name="Spring", daily_limit=125)

    response = owner_client.patch(f"/api/campaigns/{campaign.id}", {"daily_limit": 60}, format="json")

    assert response.status_code == 200
    assert response.json()["daily_limit"] == 60
    campaign.refresh_from_db()
    assert campaign.daily_limit == 60
    assert campaign.name == "Spring"


def test_patch_cannot_change_the_status_it_points_to_the_actions(api_client):
    campaign = CampaignFactory(name="Spring")

    response = api_client.patch(f"/api/campaigns/{campaign.id}", {"status": "active", "name": "X"}, format="json")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "status"]
    assert "pause" in error["msg"]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name) == (Campaign.Status.DRAFT, "Spring")


def test_delete_removes_the_campaign(owner_client):
    campaign = CampaignFactory()

    response = owner_client.delete(f"/api/campaigns/{campaign.id}")

    assert response.status_code == 204
    assert not Campaign.objects.filter(pk=campaign.id).exists()
    assert owner_client.get(f"/api/campaigns/{campaign.id}").status_code == 404


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_campaign_is_404_in_the_error_shape(owner_client, method):
    response = getattr(owner_client, method)("/api/campaigns/999999", {}, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "detail": [{"loc": [], "msg": "No Campaign matches the given query.", "type": "not_found"}]
    }


def test_invalid_payload_is_422_with_one_entry_per_problem(api_client):
    response = api_client.post("/api/campaigns", {"invalid": "data"}, format="json")

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert sorted(tuple(entry["loc"]) for entry in detail) == [("body", "name"), ("body", "template_a")]
    assert {entry["type"] for entry in detail} == {"required"}
    assert all(entry["msg"] for entry in detail)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("payload", "loc", "type_"),
    [
        ({**JANUARY_PROMO, "daily_limit": 0}, ["body", "daily_limit"], "min_value"),
        ({**JANUARY_PROMO, "daily_limit": 6001}, ["body", "daily_limit"], "max_value"),
        ({**JANUARY_PROMO, "daily_limit": "many"}, ["body", "daily_limit"], "invalid"),
        ({**JANUARY_PROMO, "name": ""}, ["body", "name"], "blank"),
        ({**JANUARY_PROMO, "name": "x" * 201}, ["body", "name"], "max_length"),
        ({**JANUARY_PROMO, "template_a": None}, ["body", "template_a"], "null"),
        ({**JANUARY_PROMO, "split_percent_a": 101}, ["body", "split_percent_a"], "max_value"),
        ({**JANUARY_PROMO, "from_number": "555-0100"}, ["body", "from_number"], "invalid_phone"),
        ({**JANUARY_PROMO, "from_number": "PNshop0001"}, ["body", "from_number"], "phone_number_id"),
        # 1,580 characters plus the footer: over OpenPhone's 1,600 for every recipient.
        ({**JANUARY_PROMO, "template_a": "x" * 1580}, ["body", "template_a"], "too_long"),
        # Short, but a contact with a 100-character first name would take it over.
        ({**JANUARY_PROMO, "template_b": "{name} " + "x" * 1480}, ["body", "template_b"], "too_long"),
        # A typo'd year: stored, it came back as 0125-12-04T06:47:08-04:56:02 (local mean time).
        ({**JANUARY_PROMO, "starts_at": "0125-12-04T11:43:10Z"}, ["body", "starts_at"], "out_of_range"),
        ({**JANUARY_PROMO, "starts_at": "3026-01-05T14:00:00Z"}, ["body", "starts_at"], "out_of_range"),
        ({**JANUARY_PROMO, "starts_at": "next Tuesday"}, ["body", "starts_at"], "invalid"),
        ({**JANUARY_PROMO, "from_number": ["+16175550100"]}, ["body", "from_number"], "invalid"),
        (
            {**JANUARY_PROMO, "prior_contact_policy": "ignore"},
            ["body", "prior_contact_policy"],
            "invalid_choice",
        ),
    ],
)
def test_each_bad_field_is_named_in_the_422(api_client, payload, loc, type_):
    response = api_client.post("/api/campaigns", payload, format="json")

    assert response.status_code == 422
    assert [(entry["loc"], entry["type"]) for entry in response.json()["detail"]] == [(loc, type_)]
    assert not Campaign.objects.exists()


def test_a_body_that_is_not_an_object_is_422(api_client):
    response = api_client.post("/api/campaigns", ["not", "an", "object"], format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_malformed_json_is_400_in_the_error_shape(api_client):
    response = api_client.post("/api/campaigns", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"][0]["type"] == "parse_error"


def test_patch_with_a_bad_field_is_422_and_changes_nothing(api_client):
    campaign = CampaignFactory(daily_limit=125)

    response = api_client.patch(f"/api/campaigns/{campaign.id}", {"daily_limit": -5}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "daily_limit"]
    campaign.refresh_from_db()
    assert campaign.daily_limit == 125


def test_from_number_is_stored_in_e164(owner_client):
    response = owner_client.post("/api/campaigns", {**JANUARY_PROMO, "from_number": "(617) 555-0100"}, format="json")

    assert response.status_code == 201
    assert Campaign.objects.get().from_number == "+16175550100" == response.json()["from_number"]


def test_unknown_api_path_is_404_in_the_error_shape(api_client):
    response = api_client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json()["detail"][0]["type"] == "not_found"


def test_wrong_method_is_405_in_the_error_shape(api_client):
    response = api_client.put("/api/campaigns", {}, format="json")

    assert response.status_code == 405
    assert response.json()["detail"][0]["type"] == "method_not_allowed"


def test_a_template_that_fits_with_the_longest_values_is_accepted_and_the_message_says_by_how_much(api_client):
    fits = "{name} " + "x" * (1600 - 100 - 1 - len("\nReply STOP to unsubscribe"))
    assert api_client.post("/api/campaigns", {**JANUARY_PROMO, "template_a": fits}, format="json").status_code == 201

    response = api_client.post("/api/campaigns", {**JANUARY_PROMO, "template_a": fits + "xy"}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "With the longest names and addresses filled in and the opt-out footer this text can be 1,602 characters; "
        "OpenPhone sends at most 1,600. Shorten it by 2."
    )
    without_footer = {**JANUARY_PROMO, "template_a": fits + "xy", "include_opt_out_footer": False}
    assert api_client.post("/api/campaigns", without_footer, format="json").status_code == 201


def test_a_phone_number_id_as_the_sending_number_is_refused_with_the_reason(api_client):
    response = api_client.post("/api/campaigns", {**JANUARY_PROMO, "from_number": "PNshop0001"}, format="json")

    assert "not its OpenPhone id 'PNshop0001'" in response.json()["detail"][0]["msg"]
