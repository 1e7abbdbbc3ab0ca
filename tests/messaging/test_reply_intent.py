"""What a reply says (issue 22): labelled by rules on arrival, corrected by staff (audited), and
used to sort the work: STOP and HELP the system answered no longer wait for a person."""

import pytest

from messaging import services
from messaging.intent import ReplyIntent, reply_intent
from messaging.models import IntentCorrection, Message
from tests.factories import ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Yes", ReplyIntent.INTERESTED),
        ("Yes, how much?", ReplyIntent.INTERESTED),
        ("How much for an inspection?", ReplyIntent.INTERESTED),
        ("There's a crack in my foundation, can you look?", ReplyIntent.INTERESTED),
        ("Call me after 3", ReplyIntent.INTERESTED),
        ("Can you stop by Tuesday?", ReplyIntent.INTERESTED),
        ("Si, me interesa", ReplyIntent.INTERESTED),
        ("Who is this?", ReplyIntent.QUESTION),
        ("How did you get my number?", ReplyIntent.QUESTION),
        ("Are you licensed and insured?", ReplyIntent.QUESTION),
        ("Not right now", ReplyIntent.NOT_NOW),
        ("not now, maybe in the spring", ReplyIntent.NOT_NOW),
        ("Ask me after the holidays", ReplyIntent.NOT_NOW),
        ("try me next year", ReplyIntent.NOT_NOW),
        ("busy this month, text in a few weeks", ReplyIntent.NOT_NOW),
        ("Yes but not until spring", ReplyIntent.NOT_NOW),
        ("Call me next week", ReplyIntent.INTERESTED),  # soon: wanting the work now
        ("Not at this time", ReplyIntent.NOT_INTERESTED),  # a polite no
        ("No thanks", ReplyIntent.NOT_INTERESTED),
        ("Not interested", ReplyIntent.NOT_INTERESTED),
        ("We already had it fixed", ReplyIntent.NOT_INTERESTED),
        ("nah", ReplyIntent.NOT_INTERESTED),
        ("Too expensive", ReplyIntent.NOT_INTERESTED),
        ("STOP", ReplyIntent.OPT_OUT),
        ("Please stop texting me", ReplyIntent.OPT_OUT),
        ("Wrong number, stop texting", ReplyIntent.OPT_OUT),
        ("Wrong number", ReplyIntent.WRONG_NUMBER),
        ("I sold the house last year", ReplyIntent.WRONG_NUMBER),
        ("I'm a renter, talk to the landlord", ReplyIntent.WRONG_NUMBER),
        ("The owner passed away", ReplyIntent.WRONG_NUMBER),
        (
            "I'm driving with Do Not Disturb turned on. I'll see your message when I get where I'm going.",
            ReplyIntent.AUTOMATIC,
        ),
        *(
            (driving, ReplyIntent.AUTOMATIC)
            for apostrophe in ("'", "’")
            for driving in (
                text.replace("'", apostrophe)
                for text in (
                    # iOS 11-14, iOS 15+ (Driving Focus), a Focus that silences notifications, Android.
                    "I'm Driving with Do Not Disturb While Driving turned on. I'll see your message when I get "
                    "where I'm going.",
                    "I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going.",
                    "Pat has notifications silenced with Focus",
                    "I'm driving right now - I'll get back to you later.",
                )
            )
        ),
        ("I'm driving, how much for the crack?", ReplyIntent.INTERESTED),  # a person at the wheel
        ("Auto-reply: I am out of the office until Monday.", ReplyIntent.AUTOMATIC),
        ("Liked “Hi Pat, we repair foundations in Quincy”", ReplyIntent.AUTOMATIC),
        ("HELP", ReplyIntent.OTHER),
        ("👍", ReplyIntent.OTHER),
        ("Happy holidays", ReplyIntent.OTHER),
        ("", ReplyIntent.OTHER),
    ],
)
def test_a_reply_is_labelled_by_what_it_says(text, intent):
    assert reply_intent(text) == intent


