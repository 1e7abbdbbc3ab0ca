"""Writes with business meaning for messaging: consent by text (STOP/START/HELP) and staff texts."""

import re

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignContact, CampaignSend, SendStatus
from campaigns.texts import MAX_TEXT_LENGTH
from contacts.models import Contact, OptOutEvent
from messaging import outbox
from messaging.models import Message

# Revocation keywords (FCC rule in force since April 2025, plus carrier practice) and phrases,
# matched against the whole message, case and punctuation aside.
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REMOVE", "REVOKE", "OPTOUT"}
    | {"OPT OUT", "REMOVE ME", "STOP TEXTING", "STOP TEXTING ME"}
)
# Only these re-subscribe: "YES" is an ordinary answer to a campaign text.
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> str | None:
    """'opt_out', 'opt_in', 'help' or None for an inbound text."""
    words = " ".join(re.sub(r"[^A-Z ]+", "", body.upper().replace("-", "")).split())
    if words in OPT_OUT_KEYWORDS:
        return "opt_out"
    if words in OPT_IN_KEYWORDS:
        return "opt_in"
    if words in HELP_KEYWORDS:
        return "help"
    return None


def handle_keywords(message: Message) -> None:
    """Act on STOP / START / HELP in an inbound text, at any hour (this is not marketing)."""
    keyword = keyword_of(message.body)
    if keyword == "opt_out":
        opt_out(contact=message.contact, reason=f"Replied {message.body.strip()[:40]!r}", message=message)
    elif keyword == "opt_in":
        resubscribe(contact=message.contact, message=message)
    elif keyword == "help" and not message.contact.is_opted_out:
        outbox.queue_text(contact=message.contact, body=settings.SMS_HELP_REPLY, kind=Message.Kind.AUTOMATIC)


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
    CampaignSend.objects.filter(contact=contact, status=SendStatus.QUEUED).update(
        status=SendStatus.CANCELLED, cancelled_reason="Opted out", updated_at=now
    )
    CampaignContact.objects.filter(
        contact=contact,
        status__in=[CampaignContact.Status.PENDING, CampaignContact.Status.QUEUED, CampaignContact.Status.SCHEDULED],
    ).update(status=CampaignContact.Status.INELIGIBLE, ineligible_reason="Opted out", queued_for=None, updated_at=now)
    # Waiting texts too, retries included: their campaign sends are cancelled with them.
    outbox.cancel_waiting_texts(
        Message.objects.filter(contact=contact), reason="Opted out", error="Not sent: the contact opted out", now=now
    )
    if message is not None:
        outbox.queue_text(
            contact=contact, body=settings.SMS_OPT_OUT_CONFIRMATION, kind=Message.Kind.OPT_OUT_CONFIRMATION
        )
    return True


@transaction.atomic
def resubscribe(*, contact: Contact, message: Message | None = None, user: AbstractBaseUser | None = None) -> bool:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if not contact.is_opted_out:
        return False
    contact.opted_out_at = None
    contact.opt_out_reason = ""
    contact.save(update_fields=["opted_out_at", "opt_out_reason", "updated_at"])
    OptOutEvent.objects.create(
        contact=contact,
        kind=OptOutEvent.Kind.OPT_IN,
        reason=f"Replied {message.body.strip()[:40]!r}" if message else "Re-subscribed by staff",
        message=message,
        created_by=user,
    )
    if message is not None:
        outbox.queue_text(contact=contact, body=settings.SMS_RESUBSCRIBE_CONFIRMATION, kind=Message.Kind.AUTOMATIC)
    return True


def send_staff_text(*, contact: Contact, body: str, sent_by: AbstractBaseUser | None = None) -> Message:
    """A one-to-one text from staff: not a campaign send, not counted against the daily limit."""
    body = body.strip()
    if not body:
        raise outbox.CannotText("The text is empty.")
    if len(body) > MAX_TEXT_LENGTH:
        raise outbox.CannotText(f"A text holds at most {MAX_TEXT_LENGTH:,} characters.")
    return outbox.queue_text(contact=contact, body=body, kind=Message.Kind.STAFF, sent_by=sent_by)


def mark_read(*, contact: Contact) -> int:
    return Message.objects.filter(contact=contact, direction=Message.Direction.INBOUND, read_at__isnull=True).update(
        read_at=timezone.now()
    )
