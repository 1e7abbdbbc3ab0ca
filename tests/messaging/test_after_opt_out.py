"""What an opted-out person's texts do: HELP is answered (carriers expect every HELP answered),
nothing else reaches them, and nothing they write opts them back in but START or UNSTOP."""

import datetime as dt

import pytest
from freezegun import freeze_time

from messaging import outbox, services
from messaging.models import Message
from tests.campaigns.conftest import eastern
from tests.factories import ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def reply(contact, body: str, at: dt.datetime) -> Message:
    """An inbound text as webhook processing stores it, then what it means is acted on."""
    with freeze_time(at):
        message = InboundMessageFactory(contact=contact, body=body, created_at=at, status_changed_at=at)
        services.handle_keywords(message)
    return message


def send_what_is_waiting(at: dt.datetime) -> dict[str, str]:
    """Every text waiting in the outbox goes to the worker: what became of each (by its words)."""
    with freeze_time(at):
        return {
            text.body: outbox.deliver_message(text.pk)
            for text in Message.objects.filter(status=Message.Status.QUEUED).order_by("pk")
        }


@pytest.fixture
def opted_out(settings):
    person = ContactFactory()
    reply(person, "No more texts", MONDAY_10)
    send_what_is_waiting(MONDAY_10)  # the one confirmation
    person.refresh_from_db()
    assert person.is_opted_out
    return person


def test_help_from_an_opted_out_number_is_answered(opted_out, settings, _sms_outbox):
    help_text = reply(opted_out, "HELP", MONDAY_10 + dt.timedelta(hours=1))

    assert send_what_is_waiting(MONDAY_10 + dt.timedelta(hours=1)) == {settings.SMS_HELP_REPLY: "sent"}
    assert [sms.body for sms in _sms_outbox] == [settings.SMS_OPT_OUT_CONFIRMATION, settings.SMS_HELP_REPLY]
    answer = Message.objects.get(kind=Message.Kind.HELP_REPLY)
    assert (answer.status, answer.to_number) == ("sent", opted_out.phone)
    help_text.refresh_from_db()
    assert help_text.handled_automatically
    opted_out.refresh_from_db()
    assert opted_out.is_opted_out  # HELP asks what this is; it does not opt them back in


def test_the_dispatcher_lets_a_help_answer_through_to_an_opted_out_number_and_nothing_else(opted_out):
    with freeze_time(MONDAY_10):
        answer = Message.objects.create(
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.HELP_REPLY,
            body="Attack-a-Crack: reply STOP to unsubscribe.",
            from_number="+16175550100",
            to_number=opted_out.phone,
            contact=opted_out,
            status=Message.Status.QUEUED,
            status_changed_at=MONDAY_10,
            created_at=MONDAY_10,
            next_attempt_at=MONDAY_10,
        )
        others = [
            Message.objects.create(
                direction=Message.Direction.OUTBOUND,
                kind=kind,
                body=f"A {kind} text",
                from_number="+16175550100",
                to_number=opted_out.phone,
                contact=opted_out,
                status=Message.Status.QUEUED,
                status_changed_at=MONDAY_10,
                created_at=MONDAY_10,
                next_attempt_at=MONDAY_10,
            )
            for kind in (Message.Kind.STAFF, Message.Kind.AUTOMATIC)
        ]

    assert send_what_is_waiting(MONDAY_10) == {
        answer.body: "sent",
        "A staff text": "cancelled",
        "A automatic text": "cancelled",
    }
    for text in others:
        text.refresh_from_db()
        assert text.error == "Not sent: the contact opted out"
    with pytest.raises(outbox.CannotText, match="opted out"):
        services.send_staff_text(contact=opted_out, body="Are you sure?")


@pytest.mark.parametrize("later", ["actually, how much?", "Yes", "Yes please, call me", "Sure"])
def test_nothing_an_opted_out_person_writes_opts_them_back_in_but_start(opted_out, later, _sms_outbox):
    reply(opted_out, later, MONDAY_10 + dt.timedelta(hours=1))

    assert send_what_is_waiting(MONDAY_10 + dt.timedelta(hours=1)) == {}
    opted_out.refresh_from_db()
    assert opted_out.is_opted_out and len(_sms_outbox) == 1  # only the confirmation, an hour ago

    reply(opted_out, "START", MONDAY_10 + dt.timedelta(hours=2))

    opted_out.refresh_from_db()
    assert not opted_out.is_opted_out
