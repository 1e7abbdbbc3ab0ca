"""A completed or cancelled campaign takes no new members, whichever entry point asks: the rule
lives in the service (campaigns.audience.add_members), so each entry point below refuses the
same way and stores nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from campaigns import audience, services
from campaigns.errors import CampaignClosed
from campaigns.models import Campaign, CampaignContact
from contacts.importing import pipeline
from contacts.models import Contact, ContactImport
from tests.contacts.csv_files import hundred_contacts
from tests.factories import CampaignFactory, ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

CLOSED = [Campaign.Status.COMPLETED, Campaign.Status.CANCELLED]


def nothing_added(campaign: Campaign) -> bool:
    return not CampaignContact.objects.filter(campaign=campaign).exists()


@pytest.mark.parametrize("status", CLOSED)
def test_the_service_refuses_whoever_calls_it(status):
    campaign = CampaignFactory(status=status)
    contact = ContactFactory()

    with pytest.raises(CampaignClosed, match=f"The campaign is {status}: it takes no new contacts."):
        audience.add_contacts_by_id(campaign=campaign, contact_ids=[contact.id])
    assert nothing_added(campaign)


@pytest.mark.parametrize("status", CLOSED)
def test_a_campaign_closed_since_it_was_read_still_refuses(status):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)  # another request closed it

    with pytest.raises(CampaignClosed):
        audience.add_contacts_by_filter(campaign=campaign, filters={"city": "Quincy"})


@pytest.mark.parametrize("body", [{"contact_ids": "ids"}, {"filter": {"city": "Quincy"}}])
def test_the_api_answers_409_naming_the_rule(api_client, body):
    campaign = CampaignFactory(status=Campaign.Status.CANCELLED)
    contact = ContactFactory(city="Quincy")
    if body.get("contact_ids") == "ids":
        body = {"contact_ids": [contact.id]}

    response = api_client.post(f"/api/campaigns/{campaign.id}/members", body, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == [
        {"loc": [], "msg": "The campaign is cancelled: it takes no new contacts.", "type": "campaign_closed"}
    ]
    assert nothing_added(campaign)


def test_the_api_upload_answers_409_before_reading_the_file(api_client):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED)
    upload = {"file": SimpleUploadedFile("list.csv", hundred_contacts(), content_type="text/csv")}

    response = api_client.post(f"/api/campaigns/{campaign.id}/upload", upload, format="multipart")

    assert response.status_code == 409
    assert response.json()["detail"][0]["type"] == "campaign_closed"
    assert not Contact.objects.exists() and not ContactImport.objects.exists()


def test_the_command_refuses_and_stores_nothing(tmp_path):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED)
    path = tmp_path / "list.csv"
    path.write_bytes(hundred_contacts())

    with pytest.raises(CommandError, match="The campaign is completed: it takes no new contacts."):
        call_command("import_contacts", str(path), "--campaign", str(campaign.id))
    assert not Contact.objects.exists() and nothing_added(campaign)


@pytest.mark.parametrize("url", ["contacts:import", "admin:contacts_contactimport_upload"])
def test_the_import_pages_do_not_offer_or_take_a_closed_campaign(client, url):
    campaign = CampaignFactory(status=Campaign.Status.CANCELLED)
    client.force_login(StaffUserFactory(role="owner"))

    response = client.post(
        reverse(url), {"file": SimpleUploadedFile("list.csv", hundred_contacts()), "campaign": campaign.id}
    )

    assert response.status_code == 200  # the form again, with the error beside the field
    assert "campaign" in response.context["form"].errors
    assert not Contact.objects.exists() and nothing_added(campaign)


def test_a_queued_import_whose_campaign_closed_meanwhile_fails_and_stores_nothing(settings):
    settings.IMPORT_SYNC_MAX_BYTES = 10
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    queued = pipeline.import_upload(
        file=SimpleUploadedFile("list.csv", hundred_contacts()), file_name="list.csv", campaign=campaign
    )
    services.cancel_campaign(campaign=campaign)

    with pytest.raises(pipeline.ImportRefused):
        pipeline.run_queued_import(contact_import_id=queued.id)

    queued.refresh_from_db()
    assert queued.status == ContactImport.Status.FAILED
    assert queued.error == "The campaign is cancelled: it takes no new contacts."
    assert not Contact.objects.exists() and nothing_added(campaign)


@pytest.mark.parametrize("status", CLOSED)
def test_a_closed_campaign_cannot_be_edited_through_the_api(api_client, status):
    campaign = CampaignFactory(status=status, name="Spring", template_a="Hi {name}, spring special")

    response = api_client.patch(
        f"/api/campaigns/{campaign.id}", {"name": "Renamed", "template_a": "Hi {name}, new"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["detail"] == [
        {
            "loc": [],
            "msg": f"A {status} campaign cannot change: make a new campaign instead.",
            "type": "campaign_locked",
        }
    ]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.template_a) == ("Spring", "Hi {name}, spring special")


def test_a_closed_campaigns_admin_page_shows_its_fields_but_saves_no_change(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.CANCELLED, name="Spring", template_a="Hi {name}, spring")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.id])

    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"name": "Renamed", "template_a": "Hi {name}, new", "daily_limit": 50})

    assert 'name="template_a"' not in page and "Hi {name}, spring" in page
    campaign.refresh_from_db()
    assert (campaign.name, campaign.template_a) == ("Spring", "Hi {name}, spring")


@pytest.mark.parametrize("status", CLOSED)
def test_a_closed_campaigns_admin_page_is_wholly_read_only(admin_client, status):
    campaign = CampaignFactory(status=status, pause_reason="Carriers filtered it", last_run_error="Timed out")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.id])

    page = admin_client.get(url).content.decode()
    answer = admin_client.post(url, {"name": "Renamed", "pause_reason": "", "last_run_error": ""})

    for field in ("name", "pause_reason", "last_run_failed_at", "last_run_error", "starts_at"):
        assert f'name="{field}' not in page
    assert "Carriers filtered it" in page and "Timed out" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page and 'name="_addanother"' not in page
    assert answer.status_code == 403
    campaign.refresh_from_db()
    assert (campaign.pause_reason, campaign.last_run_error) == ("Carriers filtered it", "Timed out")


def test_an_open_campaigns_admin_page_shows_what_the_system_records_read_only(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.PAUSED, pause_reason="Carriers filtered it")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.id])

    page = admin_client.get(url).content.decode()

    assert 'name="name"' in page and 'name="_save"' in page  # staff's settings stay editable
    for field in ("pause_reason", "last_run_failed_at", "last_run_error"):
        assert f'name="{field}' not in page
    assert "Carriers filtered it" in page
