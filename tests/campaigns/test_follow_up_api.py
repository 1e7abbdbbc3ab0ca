"""Follow-ups through the API: a campaign's follow-up step, and the days staff choose to text
someone again (choosing one for a contact, listing them, taking one back), with their refusals."""

import datetime as dt

import pytest
from freezegun import freeze_time

from campaigns import services
from campaigns.models import Campaign, CampaignContact
from tests.campaigns.conftest import eastern
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
)

pytestmark = pytest.mark.django_db

TUESDAY = eastern(2024, 1, 16, 10, 0)


@pytest.fixture
def campaign(db) -> Campaign:
    return services.create_campaign(name="Spring", template_a="Spring: hi {name}", from_number=SHOP_NUMBER)


def test_a_campaign_gets_changes_and_loses_its_follow_up_step(api_client, campaign):
    step = {"template_a": "Again, {name}?", "template_b": "Still?", "split_percent_a": 40, "after_days": 3}

    created = api_client.put(f"/api/campaigns/{campaign.pk}/follow-up", step, format="json")

    assert created.status_code == 200
    body = created.json()
    follow_up = Campaign.objects.get(follow_up_of=campaign)
    assert (body["id"], body["follow_up_of"], body["follow_up_after_days"]) == (follow_up.pk, campaign.pk, 3)
    assert (body["template_b"], body["split_percent_a"], body["from_number"]) == ("Still?", 40, SHOP_NUMBER)
    assert api_client.get(f"/api/campaigns/{campaign.pk}").json()["follow_up"] == follow_up.pk
    listed = {row["id"]: row["follow_up"] for row in api_client.get("/api/campaigns").json()["results"]}
    assert listed == {campaign.pk: follow_up.pk, follow_up.pk: None}

    changed = api_client.put(f"/api/campaigns/{campaign.pk}/follow-up", step | {"after_days": None}, format="json")
    assert changed.json()["follow_up_after_days"] is None and changed.json()["id"] == follow_up.pk

    assert api_client.delete(f"/api/campaigns/{campaign.pk}/follow-up").status_code == 204
    assert not Campaign.objects.filter(follow_up_of=campaign).exists()


def test_a_follow_up_is_edited_and_started_only_with_its_campaign(api_client, campaign):
    follow_up = services.set_follow_up(campaign=campaign, template_a="Again?", after_days=2)

    patched = api_client.patch(f"/api/campaigns/{follow_up.pk}", {"template_a": "Hi"}, format="json")
    started = api_client.post(f"/api/campaigns/{follow_up.pk}/start", format="json")
    nested = api_client.put(f"/api/campaigns/{follow_up.pk}/follow-up", {"template_a": "3rd", "after_days": 1},
                            format="json")  # fmt: skip
    joined = api_client.post(
        f"/api/campaigns/{follow_up.pk}/members", {"contact_ids": [ContactFactory().pk]}, format="json"
    )

    assert (patched.status_code, patched.json()["detail"][0]["type"]) == (409, "campaign_locked")
    assert (started.status_code, nested.status_code) == (409, 409)
    assert (joined.status_code, joined.json()["detail"][0]["type"]) == (409, "follow_up_audience")
    assert Campaign.objects.get(pk=follow_up.pk).template_a == "Again?"


def test_a_follow_up_text_that_cannot_be_written_is_refused_by_field(api_client, campaign):
    response = api_client.put(
        f"/api/campaigns/{campaign.pk}/follow-up", {"template_a": "Hi {firstname}", "after_days": 99}, format="json"
    )

    assert response.status_code == 422
    assert {tuple(entry["loc"]) for entry in response.json()["detail"]} == {("body", "after_days")}
    response = api_client.put(
        f"/api/campaigns/{campaign.pk}/follow-up", {"template_a": "Hi {firstname}", "after_days": 2}, format="json"
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "template_a"]
    assert not Campaign.objects.filter(follow_up_of=campaign).exists()


