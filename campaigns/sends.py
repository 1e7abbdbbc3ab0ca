"""A campaign's texts as campaigns sees them: booking one (the booking and its text, queued for its
slot), releasing the ones whose slot went by, and what a member becomes when messaging moves their
text along (``record_outcome``, the one way messaging writes to campaigns' tables).

The text itself, and its one state machine, is messaging's ``Message``; a ``CampaignSend`` keeps
only what booking decided."""

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from campaigns import audience
from campaigns.models import Campaign, CampaignContact, CampaignSend, ComplianceRecord
from contacts.models import Contact
from contacts.not_texted import Reason
from messaging.models import Message


def book(
    *, campaign: Campaign, number: str, today: dt.date, now: dt.datetime, slots: Sequence[tuple[int, str, dt.datetime]]
) -> list[CampaignSend]:
    """Book each (contact, variant, slot) of ``slots``: the booking and its text, queued to go at
    the slot. The text is written when a worker first takes it."""
    sends = CampaignSend.objects.bulk_create(
        CampaignSend(
            campaign=campaign,
            contact_id=contact_id,
            variant=variant,
            from_number=number,
            business_date=today,
            scheduled_for=slot,
        )
        for contact_id, variant, slot in slots
    )
    phones = dict(Contact.objects.filter(pk__in=[send.contact_id for send in sends]).values_list("pk", "phone"))
    Message.objects.bulk_create(
        Message(
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.CAMPAIGN,
            body="",
            from_number=number,
            to_number=phones[send.contact_id],
            contact_id=send.contact_id,
            status=Message.Status.QUEUED,
            status_changed_at=now,
            created_at=now,
            next_attempt_at=send.scheduled_for,
            campaign=campaign,
            campaign_send=send,
        )
        for send in sends
    )
    return sends


def waiting() -> QuerySet[CampaignSend]:
    """Bookings whose text waits for its slot (or for a retry): not yet taken by a worker."""
    return CampaignSend.objects.filter(message__status=Message.Status.QUEUED)


def counting_against_the_limit() -> QuerySet[CampaignSend]:
    """Bookings that hold a place in their day's limit: every one whose text was not cancelled (a
    failed text used its place: OpenPhone counted it). A released booking is gone, and frees its place."""
    return CampaignSend.objects.exclude(message__status=Message.Status.CANCELLED)


def release_missed(campaign: Campaign, now: dt.datetime, *, keep_today: bool, today: dt.date) -> int:
    """Bookings whose text still waits well after its slot (paused, workers down) never go late.

    Today's, while the window is still open, are released and booked again into fresh slots
    ahead of everyone else; earlier days' are released back to the front of the queue. A text
    never tried is deleted with its booking (nothing happened); one that waits for a retry is
    kept, cancelled, for its attempts. The member waits again, and the booking's compliance record
    stays, saying the slot was missed. Returns how many members were released."""
    late = now - dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)
    queued = waiting().filter(campaign=campaign)
    missed = queued.filter(scheduled_for__lt=late)
    if not keep_today:
        missed = missed | queued.filter(business_date__lt=today)
    missed_contacts = list(missed.values_list("contact_id", flat=True))
    if not missed_contacts:
        return 0
    released = list(queued.filter(contact_id__in=missed_contacts).values_list("pk", flat=True))
    # Held at dispatch or never picked up: the record says the slot went by. A retry already
    # released by the dispatcher keeps its own outcome.
    ComplianceRecord.objects.filter(send__in=released, dispatch_outcome__in=["", "held"]).update(
        dispatch_outcome="slot missed"
    )
    texts = Message.objects.filter(campaign_send__in=released)
    texts.filter(attempts=0).delete()
    texts.update(
        status=Message.Status.CANCELLED,
        status_changed_at=now,
        error="Not sent: its slot went by; released to be booked again",
    )
    CampaignSend.objects.filter(pk__in=released).delete()
    campaign.memberships.filter(contact_id__in=missed_contacts, status=CampaignContact.Status.SCHEDULED).update(
        status=CampaignContact.Status.PENDING, updated_at=now
    )
    return len(missed_contacts)


