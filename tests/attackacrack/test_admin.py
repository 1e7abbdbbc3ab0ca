"""Every model has an admin, and every admin page a staff user opens renders."""

import datetime as dt
import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignContact,
    CampaignSend,
    ComplianceRecord,
    Holiday,
)
from campaigns.outcomes import record_conversation_outcome, withdraw_outcome
from contacts import dnc, lawful_basis
from contacts.models import ConsentChange, Contact, ContactImport, ImportRejection, ImportUploadChunk, OptOutEvent
from messaging.models import CatchUp, ConsentReview, IntentCorrection, Message, OutboxHold, WorkerHeartbeat
from tests.factories import (
    CampaignContactFactory,
    CampaignFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
    PropertyContactFactory,
    StaffUserFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"contacts", "campaigns", "messaging"}


@pytest.fixture
def superuser_client(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    return client


@pytest.fixture
def one_of_everything():
    link = PropertyContactFactory()
    member = CampaignContactFactory(
        contact=link.contact,
        status=CampaignContact.Status.INELIGIBLE,
        held_because="opted_out",
        ineligible_reason="Opted out",
    )
    send = CampaignSendFactory(campaign=member.campaign, contact=link.contact, status="sent", sent_at=timezone.now())
    ComplianceRecord.objects.create(
        send=send,
        campaign=send.campaign,
        contact=send.contact,
        zone_source="address",
        recipient_zones="America/New_York",
        recipient_state="MA",
        recipient_hours="08:00-20:00",
        allowed_from=send.scheduled_for,
        allowed_until=send.scheduled_for + dt.timedelta(hours=1),
        booked_at=send.scheduled_for,
        slot=send.scheduled_for,
        booking_checks={"not_opted_out": True},
    )
    inbound = InboundMessageFactory(contact=link.contact, body="Can you stop by Tuesday?", in_reply_to_send=send)
    booked = record_conversation_outcome(contact=link.contact, kind="inspection_booked", on=timezone.localdate())
    withdraw_outcome(outcome=booked)
    ConsentReview.objects.create(message=inbound, contact=link.contact, created_at=inbound.created_at)
    IntentCorrection.objects.create(
        message=inbound, from_intent="question", to_intent="interested", corrected_at=timezone.now()
    )
    WebhookEventFactory()
    ImportUploadChunk.objects.create(
        contact_import=ContactImport.objects.create(file_name="big.csv", status=ContactImport.Status.QUEUED),
        position=0,
        data=b"phone\n",
    )
    Holiday.objects.create(date=dt.date(2026, 12, 25), name="Christmas Day")
    WorkerHeartbeat.objects.create(name="dispatcher", seen_at=timezone.now())
    OutboxHold.objects.create(cause="account", code="0200402", reason="Not Enough Credits", started_at=timezone.now())
    CatchUp.objects.create(
        trigger="hourly",
        status="succeeded",
        started_at=timezone.now(),
        covers_from=timezone.now() - dt.timedelta(hours=1),
        missed_opt_outs=[{"contact_id": link.contact_id, "contact": str(link.contact), "wrote": "Stop please"}],
    )
    contact_import = ContactImport.objects.create(file_name="january.csv", status="completed", rows_read=2)
    ImportRejection.objects.create(contact_import=contact_import, line_number=3, reason="No phone")
    OptOutEvent.objects.create(contact=link.contact, kind=OptOutEvent.Kind.OPT_OUT, reason="STOP")
    lawful_basis.record_consent(
        link.contact,
        {"consent_basis": "inquiry", "consent_at": timezone.now(), "consent_source": "Phone call"},
        via="page",
    )
    dnc.load_list(io.BytesIO(f"{link.contact.phone[2:5]},{link.contact.phone[5:]}\n".encode()), list_name="national",
                  as_of=timezone.localdate())  # fmt: skip
    link.contact.refresh_from_db()
    link.contact.opted_out_at = timezone.now()
    link.contact.opt_out_reason = "Replied STOP"
    link.contact.save()


def our_models():
    return [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


def test_every_model_of_our_apps_has_an_admin():
    expected = {m for label in OUR_APPS for m in apps.get_app_config(label).get_models() if not m._meta.auto_created}
    assert set(our_models()) == expected


def test_every_changelist_renders_with_data(superuser_client, one_of_everything):
    for model in our_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        assert len(response.context["cl"].result_list) >= 1, url


def test_every_change_page_renders(superuser_client, one_of_everything):
    for model in our_models():
        obj = model.objects.first()
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        assert response.context["original"] == obj


def test_search_by_phone_and_name_finds_the_contact(superuser_client, one_of_everything):
    contact = OptOutEvent.objects.get().contact

    by_phone = superuser_client.get(reverse("admin:contacts_contact_changelist"), {"q": contact.phone})
    by_name = superuser_client.get(reverse("admin:contacts_contact_changelist"), {"q": contact.last_name})

    assert by_phone.context["cl"].result_count == 1
    assert contact in by_name.context["cl"].result_list


def test_records_are_read_only_in_the_admin(superuser_client, one_of_everything):
    for model in [Message, ContactImport, OptOutEvent]:
        opts = model._meta
        assert superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
        obj = model.objects.first()
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert superuser_client.post(change_url, {}).status_code == 403


def test_a_campaign_created_in_the_admin_records_who_created_it(client):
    user = StaffUserFactory(is_superuser=True)
    client.force_login(user)

    response = client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "name": "Spring",
            "template_a": "Hi {name}",
            "template_b": "",
            "daily_limit": 125,
            "status": "draft",
            "split_percent_a": 50,
            "include_opt_out_footer": "on",
            "frequency_cap_days": 30,
            "prior_contact_policy": "skip",
            "purpose": "marketing",
            "judged_on": "interested_replies",
            "from_number": "",
        },
    )

    assert response.status_code == 302
    assert Campaign.objects.get(name="Spring").created_by == user


