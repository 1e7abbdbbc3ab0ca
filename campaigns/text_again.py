"""Staff's "text again on DATE": answering someone's reply ("not now, maybe in the spring"), staff
choose a day, and the person joins the follow-up step of the campaign whose text they answered,
passed over until the opening of that day. From then the follow-up's runs book them like anyone,
through every rule of the table: the caps, the windows, the number's limit, an opt-out, and
anything they write after the day was chosen (``quiet_since``) stop them. Choosing the day approves
the text (they texted us, which the prior-contact rule would otherwise hold for a person): who
chose it, and answering which reply, stay on the member.

Also the list of those days (`due_follow_ups`), and taking one back (`cancel_text_again`).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns import audience, booking
from campaigns.calendar import BusinessCalendar
from campaigns.errors import CampaignLocked, NoFollowUpStep, TextAgainRefused
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.not_texted import Reason
from messaging import outbox
from messaging.intent import ReplyIntent
from messaging.models import Message
from messaging.suggested_dates import Suggestion, suggested_date

# The furthest ahead a day may be chosen.
MOST_DAYS_AHEAD = 400
# Members whose chosen day still stands: not yet texted, not kept out.
PLANNED = (CampaignContact.Status.PENDING, CampaignContact.Status.SCHEDULED, CampaignContact.Status.FLAGGED)
DUE = ("today", "overdue", "upcoming", "all")


# The replies the conversation offers "text again on a day" for: a no, or a not now.
OFFERED_FOR = frozenset({ReplyIntent.NOT_INTERESTED, ReplyIntent.NOT_NOW})


@dataclass(frozen=True)
class Offer:
    """What the conversation offers for a reply: the campaign it answers, that campaign's follow-up
    step (None: it has none), the day already chosen for them and still planned, and the day
    suggested from their words ("in the spring" → a day in March), with the words it read (None: none)."""

    reply: Message
    campaign: Campaign
    follow_up: Campaign | None
    planned: CampaignContact | None
    suggestion: Suggestion | None


def offers(replies: list[Message], *, today: dt.date) -> dict[int, Offer]:
    """For each of these replies (one contact's) that answers a campaign text with a no or a not
    now, by its id: what the conversation offers to text them again."""
    offered = [
        reply
        for reply in replies
        if reply.direction == Message.Direction.INBOUND and reply.in_reply_to_send_id and reply.intent in OFFERED_FOR
    ]
    if not offered:
        return {}
    answered = dict(
        CampaignSend.objects.filter(pk__in=[reply.in_reply_to_send_id for reply in offered]).values_list(
            "pk", "campaign"
        )
    )
    campaigns = Campaign.objects.in_bulk(set(answered.values()))
    follow_ups = {step.follow_up_of_id: step for step in Campaign.objects.filter(follow_up_of__in=campaigns)}
    planned = {
        member.campaign_id: member
        for member in CampaignContact.objects.filter(
            campaign__in=list(follow_ups.values()),
            contact_id=offered[0].contact_id,
            text_again_on__isnull=False,
            status__in=PLANNED,
        )
    }
    result = {}
    for reply in offered:
        campaign = campaigns[answered[reply.in_reply_to_send_id]]
        follow_up = follow_ups.get(campaign.pk)
        result[reply.pk] = Offer(
            reply=reply,
            campaign=campaign,
            follow_up=follow_up,
            planned=planned.get(follow_up.pk) if follow_up else None,
            suggestion=suggested_date(reply.body, today=today),
        )
    return result


def latest_offer(replies: list[Message], *, today: dt.date) -> Offer | None:
    """What the conversation offers for the latest of these replies that answers a campaign text
    with a no or a not now."""
    found = offers(replies, today=today)
    return max(found.values(), key=lambda offer: (offer.reply.created_at, offer.reply.pk), default=None)


def answered_campaign(reply: Message) -> Campaign | None:
    """The campaign whose text the reply answers (within the attribution window), if any."""
    send = reply.in_reply_to_send
    return send.campaign if send is not None else None


def latest_answer(contact_id: int) -> Message | None:
    """The contact's latest reply that answers a campaign text."""
    return (
        Message.objects.filter(
            contact_id=contact_id, direction=Message.Direction.INBOUND, in_reply_to_send__isnull=False
        )
        .select_related("in_reply_to_send__campaign")
        .order_by("-created_at", "-id")
        .first()
    )


def follow_up_of(campaign: Campaign) -> Campaign | None:
    return Campaign.objects.filter(follow_up_of=campaign).first()


def text_again(
    *, reply: Message, on: dt.date, user: AbstractBaseUser | None, now: dt.datetime | None = None
) -> CampaignContact:
    """The person who wrote ``reply`` is texted again on ``on`` by the follow-up step of the
    campaign whose text they answered. A text of that follow-up already booked for them is
    cancelled (the chosen day replaces it); one already sent is final. Returns their member."""
    now = now or timezone.now()
    calendar = BusinessCalendar.from_settings()
    today = calendar.local_date(now)
    if on < today:
        raise TextAgainRefused("That day has passed: choose today or a later day.", field="on")
    if on > today + dt.timedelta(days=MOST_DAYS_AHEAD):
        raise TextAgainRefused(f"Choose a day within {MOST_DAYS_AHEAD} days.", field="on")
    answered = answered_campaign(reply)
    if answered is None:
        raise TextAgainRefused(
            "This reply answers no campaign text, so no follow-up can text them again: text them yourself.",
            field="reply",
        )
    if answered.is_follow_up:
        raise CampaignLocked(
            f"They answered “{answered.name}”, which is already the follow-up: text them yourself, or add them "
            "to a new campaign."
        )
    with transaction.atomic():
        booking.lock_booking()
        contact = reply.contact
        contact.refresh_from_db(fields=["opted_out_at"])
        if contact.is_opted_out:
            raise CampaignLocked(f"{contact} opted out: they are not texted again.")
        follow_up = Campaign.objects.select_for_update().filter(follow_up_of=answered).first()
        if follow_up is None:
            raise NoFollowUpStep(
                f"“{answered.name}”, the campaign they answered, has no follow-up step: give it one (its texts) "
                "on its page, then choose the day again."
            )
        if follow_up.status == Campaign.Status.CANCELLED:
            raise CampaignLocked(f"The follow-up of “{answered.name}” was cancelled: it texts nobody.")
        if follow_up.status == Campaign.Status.COMPLETED:
            # Done with everyone it had; this person is new work for it.
            follow_up.status = Campaign.Status.ACTIVE
            follow_up.save(update_fields=["status", "updated_at"])
        member = _member(follow_up, contact.pk, now=now)
        member.status = CampaignContact.Status.PENDING
        member.held_because = member.ineligible_reason = ""
        member.not_before = calendar.next_opening(dt.datetime.combine(on, dt.time(), tzinfo=calendar.zone))
        member.quiet_since = now
        member.review_approved = True
        member.text_again_on, member.text_again_reply, member.text_again_by = on, reply, user
        member.save()
    return member


def _member(follow_up: Campaign, contact_id: int, *, now: dt.datetime) -> CampaignContact:
    """The contact's member of the follow-up, joined now if it was not: never one it texted."""
    member = CampaignContact.objects.select_for_update().filter(campaign=follow_up, contact_id=contact_id).first()
    if member is None:
        audience.add_members(
            campaign=follow_up,
            contact_ids_sql="SELECT %s AS id",
            params=(contact_id,),
            added_via=CampaignContact.AddedVia.TEXT_AGAIN,
        )
        return CampaignContact.objects.select_for_update().get(campaign=follow_up, contact_id=contact_id)
    if member.status == CampaignContact.Status.SENT:
        raise CampaignLocked(f"The follow-up of “{follow_up.follow_up_of.name}” has texted them already.")
    if member.status == CampaignContact.Status.SCHEDULED:
        outbox.cancel_waiting_texts(
            Message.objects.filter(campaign=follow_up, contact_id=contact_id),
            because=Reason.FOLLOW_UP_CANCELLED,
            error="Not sent: staff chose a day to text them again instead",
            now=now,
        )
        member.refresh_from_db()
    return member


def cancel_text_again(
    *, member: CampaignContact, user: AbstractBaseUser | None, now: dt.datetime | None = None
) -> CampaignContact:
    """Take back a day chosen to text someone again: they are not texted by the follow-up (a text
    already booked for them is cancelled). The day, and who chose it, stay on record."""
    now = now or timezone.now()
    with transaction.atomic():
        booking.lock_booking()
        member = CampaignContact.objects.select_for_update().get(pk=member.pk)
        if member.text_again_on is None or member.status not in PLANNED:
            raise CampaignLocked("Only a follow-up still planned can be cancelled.")
        if member.status == CampaignContact.Status.SCHEDULED:
            outbox.cancel_waiting_texts(
                Message.objects.filter(campaign_id=member.campaign_id, contact_id=member.contact_id),
                because=Reason.FOLLOW_UP_CANCELLED,
                now=now,
            )
        who = getattr(user, "username", "") or "staff"
        CampaignContact.objects.filter(pk=member.pk).update(
            status=CampaignContact.Status.INELIGIBLE,
            held_because=Reason.FOLLOW_UP_CANCELLED,
            ineligible_reason=f"Cancelled by {who} on {timezone.localdate(now):%b %-d, %Y}",
            not_before=None,
            updated_at=now,
        )
    member.refresh_from_db()
    return member


def due_follow_ups(*, today: dt.date, due: str = "all") -> QuerySet[CampaignContact]:
    """The days staff chose to text someone again, soonest first: still planned and ``today``,
    ``overdue`` (their day passed and they wait: a cap, a full number, a pause) or ``upcoming``;
    or ``all`` of them, whatever became of them (newest day first)."""
    chosen = CampaignContact.objects.filter(text_again_on__isnull=False).select_related(
        "contact", "campaign__follow_up_of", "text_again_reply", "text_again_by"
    )
    if due == "all":
        return chosen.order_by("-text_again_on", "-id")
    planned = chosen.filter(status__in=PLANNED)
    by_day = {"today": {"text_again_on": today}, "overdue": {"text_again_on__lt": today}}
    return planned.filter(**by_day.get(due, {"text_again_on__gt": today})).order_by("text_again_on", "id")


def due_count(*, today: dt.date) -> int:
    """Follow-ups staff chose whose day has come (today's and overdue ones): Today's count."""
    return CampaignContact.objects.filter(text_again_on__lte=today, status__in=PLANNED).count()