def _pause_if_filtered(campaign_id: int, *, now: dt.datetime) -> None:
    """An active campaign whose texts of the last day fail at a rate that signals carriers filtering
    them pauses itself, saying why and what to check (Today shows it until staff resume)."""
    outcomes = list(
        Message.objects.filter(
            campaign_id=campaign_id,
            status__in=[Message.Status.DELIVERED, Message.Status.FAILED],
            status_changed_at__gte=now - dt.timedelta(days=1),
        ).values_list("status", flat=True)
    )
    if len(outcomes) < settings.CARRIER_FILTER_MIN_TEXTS:
        return
    failed = outcomes.count(Message.Status.FAILED)
    if failed < settings.CARRIER_FILTER_FAILED_SHARE * len(outcomes):
        return
    reason = (
        f"Paused by itself: {failed} of its last {len(outcomes)} texts with an outcome failed "
        f"({failed / len(outcomes):.0%}) in a day, a sign carriers are filtering them as spam. Check the "
        "failed texts' reasons, the wording (links, shortened URLs, all capitals), and the sending number's "
        "registration in OpenPhone before resuming."
    )
    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.ACTIVE).update(
        status=Campaign.Status.PAUSED, pause_reason=reason, updated_at=now
    )


class Outcome(StrEnum):
    """What became of a campaign text, as messaging tells it (the dispatch ones as the compliance
    record names them)."""

    SENT_TO_PROVIDER = "sent to provider"  # it passed every dispatch rule and goes to OpenPhone
    HELD = "held"  # a first attempt that may not go yet: it waits, and a missed slot is released
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # it may never go (opted out, campaign cancelled)
    RELEASED = "released"  # it could not go in time: the member is booked afresh
    OPTED_OUT = "opted out"  # the contact opted out: no campaign texts them again
    MAY_TEXT_AGAIN = (
        "may text again"  # what kept the contact out passed (a resubscribe, a possible opt-out that was none)
    )


def record_outcome(
    outcome: Outcome,
    *,
    now: dt.datetime,
    texts: Sequence[Message] = (),
    contact_id: int | None = None,
    because: Reason | None = None,
    checks: dict[str, bool] | None = None,
) -> None:
    """The one way messaging writes to campaigns' tables, in the transaction that moved ``texts``
    (campaign texts, whose own status messaging has already written):

    - the compliance record of each text keeps the dispatch rules checked (``checks``) and the
      outcome; a released text's record says so;
    - sent: its member is ``sent``; failed: ``ineligible``, the text failed with the provider's
      words (final for that campaign, unless staff try again); cancelled: ``ineligible``
      ``because`` (opted out, campaign cancelled);
    - released: the booking goes (its record stays) and the member waits to be booked again;
    - opted out (``contact_id``): every member of theirs not yet texted is ``ineligible``;
    - may text again (``contact_id``): their refused members wait again at their place
      (`campaigns.audience.reconsider`).
    """
    send_ids = [text.campaign_send_id for text in texts if text.campaign_send_id]
    records = ComplianceRecord.objects.filter(send_id__in=send_ids)
    if checks is not None:
        records.update(dispatched_at=now, dispatch_checks=checks, dispatch_outcome=outcome)
    elif outcome == Outcome.RELEASED:
        records.update(dispatch_outcome=outcome)
    members = CampaignContact.objects.filter(
        Exists(
            CampaignSend.objects.filter(
                pk__in=send_ids, campaign_id=OuterRef("campaign_id"), contact_id=OuterRef("contact_id")
            )
        )
    )
    if outcome == Outcome.SENT:
        members.update(status=CampaignContact.Status.SENT, updated_at=now)
    elif outcome == Outcome.FAILED:
        for text in texts:
            members.filter(campaign_id=text.campaign_id, contact_id=text.contact_id).update(
                status=CampaignContact.Status.INELIGIBLE,
                held_because=Reason.TEXT_FAILED,
                ineligible_reason=f"Text failed: {text.error}"[:255],
                not_before=None,
                updated_at=now,
            )
        for campaign_id in {text.campaign_id for text in texts}:
            _pause_if_filtered(campaign_id, now=now)
    elif outcome == Outcome.CANCELLED:
        members.update(
            status=CampaignContact.Status.INELIGIBLE,
            held_because=because,
            ineligible_reason=because.label,
            not_before=None,
            updated_at=now,
        )
    elif outcome == Outcome.RELEASED:
        members.filter(status=CampaignContact.Status.SCHEDULED).update(
            status=CampaignContact.Status.PENDING, updated_at=now
        )
        CampaignSend.objects.filter(pk__in=send_ids).delete()
    elif outcome == Outcome.OPTED_OUT:
        CampaignContact.objects.filter(
            contact_id=contact_id,
            status__in=[CampaignContact.Status.PENDING, CampaignContact.Status.SCHEDULED],
        ).update(
            status=CampaignContact.Status.INELIGIBLE,
            held_because=Reason.OPTED_OUT,
            ineligible_reason=Reason.OPTED_OUT.label,
            not_before=None,
            updated_at=now,
        )
    elif outcome == Outcome.MAY_TEXT_AGAIN:
        audience.reconsider(contact_ids=[contact_id], now=now)
