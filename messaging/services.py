"""Writes with business meaning for messaging: consent by text (messaging/consent.py reads what a
text means), the possible opt-outs a person decides, and staff texts."""

import datetime as dt
import re

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from attackacrack.errors import ApplicationError
from campaigns.sends import Outcome, record_outcome
from contacts.models import Contact, OptOutEvent
from contacts.not_texted import Reason
from messaging import outbox, plain_text
from messaging.consent import Consent, consent_intent
from messaging.limits import MAX_TEXT_LENGTH
from messaging.models import ConsentReview, IntentCorrection, Message


def handle_keywords(message: Message) -> None:
    """Act on what an inbound text means for consent, at any hour (this is not marketing): a clear
    opt-out at once, START/UNSTOP, HELP (answered whether or not they opted out: the carriers'
    rule); a text that may be an opt-out waits for a person. Nothing else an opted-out person
    writes opts them back in."""
    meaning = consent_intent(message.body)
    if meaning in (Consent.OPT_OUT, Consent.OPT_IN, Consent.HELP):
        Message.objects.filter(pk=message.pk).update(handled_automatically=True)
    if meaning == Consent.OPT_OUT:
        opt_out(contact=message.contact, reason=f"Replied {message.body.strip()[:40]!r}", message=message)
    elif meaning == Consent.OPT_IN:
        resubscribe(contact=message.contact, message=message)
    elif meaning == Consent.HELP:
        outbox.queue_text(contact=message.contact, body=settings.SMS_HELP_REPLY, kind=Message.Kind.HELP_REPLY)
    elif meaning == Consent.POSSIBLE_OPT_OUT and not message.contact.is_opted_out:
        # A person decides. Until then no campaign text reaches the contact: booked ones are held
        # at dispatch and booked again later, and no run books them (the rules' ``consent_clear``).
        ConsentReview.objects.create(message=message, contact=message.contact, created_at=message.created_at)


@transaction.atomic
def decide_review(*, review: ConsentReview, opted_out: bool, user: AbstractBaseUser | None = None) -> ConsentReview:
    """A person read the text: an opt-out (opted out, audited, the one confirmation) or not (the
    contact may be texted again; their campaigns book them at their next run)."""
    review = ConsentReview.objects.select_for_update().select_related("message", "contact").get(pk=review.pk)
    if review.decision:
        raise AlreadyDecided(f"Already decided: {review.get_decision_display()}.")
    review.decision = ConsentReview.Decision.OPT_OUT if opted_out else ConsentReview.Decision.NOT_OPT_OUT
    review.decided_at = timezone.now()
    review.decided_by = user
    review.save(update_fields=["decision", "decided_at", "decided_by"])
    if opted_out:
        opt_out(
            contact=review.contact,
            reason=f"Read as an opt-out: {review.message.body.strip()[:40]!r}",
            message=review.message,
            user=user,
        )
    elif not review.contact.consent_reviews.filter(decision="").exists():
        record_outcome(Outcome.MAY_TEXT_AGAIN, contact_id=review.contact_id, now=timezone.now())
    return review


class AlreadyDecided(ApplicationError):
    code = "already_decided"


