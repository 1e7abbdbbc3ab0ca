"""Owner and staff: each of the owner's rights is refused to staff by the API, the pages and the
admin alike, and nothing the refused request asked for changes."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from attackacrack import roles
from campaigns.models import Campaign
from contacts.models import Contact
from tests.conftest import bearer_client
from tests.factories import CampaignFactory, ContactFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def refused(response, words: str) -> None:
    assert response.status_code == 403
    assert response.json()["detail"][0]["msg"] == f"Only the owner can {words}."


def test_staff_cannot_export_every_contact_through_the_api(api_client, owner_client):
    ContactFactory(first_name="Mary")

    refused(api_client.get("/api/contacts/export.csv"), "export every contact")
    assert b"Mary" in b"".join(owner_client.get("/api/contacts/export.csv").streaming_content)


def test_staff_cannot_delete_a_campaign_through_the_api(api_client, owner_client):
    campaign = CampaignFactory()

    refused(api_client.delete(f"/api/campaigns/{campaign.id}"), "delete campaigns")
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert owner_client.delete(f"/api/campaigns/{campaign.id}").status_code == 204


def test_staff_cannot_archive_a_campaign_through_the_api(api_client, owner_client):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED)

    refused(api_client.post(f"/api/campaigns/{campaign.id}/archive"), "archive campaigns")
    campaign.refresh_from_db()
    assert campaign.archived_at is None
    assert owner_client.post(f"/api/campaigns/{campaign.id}/archive").status_code == 200


@pytest.mark.parametrize("change", [{"daily_limit": 300}, {"from_number": "(617) 555-0199"}])
def test_staff_cannot_change_the_sending_number_or_limit_through_the_api(api_client, owner_client, change):
    campaign = CampaignFactory(daily_limit=125)
    before = (campaign.daily_limit, campaign.from_number)

    refused(
        api_client.patch(f"/api/campaigns/{campaign.id}", change, format="json"),
        "change a campaign's sending number or daily limit",
    )
    refused(
        api_client.post("/api/campaigns", {"name": "New", "template_a": "Hi", **change}, format="json"),
        "change a campaign's sending number or daily limit",
    )
    campaign.refresh_from_db()
    assert (campaign.daily_limit, campaign.from_number) == before
    assert Campaign.objects.count() == 1
    assert owner_client.patch(f"/api/campaigns/{campaign.id}", change, format="json").status_code == 200


def test_staff_run_campaigns_and_work_contacts_through_the_api(api_client):
    created = api_client.post(
        "/api/campaigns", {"name": "Spring", "template_a": "Hi {first_name}", "daily_limit": 125}, format="json"
    )
    campaign_id = created.json()["id"]
    renamed = api_client.patch(f"/api/campaigns/{campaign_id}", {"name": "Spring 2027"}, format="json")
    contact = api_client.post("/api/contacts", {"phone": "(617) 555-0142", "first_name": "Ann"}, format="json")

    assert created.status_code == 201  # the default limit, set to itself, is no change
    assert renamed.status_code == 200 and renamed.json()["name"] == "Spring 2027"
    assert contact.status_code == 201 and Contact.objects.filter(first_name="Ann").exists()
    assert api_client.get("/api/conversations").status_code == 200


def test_the_api_token_page_is_the_owners(client):
    client.force_login(StaffUserFactory())
    staff_page = client.get(reverse("api-token"))
    staff_nav = client.get(reverse("dashboard")).content.decode()
    client.force_login(StaffUserFactory(role="owner"))
    owner_page = client.get(reverse("api-token"))

    assert staff_page.status_code == 403
    assert reverse("api-token") not in staff_nav
    assert owner_page.status_code == 200


def test_the_campaign_form_keeps_the_sending_fields_for_the_owner(client):
    campaign = CampaignFactory(daily_limit=125, from_number="")
    form = {
        "name": "Renamed",
        "template_a": campaign.template_a,
        "daily_limit": 400,
        "from_number": "(617) 555-0199",
        "split_percent_a": 50,
        "frequency_cap_days": 30,
        "prior_contact_policy": campaign.prior_contact_policy,
        "purpose": campaign.purpose,
        "judged_on": campaign.judged_on,
    }
    client.force_login(StaffUserFactory())

    page = client.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()
    client.post(reverse("campaigns:edit", args=[campaign.pk]), form)

    campaign.refresh_from_db()
    assert "Only the owner can change this." in page
    assert campaign.name == "Renamed"  # the rest of the form was saved
    assert (campaign.daily_limit, campaign.from_number) == (125, "")

    client.force_login(StaffUserFactory(role="owner"))
    client.post(reverse("campaigns:edit", args=[campaign.pk]), form)
    campaign.refresh_from_db()
    assert (campaign.daily_limit, campaign.from_number) == (400, "+16175550199")


@pytest.mark.parametrize(
    "url",
    [
        "admin:auth_user_changelist",
        "admin:auth_user_add",
        "admin:auth_group_changelist",
        "admin:authtoken_tokenproxy_changelist",
        "admin:axes_accessattempt_changelist",
    ],
)
def test_staff_cannot_manage_users_tokens_or_lockouts_in_the_admin(client, url):
    client.force_login(StaffUserFactory())
    staff = client.get(reverse(url))
    client.force_login(StaffUserFactory(role="owner"))
    owner = client.get(reverse(url))

    assert staff.status_code == 403
    assert owner.status_code == 200


def test_staff_cannot_delete_archive_or_change_sending_in_the_admin(client):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED, daily_limit=125)
    client.force_login(StaffUserFactory())

    delete = client.get(reverse("admin:campaigns_campaign_delete", args=[campaign.pk]))
    changelist = client.get(reverse("admin:campaigns_campaign_changelist"))
    archive = client.post(
        reverse("admin:campaigns_campaign_changelist"), {"action": "archive", "_selected_action": [campaign.pk]}
    )
    paused = CampaignFactory(status=Campaign.Status.PAUSED, daily_limit=125)
    change = client.get(reverse("admin:campaigns_campaign_change", args=[paused.pk]))

    assert delete.status_code == 403
    assert changelist.status_code == 200
    assert "archive" not in dict(changelist.context["action_form"].fields["action"].choices)
    campaign.refresh_from_db()
    assert campaign.archived_at is None and archive.status_code in (200, 302)
    fields = change.context["adminform"].form.fields
    assert "daily_limit" not in fields and "from_number" not in fields  # shown read-only
    assert "name" in fields  # (a closed campaign is read-only whole: test_closed_campaign)


def test_the_owner_may_archive_in_the_admin(client):
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED)
    client.force_login(StaffUserFactory(role="owner"))

    client.post(
        reverse("admin:campaigns_campaign_changelist"), {"action": "archive", "_selected_action": [campaign.pk]}
    )

    campaign.refresh_from_db()
    assert campaign.archived_at is not None


def group_names(user) -> list[str]:
    return list(user.groups.values_list("name", flat=True))


def test_set_role_moves_a_user_between_roles():
    user = get_user_model().objects.create_user("office", password="x" * 20)

    said = io.StringIO()
    call_command("set_role", "office", "owner", stdout=said)
    user.refresh_from_db()
    owner = (user.is_staff, group_names(user), user.has_perm("contacts.export_contact"))
    call_command("set_role", "office", "staff", stdout=io.StringIO())
    user = get_user_model().objects.get(pk=user.pk)  # a fresh permission cache
    staff = (user.is_staff, group_names(user), user.has_perm("contacts.export_contact"))
    call_command("set_role", "office", "none", stdout=io.StringIO())
    user = get_user_model().objects.get(pk=user.pk)

    assert said.getvalue() == "office is now an owner.\n"
    assert owner == (True, ["Owner"], True)
    assert staff == (True, ["Staff"], False)
    assert (user.is_staff, group_names(user)) == (False, [])
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("set_role", "nobody", "staff")


def test_create_api_token_gives_the_role_asked_for():
    out = io.StringIO()

    call_command("create_api_token", "script", "--role", "owner", stdout=out, stderr=io.StringIO())

    user = get_user_model().objects.get(username="script")
    assert group_names(user) == ["Owner"]
    assert bearer_client(user).get("/api/contacts/export.csv").status_code == 200


def test_the_groups_hold_exactly_each_roles_permissions():
    owner = set(Group.objects.get(name="Owner").permissions.values_list("content_type__app_label", "codename"))
    staff = set(Group.objects.get(name="Staff").permissions.values_list("content_type__app_label", "codename"))
    owner_only = {tuple(name.split(".")) for name in roles.OWNER_ONLY}

    assert owner_only <= owner
    assert not owner_only & staff
    assert ("messaging", "change_message") in staff and ("contacts", "change_contact") in staff
    assert not {app for app, _ in staff} - set(roles.STAFF_APPS)
