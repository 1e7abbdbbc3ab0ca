"""What an opted-out person's texts do: HELP is answered (carriers expect every HELP answered),
nothing else reaches them, and nothing they write opts them back in but START or UNSTOP."""

import datetime as dt

import pytest
from freezegun import freeze_time

from messaging import outbox, services
from messaging.intent import reply_intent
from messaging.models import Message
from tests.campaigns.conftest import eastern
from tests.factories import ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

MONDAY_10 = eastern(2024, 1, 15, 10, 0)


def reply(contact, body: str, at: dt.datetime) -> Message:
    """An inbound text as webhook processing stores it, then what it means is acted on."""
    with freeze_time(at):
        message = InboundMessageFactory(
            contact=contact, body=body, created_at=at, status_changed_at=at, intent=reply_intent(body)
        )
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


# --- Marked wherever a conversation or a reply is listed ----------------------------------------

AFTER = "Written after they opted out: they stay opted out. Only START or UNSTOP from them opts them back in."


def section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}"')[1].split("</section>")[0]


def test_an_opted_out_persons_later_reply_is_marked_in_conversations_today_and_the_thread(opted_out, admin_client):
    later = reply(opted_out, "actually, how much?", MONDAY_10 + dt.timedelta(hours=1))
    reply(ContactFactory(first_name="Ivy"), "Yes please", MONDAY_10 + dt.timedelta(hours=1))
    assert later.intent == "interested"  # what it says; the mark says what it means for consent

    with freeze_time(MONDAY_10 + dt.timedelta(hours=2)):
        conversations = admin_client.get("/conversations/").content.decode()
        replies = section(admin_client.get("/").content.decode(), "replies")
        thread = admin_client.get(f"/conversations/{opted_out.pk}/").content.decode()

    rows = conversations.split("<tr>")[2:]
    [theirs] = [row for row in rows if "actually, how much?" in row]
    [ivys] = [row for row in rows if "Yes please" in row]
    assert ">Opted out</span>" in theirs and AFTER in theirs
    assert "Opted out" not in ivys and AFTER not in ivys
    [their_reply] = [item for item in replies.split("<li>") if "actually, how much?" in item]
    assert ">Opted out</span>" in their_reply and ">Interested</span>" in their_reply and AFTER in their_reply
    assert "Opted out" not in [item for item in replies.split("<li>") if "Yes please" in item][0]
    assert "What they write after that does not opt them back in: only START or UNSTOP from them does" in thread
    bubbles = {bubble.split(">")[0]: bubble for bubble in thread.split('class="bubble ')[1:]}
    assert AFTER in bubbles[f'inbound" data-message="{later.pk}"']
    assert "actually, how much?" in bubbles[f'inbound" data-message="{later.pk}"']
    assert sum(AFTER in bubble for bubble in bubbles.values()) == 1  # not the opt-out, not our confirmation


def test_the_note_names_every_word_that_opts_them_back_in():
    from messaging.consent import OPT_IN_KEYWORDS

    assert {word.upper() for word in OPT_IN_KEYWORDS} == {"START", "UNSTOP"}
    assert all(word.upper() in AFTER for word in OPT_IN_KEYWORDS)
