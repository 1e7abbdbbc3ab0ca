"""The audience (by ids, by filter, with reasons) and the text preview, through the API."""

import pytest
from django.utils import timezone
from freezegun import freeze_time

from contacts.models import ContactImport
from tests.campaigns.conftest import add_audience, eastern
from tests.factories import CampaignContactFactory, CampaignFactory, ContactFactory, PropertyContactFactory

pytestmark = pytest.mark.django_db


def test_add_by_ids_counts_only_new_members(api_client):
    campaign = CampaignFactory()
    contacts = ContactFactory.create_batch(3)
    ids = [c.pk for c in contacts]

    first = api_client.post(f"/api/campaigns/{campaign.pk}/members", {"contact_ids": ids[:2]}, format="json")
    second = api_client.post(f"/api/campaigns/{campaign.pk}/members", {"contact_ids": ids}, format="json")

    assert first.json() == {"added": 2, "audience": 2}
    assert second.json() == {"added": 1, "audience": 3}
    assert set(campaign.memberships.values_list("contact_id", flat=True)) == set(ids)
    assert set(campaign.memberships.values_list("added_via", flat=True)) == {"ids"}


def test_an_unknown_contact_id_is_422_and_adds_nobody(api_client):
    campaign = CampaignFactory()
    contact = ContactFactory()

    response = api_client.post(
        f"/api/campaigns/{campaign.pk}/members", {"contact_ids": [contact.pk, 999999]}, format="json"
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "contact_ids"]
    assert "999999" in error["msg"]
    assert not campaign.memberships.exists()


def test_add_by_filter_takes_every_matching_contact(api_client):
    campaign = CampaignFactory()
    braintree = ContactFactory.create_batch(3, city="Braintree", zip_code="02184")
    ContactFactory.create_batch(2, city="Quincy")
    contact_import = ContactImport.objects.create(file_name="jan.csv")
    imported = ContactFactory(city="Milton", source_import=contact_import)

    by_city = api_client.post(f"/api/campaigns/{campaign.pk}/members", {"filter": {"city": "braintree"}}, format="json")
    by_import = api_client.post(
        f"/api/campaigns/{campaign.pk}/members", {"filter": {"import_id": contact_import.pk}}, format="json"
    )

    assert by_city.json()["added"] == 3
    assert by_import.json()["added"] == 1
    assert set(campaign.memberships.values_list("contact_id", flat=True)) == {c.pk for c in [*braintree, imported]}
    assert set(campaign.memberships.values_list("added_via", flat=True)) == {"filter"}


@pytest.mark.parametrize(
    "body",
    [{}, {"filter": {}}, {"contact_ids": [1], "filter": {"city": "Quincy"}}, {"contact_ids": ["x"]}],
)
def test_a_bad_audience_request_is_422(api_client, body):
    campaign = CampaignFactory()

    response = api_client.post(f"/api/campaigns/{campaign.pk}/members", body, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_members_list_shows_ineligible_members_with_their_reason(api_client, active_campaign):
    opted_out, _, _ = add_audience(active_campaign, 3)
    opted_out.opted_out_at = timezone.now()
    opted_out.opt_out_reason = "Replied STOP"
    opted_out.save()
    with freeze_time(eastern(2024, 1, 13, 12, 0)):  # a Saturday: nobody is judged before Monday
        api_client.post(f"/api/campaigns/{active_campaign.pk}/execute")
        waiting = api_client.get(f"/api/campaigns/{active_campaign.pk}/members", {"status": "pending"}).json()

    assert [row["queued_for"] for row in waiting["results"]] == ["2024-01-15T09:00:00-05:00"] * 3
    active_campaign.daily_limit = 1
    active_campaign.save()
    with freeze_time(eastern(2024, 1, 15, 10, 0)):
        api_client.post(f"/api/campaigns/{active_campaign.pk}/execute")
        response = api_client.get(f"/api/campaigns/{active_campaign.pk}/members", {"status": "ineligible"})
        queued = api_client.get(f"/api/campaigns/{active_campaign.pk}/members", {"status": "pending"}).json()

    [row] = response.json()["results"]
    assert row["contact"]["id"] == opted_out.pk
    assert (row["status"], row["ineligible_reason"], row["queued_for"]) == ("ineligible", "Opted out", None)
    assert [row["queued_for"] for row in queued["results"]] == ["2024-01-16T09:00:00-05:00"]


def test_preview_renders_both_variants_for_a_contact_with_cost(api_client):
    campaign = CampaignFactory(template_a="Hi {name}, special offer!", template_b="Hello {name}, is {address} dry? 🏠")
    link = PropertyContactFactory(contact__first_name="Mary", contact__address="", property__address="12 Elm St")

    response = api_client.get(f"/api/campaigns/{campaign.pk}/preview", {"contact_id": link.contact.pk})

    assert response.status_code == 200
    body = response.json()
    assert body["contact"]["id"] == link.contact.pk
    assert body["sample"] is False
    a, b = body["variants"]
    assert a["text"] == "Hi Mary, special offer!\nReply STOP to unsubscribe"
    assert (a["encoding"], a["characters"], a["segments"]) == ("GSM-7", len(a["text"]), 1)
    assert b["text"].startswith("Hello Mary, is 12 Elm St dry? 🏠")
    assert b["encoding"] == "UCS-2"


def test_preview_without_a_contact_uses_the_audience_or_a_sample(api_client):
    campaign = CampaignFactory(template_b="")

    sample = api_client.get(f"/api/campaigns/{campaign.pk}/preview").json()
    member = ContactFactory(first_name="Joe")
    CampaignContactFactory(campaign=campaign, contact=member, variant="A")
    first_member = api_client.get(f"/api/campaigns/{campaign.pk}/preview").json()

    assert sample["sample"] is True
    assert [v["variant"] for v in sample["variants"]] == ["A"]
    assert sample["variants"][0]["text"].startswith("Hi Mary,")
    assert first_member["contact"]["id"] == member.pk
    assert first_member["variants"][0]["text"].startswith("Hi Joe,")


def test_preview_for_an_unknown_contact_is_404(api_client):
    campaign = CampaignFactory()

    response = api_client.get(f"/api/campaigns/{campaign.pk}/preview", {"contact_id": 999999})

    assert response.status_code == 404