@transaction.atomic
def opt_out(
    *, contact: Contact, reason: str, message: Message | None = None, user: AbstractBaseUser | None = None
) -> bool:
    """Opt a contact out: audited, every pending send cancelled, one confirmation. False if it already was."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.is_opted_out:
        # Texting an opted-out number again gets the sender blocked by carriers: no second reply.
        return False
    now = timezone.now()
    contact.opted_out_at = now
    contact.opt_out_reason = reason[:255]
    contact.save(update_fields=["opted_out_at", "opt_out_reason", "updated_at"])
    OptOutEvent.objects.create(
        contact=contact, kind=OptOutEvent.Kind.OPT_OUT, reason=reason[:255], message=message, created_by=user
    )
    # A text of theirs waiting for a person is decided by this.
    ConsentReview.objects.filter(contact=contact, decision="").update(
        decision=ConsentReview.Decision.OPT_OUT, decided_at=now, decided_by=user
    )
    # Every text of theirs still waiting (booked campaign texts, retries, staff texts) never goes,
    # and no campaign texts them again.
    outbox.cancel_waiting_texts(
        Message.objects.filter(contact=contact),
        because=Reason.OPTED_OUT,
        error="Not sent: the contact opted out",
        now=now,
    )
    record_outcome(Outcome.OPTED_OUT, contact_id=contact.pk, now=now)
    if message is not None:
        outbox.queue_text(
            contact=contact, body=settings.SMS_OPT_OUT_CONFIRMATION, kind=Message.Kind.OPT_OUT_CONFIRMATION
        )
    return True


# OpenPhone blocks a number that texted STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT for every
# number of the account, and later sends to it fail. Its API names no code for that refusal: its
# words say it, or the carriers' code for an unsubscribed recipient (21610).
OPTED_OUT_WITH_PROVIDER = re.compile(r"opted[ -]?out|unsubscribed|\b21610\b", re.IGNORECASE)
PROVIDER_OPT_OUT_REASON = "A text was refused: the number opted out with OpenPhone (STOP or a like word)"


def deliver(message_id: int) -> str:
    """Send one text from the outbox (``outbox.deliver_message``), then act on what a refusal says
    of its recipient."""
    result = outbox.deliver_message(message_id)
    if result == "failed":
        settle_failure(Message.objects.get(pk=message_id))
    return result


@transaction.atomic
def settle_failure(message: Message) -> None:
    """A failed text whose refusal says the recipient opted out with OpenPhone opts the contact out
    everywhere, with that reason (their waiting texts cancelled, no campaign texts them again)."""
    if message.contact_id and OPTED_OUT_WITH_PROVIDER.search(f"{message.error} {message.error_code}"):
        opt_out(contact=message.contact, reason=PROVIDER_OPT_OUT_REASON)


@transaction.atomic
def resubscribe(
    *, contact: Contact, message: Message | None = None, user: AbstractBaseUser | None = None, reason: str = ""
) -> bool:
    """Opt a contact back in: by their START (confirmed by text) or by staff, who say why. A START
    written before the text that opted them out (processed late: a retry, a catch-up, events
    processed again) changes nothing: their last word was the opt-out."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if not contact.is_opted_out:
        return False
    if message is not None and message.created_at < _opted_out_by_words_of(contact):
        return False
    contact.opted_out_at = None
    contact.opt_out_reason = ""
    contact.save(update_fields=["opted_out_at", "opt_out_reason", "updated_at"])
    OptOutEvent.objects.create(
        contact=contact,
        kind=OptOutEvent.Kind.OPT_IN,
        reason=(f"Replied {message.body.strip()[:40]!r}" if message else f"Re-subscribed by staff: {reason}")[:255],
        message=message,
        created_by=user,
    )
    record_outcome(Outcome.MAY_TEXT_AGAIN, contact_id=contact.pk, now=timezone.now())
    if message is not None:
        outbox.queue_text(contact=contact, body=settings.SMS_RESUBSCRIBE_CONFIRMATION, kind=Message.Kind.AUTOMATIC)
    return True


def _opted_out_by_words_of(contact: Contact) -> dt.datetime:
    """When the person wrote what opted them out (the opt-out's time when staff did it)."""
    opt_out = contact.opt_out_events.filter(kind=OptOutEvent.Kind.OPT_OUT).select_related("message").first()
    if opt_out is None:
        return contact.opted_out_at
    return opt_out.message.created_at if opt_out.message else opt_out.created_at


@transaction.atomic
def correct_intent(*, message: Message, intent: str, user: AbstractBaseUser | None = None) -> Message:
    """Staff say what a reply really says; the correction is audited and is what the numbers use."""
    message = Message.objects.select_for_update().get(pk=message.pk, direction=Message.Direction.INBOUND)
    if message.intent != intent:
        IntentCorrection.objects.create(
            message=message,
            from_intent=message.intent,
            to_intent=intent,
            corrected_by=user,
            corrected_at=timezone.now(),
        )
        message.intent = intent
        message.save(update_fields=["intent"])
    return message


def send_staff_text(*, contact: Contact, body: str, sent_by: AbstractBaseUser | None = None) -> Message:
    """A one-to-one text from staff: not a campaign send, not counted against the daily limit.
    It is billed like any text, so it goes plain, as templates are saved (messaging.plain_text):
    what that replaced is on the message returned, as ``made_plain``."""
    body = body.strip()
    if not body:
        raise outbox.CannotText("The text is empty.")
    plain = plain_text.normalise(body)
    if len(plain.text) > MAX_TEXT_LENGTH:
        raise outbox.CannotText(f"A text holds at most {MAX_TEXT_LENGTH:,} characters.")
    message = outbox.queue_text(contact=contact, body=plain.text, kind=Message.Kind.STAFF, sent_by=sent_by)
    message.made_plain = plain
    return message


def mark_read(*, contact: Contact) -> int:
    return Message.objects.filter(contact=contact, direction=Message.Direction.INBOUND, read_at__isnull=True).update(
        read_at=timezone.now()
    )