def test_the_admin_needs_a_staff_login(client):
    response = client.get(reverse("admin:contacts_contact_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_carries_the_business_name(client, staff_user):
    client.force_login(staff_user)

    response = client.get(reverse("admin:index"))

    assert b"Attack-a-Crack</a>" in response.content


def test_the_admin_refuses_to_delete_a_campaign_that_booked_a_text(superuser_client):
    member = CampaignContactFactory()
    CampaignSendFactory(campaign=member.campaign, contact=member.contact)
    url = reverse("admin:campaigns_campaign_delete", args=[member.campaign.pk])

    response = superuser_client.post(url, {"post": "yes"})

    assert response.status_code == 403
    assert Campaign.objects.exists() and CampaignSend.objects.exists() and CampaignContact.objects.exists()


def test_the_admin_deletes_a_draft_that_never_booked_a_text_with_its_audience(superuser_client):
    member = CampaignContactFactory()
    url = reverse("admin:campaigns_campaign_delete", args=[member.campaign.pk])

    assert superuser_client.get(url).context["perms_lacking"] == set()
    assert superuser_client.post(url, {"post": "yes"}).status_code == 302
    assert not Campaign.objects.exists() and not CampaignContact.objects.exists()


NO_INLINES = {
    f"{prefix}-{field}": value
    for prefix in ("property_contacts", "opt_out_events", "consent_changes")
    for field, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))
}


def test_a_contact_added_in_the_admin_gets_its_time_zone_from_the_service(superuser_client):
    form = {"phone": "+13105550142", "first_name": "Ana", "line_type": "unknown", "time_zone": "",
            "consent_basis": "none", **NO_INLINES}  # fmt: skip

    response = superuser_client.post(reverse("admin:contacts_contact_add"), form)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    contact = Contact.objects.get(phone="+13105550142")
    assert contact.time_zone == "America/Los_Angeles"  # area code 310, as create_contact decides
    assert contact.time_zone_source != Contact.TimeZoneSource.STAFF


def test_a_campaign_changed_in_the_admin_goes_through_the_service(superuser_client):
    campaign = CampaignFactory(name="Spring", status=Campaign.Status.PAUSED)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    form = {
        "name": "Spring 2027", "template_a": campaign.template_a, "template_b": campaign.template_b,
        "daily_limit": 90, "split_percent_a": 50, "include_opt_out_footer": "on", "frequency_cap_days": 30,
        "prior_contact_policy": "skip", "purpose": "marketing", "from_number": "",
    }  # fmt: skip

    response = superuser_client.post(url, form)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.daily_limit, campaign.status) == ("Spring 2027", 90, Campaign.Status.PAUSED)


def test_consent_changed_in_the_admin_is_audited_and_a_bad_one_named_on_its_field(client):
    superuser = StaffUserFactory(is_superuser=True)
    client.force_login(superuser)
    superuser_client = client
    contact = ContactFactory(phone="+16175550143")
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    form = {"phone": contact.phone, "first_name": contact.first_name, "line_type": "unknown", "time_zone": "",
            "state": "MA", "zip_code": "02169", **NO_INLINES}  # fmt: skip

    refused = superuser_client.post(url, form | {"consent_basis": "express_written", "consent_at_0": "2026-11-20",
                                                 "consent_at_1": "10:00"})  # fmt: skip
    assert refused.status_code == 200
    assert "consent_source" in refused.context["adminform"].form.errors

    done = superuser_client.post(url, form | {"consent_basis": "customer", "consent_at_0": "2026-11-20",
                                              "consent_at_1": "10:00", "consent_source": "Job #77"})  # fmt: skip
    assert done.status_code == 302
    change = ConsentChange.objects.get(contact=contact)
    assert (change.consent_basis, change.consent_source, change.via, change.changed_by) == (
        "customer", "Job #77", "admin", superuser
    )  # fmt: skip
