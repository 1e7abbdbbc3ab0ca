"""Who joins a campaign's follow-up step, and when.

A follow-up step is a campaign of its own (``Campaign.follow_up_of``): its texts, its split, its
results, booked by the same runs under the same rules of the table as any campaign, from its
campaign's number, so the number's daily limit, the pacing, the windows, the caps and the lawful
basis hold for both together. What is its own is who joins its audience, and when:

1. **Their follow-up is due.** On each business day the follow-up's run first takes its campaign's
   days that are now ``follow_up_after_days`` business days old and that it has not taken yet
   (``Campaign.followed_up_through`` is the last it took), and adds, in one statement, every member
   whose first text went on them (sent or delivered). What it reads follows those days, not the
   audience. Each joins with ``quiet_since``, the moment that text went, and the approval staff
   gave it there (they had texted us before); anything they wrote since keeps them out (the rules'
   ``no_reply_yet``), as an opt-out does (``not_opted_out``), at booking and again as the text goes.
2. **Staff chose a day** to text them again, answering their reply (`campaigns.text_again`).

A follow-up is done once its campaign is closed and every day of its campaign's texts has been
taken; its run completes it like any campaign when nobody is left.
"""

import collections
import datetime as dt

from django.db.models import Count, Max, OuterRef, Q, Subquery

from campaigns import audience
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from messaging.models import Message

# A first text that went: only these are followed up (one that may have gone, ``unknown``, is not).
WENT = (Message.Status.SENT, Message.Status.DELIVERED)
# First texts that will join a follow-up when their day comes: booked, going, or gone.
ON_THEIR_WAY = (Message.Status.QUEUED, Message.Status.SENDING, *WENT)


def due_through(calendar: BusinessCalendar, today: dt.date, days: int) -> dt.date:
    """The last of a campaign's days whose members are due a follow-up ``days`` business days
    later on ``today``: those at least that many business days before it."""
    return calendar.business_day_back(today, days) - dt.timedelta(days=1)


def join_due_members(follow_up: Campaign, *, calendar: BusinessCalendar, today: dt.date) -> int:
    """Add to the follow-up the members of its campaign whose first text went on a day now due and
    not taken before; returns how many joined. Called by the follow-up's run, under the booking lock."""
    days = follow_up.follow_up_after_days
    if days is None:
        return 0
    through = due_through(calendar, today, days)
    taken = follow_up.followed_up_through
    if taken is not None and taken >= through:
        return 0
    went = CampaignSend.objects.filter(
        campaign_id=follow_up.follow_up_of_id, business_date__lte=through, message__status__in=WENT
    )
    if taken is not None:
        went = went.filter(business_date__gt=taken)
    sql, params = went.values_list("contact_id").query.sql_with_params()
    added = audience.add_members(
        campaign=follow_up,
        contact_ids_sql=f"SELECT DISTINCT went.contact_id AS id FROM ({sql}) AS went",
        params=params,
        added_via=CampaignContact.AddedVia.FOLLOW_UP,
    )
    if added:
        first_text = CampaignSend.objects.filter(
            campaign_id=follow_up.follow_up_of_id, contact_id=OuterRef("contact_id"), message__status__in=WENT
        )
        first_member = CampaignContact.objects.filter(
            campaign_id=follow_up.follow_up_of_id, contact_id=OuterRef("contact_id")
        )
        follow_up.memberships.filter(status=CampaignContact.Status.PENDING, quiet_since__isnull=True).update(
            quiet_since=Subquery(first_text.values("message__sent_at")[:1]),
            review_approved=Subquery(first_member.values("review_approved")[:1]),
        )
    Campaign.objects.filter(pk=follow_up.pk).update(followed_up_through=through)
    follow_up.followed_up_through = through
    return added


def may_still_join(follow_up: Campaign) -> bool:
    """Whether members may still join the follow-up by themselves: its campaign is open, or texted
    on days not yet taken."""
    first = Campaign.objects.only("status").get(pk=follow_up.follow_up_of_id)
    if not first.is_closed:
        return True
    if follow_up.follow_up_after_days is None:
        return False
    last = first.sends.filter(message__status__in=WENT).aggregate(day=Max("business_date"))["day"]
    return last is not None and (follow_up.followed_up_through is None or follow_up.followed_up_through < last)


def expected_to_join(steps: list[Campaign], *, calendar: BusinessCalendar) -> dict[int, collections.Counter[dt.date]]:
    """For each of these follow-ups, by id: the members of its campaign whose first text is booked
    or went and who have not joined yet, by the business day they are due to (a day already past:
    they join at the next run), in one query. The forecasts count them; staff's chosen days are
    the follow-ups' own waiting members."""
    joining: dict[int, collections.Counter[dt.date]] = {step.pk: collections.Counter() for step in steps}
    timed = {step.follow_up_of_id: step for step in steps if step.follow_up_after_days is not None}
    if not timed:
        return joining
    not_taken = Q()
    for step in timed.values():
        after = {"business_date__gt": step.followed_up_through} if step.followed_up_through else {}
        not_taken |= Q(campaign_id=step.follow_up_of_id, **after)
    texts = CampaignSend.objects.filter(not_taken, message__status__in=ON_THEIR_WAY)
    for first, day, count in texts.values_list("campaign_id", "business_date").annotate(n=Count("id")).order_by():
        step = timed[first]
        joining[step.pk][calendar.business_day_after(day, step.follow_up_after_days)] += count
    return joining