def a_reply_to(campaign: Campaign, words: str = "Not now, maybe in the spring"):
    send = CampaignSendFactory(campaign=campaign, status="sent", sent_at=TUESDAY, scheduled_for=TUESDAY)
    CampaignContactFactory(campaign=campaign, contact=send.contact, status="sent")
    return InboundMessageFactory(
        contact=send.contact, in_reply_to_send=send, body=words, intent="not_interested", created_at=TUESDAY
    )


def test_text_a_contact_again_list_it_and_take_it_back(api_client, staff_user, campaign):
    follow_up = services.set_follow_up(campaign=campaign, template_a="Again?", after_days=None)
    reply = a_reply_to(campaign)

    with freeze_time(TUESDAY + dt.timedelta(hours=2)):
        created = api_client.post(f"/api/contacts/{reply.contact_id}/follow-ups", {"on": "2024-03-04"}, format="json")
        upcoming = api_client.get("/api/follow-ups?due=upcoming").json()["results"]
        today = api_client.get("/api/follow-ups?due=today").json()["results"]

    assert created.status_code == 201
    body = created.json()
    member = CampaignContact.objects.get(campaign=follow_up, contact=reply.contact)
    assert (body["id"], body["on"], body["campaign_id"], body["follow_up_id"]) == (
        member.pk, "2024-03-04", campaign.pk, follow_up.pk,
    )  # fmt: skip
    assert (body["status"], body["chosen_by"], body["reply"]["body"]) == (
        "pending", staff_user.username, "Not now, maybe in the spring",
    )  # fmt: skip
    assert dt.datetime.fromisoformat(body["not_before"]) == eastern(2024, 3, 4, 9, 0)
    assert [row["id"] for row in upcoming] == [member.pk] and today == []

    with freeze_time(eastern(2024, 3, 4, 8, 0)):
        assert [row["id"] for row in api_client.get("/api/follow-ups?due=today").json()["results"]] == [member.pk]
        cancelled = api_client.post(f"/api/follow-ups/{member.pk}/cancel", format="json")
        again = api_client.post(f"/api/follow-ups/{member.pk}/cancel", format="json")
        everything = api_client.get("/api/follow-ups").json()["results"]

    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["held_because"]) == ("ineligible", "follow_up_cancelled")
    assert again.status_code == 409
    assert [(row["id"], row["status"]) for row in everything] == [(member.pk, "ineligible")]


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"on": "2024-01-10"}, 422, ["body", "on"]),  # passed
        ({"on": "2026-01-10"}, 422, ["body", "on"]),  # too far ahead
        ({"on": "2024-03-04", "reply": 999999}, 422, ["body", "reply"]),  # not a text of theirs
        ({}, 422, ["body", "on"]),
    ],
)
def test_a_day_that_cannot_be_chosen_is_refused_by_field(api_client, campaign, body, status, where):
    services.set_follow_up(campaign=campaign, template_a="Again?", after_days=None)
    reply = a_reply_to(campaign)

    with freeze_time(TUESDAY + dt.timedelta(hours=2)):
        response = api_client.post(f"/api/contacts/{reply.contact_id}/follow-ups", body, format="json")

    assert response.status_code == status
    assert response.json()["detail"][0]["loc"] == where
    assert not CampaignContact.objects.filter(text_again_on__isnull=False).exists()


def test_without_a_follow_up_step_or_an_answer_nothing_is_chosen(api_client, campaign):
    reply = a_reply_to(campaign)
    silent = CampaignContactFactory(campaign=campaign).contact

    with freeze_time(TUESDAY + dt.timedelta(hours=2)):
        no_step = api_client.post(f"/api/contacts/{reply.contact_id}/follow-ups", {"on": "2024-03-04"}, format="json")
        no_answer = api_client.post(f"/api/contacts/{silent.pk}/follow-ups", {"on": "2024-03-04"}, format="json")

    assert (no_step.status_code, no_step.json()["detail"][0]["type"]) == (409, "no_follow_up_step")
    assert "has no follow-up step" in no_step.json()["detail"][0]["msg"]
    assert (no_answer.status_code, no_answer.json()["detail"][0]["loc"]) == (422, ["body", "reply"])
    assert not CampaignContact.objects.filter(text_again_on__isnull=False).exists()
