"""One-to-one texts from the admin and manage.py, and replaying a failed webhook from the admin."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from contacts.models import OptOutEvent
from messaging.models import Message, WebhookEvent
from tests.factories import ContactFactory, MessageFactory, StaffUserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    return client


@pytest.fixture(autouse=True)
def _shop_number(settings):
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"


def test_admin_action_asks_for_the_text_then_queues_one_per_contact_skipping_opt_outs(admin_client):
    ok = ContactFactory()
    opted_out = ContactFactory(opted_out_at=timezone.now(), opt_out_reason="STOP")
    url = reverse("admin:contacts_contact_changelist")
    selected = {"action": "send_text", "_selected_action": [ok.pk, opted_out.pk]}

    form = admin_client.post(url, selected)
    assert form.status_code == 200 and b"one-to-one text" in form.content
    assert not Message.objects.exists()

    admin_client.post(url, {**selected, "apply": "Send", "body": "Crew arrives at 8"}, follow=True)

    [message] = Message.objects.all()
    assert (message.contact, message.kind, message.body) == (ok, "staff", "Crew arrives at 8")


def test_admin_opt_out_is_audited_and_sends_nothing(admin_client, _sms_outbox):
    contact = ContactFactory()

    admin_client.post(
        reverse("admin:contacts_contact_changelist"), {"action": "opt_out", "_selected_action": [contact.pk]}
    )

    contact.refresh_from_db()
    assert contact.is_opted_out and contact.opt_out_reason == "Opted out by staff"
    assert OptOutEvent.objects.get(contact=contact).created_by is not None
    assert _sms_outbox == []


def test_send_sms_command_sends_now(capsys, _sms_outbox):
    contact = ContactFactory(phone="+16175550123")

    call_command("send_sms", "(617) 555-0123", "Running late", "--now")

    assert "sent" in capsys.readouterr().out
    assert [(sms.to_number, sms.body) for sms in _sms_outbox] == [(contact.phone, "Running late")]
    assert Message.objects.get().status == Message.Status.SENT


@pytest.mark.parametrize(
    ("phone", "error"), [("555", "not a valid phone"), ("+16175550199", "No contact has the number")]
)
def test_send_sms_command_explains_what_is_wrong(phone, error):
    with pytest.raises(CommandError, match=error):
        call_command("send_sms", phone, "Hi")


def test_replaying_a_failed_event_processes_it(admin_client):
    MessageFactory(external_id="ACknown", status=Message.Status.SENT)
    event = WebhookEventFactory(
        event_type="message.delivered",
        payload={"id": "EVx", "type": "message.delivered", "data": {"object": {"id": "ACknown"}}},
        status=WebhookEvent.Status.FAILED,
        error="NotYetKnown: No outgoing message has id ACknown yet",
        attempts=8,
    )

    admin_client.post(
        reverse("admin:messaging_webhookevent_changelist"), {"action": "replay", "_selected_action": [event.pk]}
    )

    event.refresh_from_db()
    assert (event.status, event.error, event.attempts) == ("processed", "", 1)
    assert event.processed_at is not None
    assert Message.objects.get().status == Message.Status.DELIVERED
    assert WebhookEvent.objects.count() == 1
