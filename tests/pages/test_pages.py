"""Every staff page: who may see it, that it renders real data, and that its query count does not
grow with the data (the 100k-contact timings are in bench/pages_and_api.py)."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignContact
from contacts.models import ContactImport, OptOutEvent
from messaging.models import Message, OutboxHold, WebhookEvent
from tests.factories import (
    SHOP_NUMBER,
    CampaignContactFactory,
    CampaignFactory,
    CampaignSendFactory,
    ContactFactory,
    InboundMessageFactory,
    MessageFactory,
    PropertyContactFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db


def world(size: int) -> dict:
    """``size`` of everything a page lists."""
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, name="January Promo")
    follow_up = CampaignFactory(
        status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, name="January Promo (follow-up)", follow_up_of=campaign
    )
    contacts = ContactFactory.create_batch(size)
    for contact in contacts:
        CampaignContactFactory(campaign=campaign, contact=contact, status=CampaignContact.Status.PENDING)
        send = CampaignSendFactory(
            campaign=campaign, contact=contact, scheduled_for=timezone.now() + dt.timedelta(hours=1)
        )
        MessageFactory(contact=contact, kind=Message.Kind.CAMPAIGN, campaign_send=None)
        reply = InboundMessageFactory(contact=contact, in_reply_to_send=send, intent="not_interested")
        OptOutEvent.objects.create(contact=contact, kind=OptOutEvent.Kind.OPT_OUT, reason="STOP")
        # Staff chose to text them again: the list of follow-ups lists them.
        CampaignContactFactory(
            campaign=follow_up, contact=contact, quiet_since=timezone.now(), text_again_on=timezone.localdate(),
            text_again_reply=reply,
        )  # fmt: skip
    PropertyContactFactory(contact=contacts[0])
    contact_import = ContactImport.objects.create(file_name="jan.csv", status="completed")
    draft = CampaignFactory(from_number=SHOP_NUMBER, name="February Promo")
    for contact in contacts:
        CampaignContactFactory(campaign=draft, contact=contact)
    return {"campaign": campaign, "draft": draft, "contact": contacts[0], "import": contact_import}


def named_pages(data: dict) -> dict[str, str]:
    return {
        "dashboard": reverse("dashboard"),
        "campaigns": reverse("campaigns:list"),
        "new campaign": reverse("campaigns:create"),
        "campaign": reverse("campaigns:detail", args=[data["campaign"].pk]),
        "edit campaign": reverse("campaigns:edit", args=[data["campaign"].pk]),
        "add to the audience": reverse("campaigns:audience", args=[data["campaign"].pk]) + "?city=Quincy",
        "confirm start": reverse("campaigns:start", args=[data["draft"].pk]),
        "schedule": reverse("campaigns:schedule", args=[data["draft"].pk]),
        "confirm cancel": reverse("campaigns:cancel", args=[data["campaign"].pk]),
        "contacts": reverse("contacts:list"),
        "contact search": reverse("contacts:list") + "?q=Quincy",
        "contact": reverse("contacts:detail", args=[data["contact"].pk]),
        "add contact": reverse("contacts:create"),
        "edit contact": reverse("contacts:edit", args=[data["contact"].pk]),
        "compliance history": reverse("contact-compliance-download", args=[data["contact"].pk]),
        "import": reverse("contacts:import"),
        "import report": reverse("contacts:import-report", args=[data["import"].pk]),
        "do-not-call lists": reverse("contacts:dnc-lists"),
        "conversations": reverse("messaging:conversations"),
        "thread": reverse("messaging:thread", args=[data["contact"].pk]),
        "follow-ups": reverse("follow-ups") + "?due=all",
        "api token": reverse("api-token"),
    }


def pages(data: dict) -> list[str]:
    return list(named_pages(data).values())


def test_anonymous_visitors_are_sent_to_login(client):
    data = world(1)

    for url in pages(data):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_signed_in_users_who_are_not_staff_get_403(client):
    data = world(1)
    client.force_login(get_user_model().objects.create_user("helper", password="x" * 12))

    for url in pages(data):
        assert client.get(url).status_code == 403, url


def test_every_page_renders_its_data_for_staff(owner_pages):
    data = world(3)

    for url in pages(data):
        response = owner_pages.get(url)
        assert response.status_code == 200, url
    dashboard = owner_pages.get(reverse("dashboard")).content.decode()
    assert "January Promo" in dashboard and "Replies waiting" in dashboard and "Opt-outs this week" in dashboard
    detail = owner_pages.get(reverse("campaigns:detail", args=[data["campaign"].pk])).content.decode()
    assert "<svg" in detail and "Collecting: day 0 of" in detail
    # Numbers are shown the way people write them.
    assert data["contact"].phone_display in owner_pages.get(reverse("contacts:list")).content.decode()


def test_query_counts_do_not_grow_with_the_data(owner_pages):
    def query_counts(data: dict) -> dict[str, int]:
        counts = {}
        for name, url in named_pages(data).items():
            with CaptureQueriesContext(connection) as queries:
                assert owner_pages.get(url).status_code == 200
            counts[name] = len(queries)
        return counts

    small = query_counts(world(2))
    large = query_counts(world(40))

    assert large == small


def test_the_dashboard_raises_what_needs_a_person(owner_pages):
    WebhookEventFactory(status=WebhookEvent.Status.FAILED, error="ValueError: broken", attempts=8)
    MessageFactory(status=Message.Status.FAILED, error="OpenPhone refused the text (404 0200404): Not Found")
    OutboxHold.objects.create(
        cause="key_refused",
        code="0200401",
        reason="OpenPhone refused the text (401 0200401): Unauthorized",
        started_at=timezone.now(),
    )

    page = owner_pages.get(reverse("dashboard")).content.decode()

    assert "webhook event(s) failed" in page
    assert "text(s) failed" in page
    assert "Sending is held" in page and "0200401" in page and "Resume sending" in page
    assert "worker has not run the dispatcher" in page


def test_a_bad_campaign_form_shows_the_error_beside_the_field(owner_pages):
    bad = {"name": "", "template_a": "Hi {firstname}", "daily_limit": 7000, "split_percent_a": 50}
    response = owner_pages.post(reverse("campaigns:create"), {**bad, "frequency_cap_days": 30})

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"name", "template_a", "daily_limit"}
    assert "6,000" in form.errors["daily_limit"][0]
    assert "{firstname}" in form.errors["template_a"][0]
    assert not Campaign.objects.exists()


def test_the_live_preview_renders_both_variants_with_their_cost(owner_pages):
    response = owner_pages.post(
        reverse("campaigns:preview"), {"template_a": "Hi {name}, special offer!", "template_b": "Hello {name} 🏠"}
    )

    page = response.content.decode()
    assert "Hi Mary, special offer!" in page and "Hello Mary 🏠" in page
    assert "GSM-7" in page and "UCS-2" in page


def test_replying_from_the_thread_queues_a_staff_text(owner_pages, settings):
    settings.OPENPHONE_FROM_NUMBER = SHOP_NUMBER
    contact = ContactFactory()
    InboundMessageFactory(contact=contact, body="Can you come Tuesday?")

    response = owner_pages.post(reverse("messaging:thread", args=[contact.pk]), {"body": "Tuesday 9am works"})

    assert response.status_code == 302
    reply = Message.objects.get(direction="outbound")
    assert (reply.kind, reply.body, reply.contact) == ("staff", "Tuesday 9am works", contact)
    assert Message.objects.get(direction="inbound").read_at is not None


def test_an_empty_reply_shows_an_error_beside_the_box(owner_pages):
    contact = ContactFactory()

    response = owner_pages.post(reverse("messaging:thread", args=[contact.pk]), {"body": "   "})

    assert response.status_code == 200
    assert response.context["form"].errors["body"]
    assert not Message.objects.exists()