def test_every_reply_of_the_consent_corpus_gets_a_label():
    from tests.messaging.test_consent import corpus

    labels = {reply_intent(text) for _, text in corpus()}
    assert labels <= set(ReplyIntent.values) and len(labels) == len(ReplyIntent)


def test_stop_and_help_answered_by_the_system_do_not_wait_for_a_person(admin_client):
    contact = ContactFactory()
    for body in ["STOP", "HELP", "Yes, how much?"]:
        message = InboundMessageFactory(contact=contact, body=body, intent=reply_intent(body))
        services.handle_keywords(message)

    today = admin_client.get("/").content.decode()
    waiting = list(
        Message.objects.filter(direction="inbound", handled_automatically=False).values_list("body", flat=True)
    )

    assert waiting == ["Yes, how much?"]
    assert "Yes, how much?" in today and "<br>HELP" not in today.split('id="replies"')[1].split("</section>")[0]


def test_staff_correct_a_label_from_the_thread_and_the_correction_is_kept(admin_client):
    contact = ContactFactory()
    message = InboundMessageFactory(
        contact=contact, body="Maybe in the spring", intent=reply_intent("Maybe in the spring")
    )
    assert message.intent == ReplyIntent.NOT_NOW

    admin_client.post(f"/conversations/messages/{message.pk}/intent", {"intent": "interested"})
    admin_client.post(f"/conversations/messages/{message.pk}/intent", {"intent": "bogus"})

    message.refresh_from_db()
    assert message.intent == ReplyIntent.INTERESTED
    [correction] = IntentCorrection.objects.all()
    assert (correction.from_intent, correction.to_intent) == ("not_now", "interested") and correction.corrected_by
    assert "Interested" in admin_client.get(f"/conversations/{contact.pk}/").content.decode()


def test_conversations_and_replies_waiting_filter_by_label(admin_client):
    interested, curious = ContactFactory(first_name="Ivy"), ContactFactory(first_name="Quinn")
    InboundMessageFactory(contact=interested, body="Yes please", intent=ReplyIntent.INTERESTED)
    InboundMessageFactory(contact=curious, body="Who is this?", intent=ReplyIntent.QUESTION)

    only_interested = admin_client.get("/conversations/?label=interested").content.decode()
    today = admin_client.get("/?replies=question").content.decode().split('id="replies"')[1].split("</section>")[0]

    assert "Ivy" in only_interested and "Quinn" not in only_interested
    assert "Who is this?" in today and "Yes please" not in today


def test_not_now_is_a_label_staff_see_filter_by_and_set(admin_client):
    later, never = ContactFactory(first_name="Lena"), ContactFactory(first_name="Nora")
    InboundMessageFactory(contact=later, body="Try me next year", intent=reply_intent("Try me next year"))
    answer = InboundMessageFactory(contact=never, body="No thanks", intent=reply_intent("No thanks"))

    only_later = admin_client.get("/conversations/?label=not_now").content.decode()
    today = admin_client.get("/?replies=not_now").content.decode().split('id="replies"')[1].split("</section>")[0]
    admin_client.post(f"/conversations/messages/{answer.pk}/intent", {"intent": "not_now"})
    thread = admin_client.get(f"/conversations/{never.pk}/").content.decode()

    assert "Lena" in only_later and "Nora" not in only_later
    assert "Try me next year" in today and "Not now" in today and "No thanks" not in today
    answer.refresh_from_db()
    assert answer.intent == ReplyIntent.NOT_NOW and '<span class="badge">Not now</span>' in thread


def test_the_conversations_list_is_served_alone_for_its_refresh(admin_client):
    InboundMessageFactory(contact=ContactFactory(first_name="Ivy"), body="Yes please", intent=ReplyIntent.INTERESTED)

    page = admin_client.get("/conversations/?label=interested").content.decode()
    refreshed = admin_client.get("/conversations/?label=interested", HTTP_X_REQUESTED_WITH="fetch").content.decode()

    assert 'data-refresh="/conversations/?label=interested"' in page
    assert "Yes please" in refreshed and "Ivy" in refreshed
    assert "<h1>" not in refreshed and "<html" not in refreshed
