"""The booking engine: how a campaign run decides who is texted when.

One run (`execute_campaign`, behind the clock, the API's execute/start/resume, the admin and
`manage.py execute_campaign`) takes the booking lock, releases sends that missed their slot, and
books at the head of the queue: it takes the next members in their stored order
(``CampaignContact.queue_position``), judges only those with the rules of the table
(`campaigns.compliance.RULES`), keeps out for good the members a lasting rule refuses, passes
over for now those a passing one refuses, and gives the rest paced slots inside the window each
may be texted in (business hours ∩ their legal hours), until the day's budget or window is full.
It completes the campaign when its audience is exhausted. What it costs follows what it books,
not the size of the audience; when everyone else is expected to be texted is worked out when a
page asks (`campaigns.forecast`). `run_campaign` isolates one run; `run_campaigns` is the clock.
"""

import collections
import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from campaigns import compliance, follow_ups, queue, selectors, sends
from campaigns.calendar import BusinessCalendar, Window
from campaigns.compliance import BookingDay, Refusal, Slot
from campaigns.errors import CampaignLocked, CampaignNotRunnable, CampaignRunFailed, NoSendingNumber
from campaigns.models import Campaign, CampaignContact, CampaignSend, ComplianceRecord
from contacts import dnc
from contacts.models import Contact
from contacts.not_texted import Reason
from messaging.models import Message

logger = logging.getLogger(__name__)

# Members judged at a time from the head of the queue, and at most per run: a run that finds
# nobody it may book among these leaves the rest for the next tick.
HEAD_BATCH = 250
MOST_JUDGED_PER_RUN = 2000


def activate_due_campaigns(*, now: dt.datetime | None = None) -> list[int]:
    """Scheduled campaigns whose start time has come become active; returns their ids."""
    now = now or timezone.now()
    activated = []
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.SCHEDULED, starts_at__lte=now).values_list(
        "pk", flat=True
    ):
        # Compare-and-set: a second beat (or a staff action) may have moved it meanwhile.
        if Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SCHEDULED).update(
            status=Campaign.Status.ACTIVE, updated_at=now
        ):
            activated.append(campaign_id)
    return activated


# --- Execution -----------------------------------------------------------------------------


@dataclass
class ExecutionResult:
    """What one run of a campaign did, and where its audience stands after it. ``sent`` and
    ``queued`` are the user's contract names; the audience's counts are read when first asked
    (the clock asks for none)."""

    campaign: Campaign
    sent: int  # sends booked for today's window by this run
    rebooked: int  # booked sends that missed their slot and got a new one (or went back to the queue)
    today: dt.date
    business_date: dt.date | None  # the day this run booked for, None outside business days

    @property
    def campaign_id(self) -> int:
        return self.campaign.pk

    @property
    def status(self) -> str:
        return self.campaign.status

    @cached_property
    def _members(self) -> dict[str, int]:
        return dict(self.campaign.memberships.values_list("status").annotate(n=Count("id")).order_by())

    @property
    def queued(self) -> int:
        """Eligible members waiting for a later slot or day."""
        return self._members.get(CampaignContact.Status.PENDING, 0)

    @property
    def ineligible(self) -> int:
        return self._members.get(CampaignContact.Status.INELIGIBLE, 0)

    @property
    def flagged(self) -> int:
        return self._members.get(CampaignContact.Status.FLAGGED, 0)

    @cached_property
    def booked_today(self) -> int:
        """This campaign's sends counting against today's limit, this run's included."""
        return sends.counting_against_the_limit().filter(campaign=self.campaign, business_date=self.today).count()

    @cached_property
    def next_send_at(self) -> dt.datetime | None:
        return sends.waiting().filter(campaign=self.campaign).aggregate(at=Min("scheduled_for"))["at"]


# One lock for all booking: the daily limit is shared by every campaign on a number, and the
# frequency cap by every campaign texting a contact, so two runs must never count at once.
BOOKING_LOCK_KEY = 0x41414321  # "AAC!"


def lock_booking() -> None:
    """Take the one booking lock for the rest of the transaction (every writer of campaign texts does)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BOOKING_LOCK_KEY])
    # SQLite: transactions start IMMEDIATE (settings), which serializes writers already.


def execute_campaign(*, campaign_id: int, now: dt.datetime | None = None) -> ExecutionResult:
    """Book today's sends for an active campaign from the head of its queue.

    The one code path behind the beat schedule, the API action and the manage.py command.
    Takes the booking lock, gives sends that missed their slot a new one, books as many members
    from the head of the queue as today's remaining budget and window allow (paced, never a
    burst, balanced between variants by the queue's order), and completes the campaign when its
    audience is exhausted.
    """
    now = now or timezone.now()
    calendar = BusinessCalendar.from_settings()
    with transaction.atomic():
        lock_booking()
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != Campaign.Status.ACTIVE:
            raise CampaignNotRunnable(f"The campaign is {campaign.status}, not active: it sends nothing.")
        try:
            number = campaign.sending_number
        except NoSendingNumber as error:
            raise CampaignNotRunnable(str(error)) from error

        today = calendar.local_date(now)
        window = calendar.window(today)
        open_today = window is not None and now < window.closes
        rebooked = sends.release_missed(campaign, now, keep_today=open_today, today=today)
        booked = []
        if open_today:
            if campaign.is_follow_up:
                follow_ups.join_due_members(campaign, calendar=calendar, today=today)
            booked = _book_today(campaign, number=number, day=BookingDay(calendar=calendar, today=today, now=now))
        if _audience_exhausted(campaign):
            campaign.status = Campaign.Status.COMPLETED
            campaign.save(update_fields=["status", "updated_at"])
    return ExecutionResult(
        campaign=campaign,
        sent=len(booked),
        rebooked=rebooked,
        today=today,
        business_date=today if open_today else None,
    )


def run_campaign(*, campaign_id: int, now: dt.datetime | None = None) -> ExecutionResult:
    """One campaign's run, isolated: an unexpected error is logged with the campaign, kept on it for
    Today, and raised as CampaignRunFailed (the caller's other work goes on); a run that succeeds
    clears it."""
    try:
        result = execute_campaign(campaign_id=campaign_id, now=now)
    except (CampaignNotRunnable, CampaignLocked, Campaign.DoesNotExist):
        raise
    except Exception as error:
        logger.exception("The run of campaign %s failed", campaign_id)
        reason = f"{type(error).__name__}: {error}"[:2000]
        Campaign.objects.filter(pk=campaign_id).update(last_run_failed_at=timezone.now(), last_run_error=reason)
        raise CampaignRunFailed(
            f"The campaign's run failed ({reason[:300]}). It is logged and shown on Today; the clock tries again."
        ) from error
    if result.campaign.last_run_failed_at is not None:
        Campaign.objects.filter(pk=campaign_id).update(last_run_failed_at=None, last_run_error="")
    return result


def run_campaigns(*, now: dt.datetime | None = None) -> list[ExecutionResult]:
    """The clock's tick: activate due campaigns, then run every active one in the clock's order
    (``Campaign.CLOCK_ORDER``: follow-ups first, due on their day), each on its own: one campaign's
    problem never holds up the others."""
    now = now or timezone.now()
    activate_due_campaigns(now=now)
    results = []
    for campaign_id in (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE)
        .order_by(*Campaign.CLOCK_ORDER)
        .values_list("pk", flat=True)
    ):
        try:
            results.append(run_campaign(campaign_id=campaign_id, now=now))
        except CampaignNotRunnable:
            # Paused or cancelled since the list was read, or no sending number: the next tick tries again.
            logger.warning("Campaign %s not run", campaign_id, exc_info=True)
        except CampaignRunFailed:
            pass  # logged and recorded by run_campaign
    return results


def _book_today(campaign: Campaign, *, number: str, day: BookingDay) -> list[CampaignSend]:
    """Book as many members from the head of the queue as today's budget allows, each in a paced
    slot inside the window that person may be texted in (business hours ∩ their local legal
    hours). Members are judged a batch at a time, only as far as the day needs."""
    calendar, today, now = day.calendar, day.today, day.now
    business = calendar.window(today)
    gap = dt.timedelta(minutes=settings.CAMPAIGN_PACE_MINUTES) / settings.CAMPAIGN_PACE_BATCH
    limit = selectors.daily_limit(campaign, today=today)
    budget = limit.today
    if budget <= 0:
        return []
    last_slot = sends.waiting().filter(from_number=number, business_date=today).aggregate(at=Max("scheduled_for"))["at"]
    # Pacing is per number: after the last slot any campaign on it has booked today.
    first_slot = max(now, business.opens, last_slot + gap if last_slot else business.opens)
    if first_slot >= business.closes:
        return []

    candidates = queue.Candidates()
    judged = Judgement()
    chosen: list[tuple[queue.Waiting, dt.datetime, Window]] = []
    after, queue_ended = None, False
    slot = first_slot
    while len(chosen) < budget and slot < business.closes:
        picked = candidates.next_open_at(slot)
        if (
            picked is None
            and not queue_ended
            and len(candidates) < budget - len(chosen)
            and len(judged.rows) < MOST_JUDGED_PER_RUN
        ):
            # Nobody judged so far may be texted at this slot, and they cannot fill the day: judge
            # the next members first.
            head = queue.head_of_queue(campaign, now=now, after=after, count=HEAD_BATCH)
            queue_ended = len(head) < HEAD_BATCH
            if head:
                after = head[-1].place
                _judge(campaign, head, day, first_slot, candidates, judged)
            continue
        if picked is None:
            # Nobody left may be texted at this slot: jump to the next slot some window opens at.
            upcoming = candidates.next_opening_after(slot)
            if upcoming is None:
                break
            slot += gap * math.ceil((upcoming - slot) / gap)
            continue
        member, window = picked
        chosen.append((member, slot, window))
        slot += gap
        candidates.drop_closed(slot)
    _keep_refusals(judged.refusals, now=now)
    if not chosen:
        return []
    checks = _booking_checks(chosen, judged, day=day, business=business, limit=limit)
    booked = sends.book(
        campaign=campaign,
        number=number,
        today=today,
        now=now,
        slots=[(member.contact_id, campaign.variant_for(member.variant), slot) for member, slot, _ in chosen],
    )
    contacts = Contact.objects.in_bulk([member.contact_id for member, _, _ in chosen])
    lists = dnc.listings(contact.phone for contact in contacts.values())
    ComplianceRecord.objects.bulk_create(
        ComplianceRecord(
            send=send,
            campaign=campaign,
            contact_id=send.contact_id,
            recipient_zones=",".join(member.recipient.zones),
            zone_source=contacts[member.contact_id].time_zone_source,
            consent_basis=contacts[member.contact_id].consent_basis,
            lists_checked=[listing.as_record() for listing in lists[contacts[member.contact_id].phone]],
            recipient_state=member.recipient.state,
            recipient_hours=compliance.describe_hours(member.recipient.state, day.today),
            allowed_from=window.opens,
            allowed_until=window.closes,
            booked_at=now,
            slot=slot,
            booking_checks=record,
        )
        for send, (member, slot, window), record in zip(booked, chosen, checks, strict=True)
    )
    CampaignContact.objects.filter(pk__in=[member.member_id for member, _, _ in chosen]).update(
        status=CampaignContact.Status.SCHEDULED, held_because="", ineligible_reason="", not_before=None, updated_at=now
    )
    return booked


@dataclass
class Judgement:
    """What a run found of the members it judged: each one's row as the rules read it, the
    refusals it keeps, and the contacts over their state's cap today."""

    rows: dict[int, dict] = field(default_factory=dict)
    refusals: dict[int, Refusal] = field(default_factory=dict)
    over_cap: set[int] = field(default_factory=set)


def _judge(
    campaign: Campaign,
    head: list[queue.Waiting],
    day: BookingDay,
    first_slot: dt.datetime,
    candidates: queue.Candidates,
    judged: Judgement,
) -> None:
    """The rules of the table for members at the head of the queue: each one refused is kept out
    (for good, or passed over until it may pass), each one who passes and may be texted some time
    today joins the candidates."""
    rules_broken = compliance.judge_members(campaign, {member.member_id: member.recipient for member in head}, day)
    passing = []
    for member in head:
        row, broken = rules_broken[member.member_id]
        judged.rows[member.member_id] = row
        if broken:
            judged.refusals[member.member_id] = compliance.refusal_of(campaign, row, broken, day)
        else:
            passing.append(member)
    windows = {recipient: compliance.allowed_window(day.calendar, day.today, recipient)
               for recipient in {member.recipient for member in passing}}  # fmt: skip
    closes = day.calendar.window(day.today).closes
    judged.over_cap |= compliance.over_state_cap(
        {member.contact_id: member.recipient for member in passing}, start=first_slot, end=closes
    )
    for member in passing:
        window = windows[member.recipient]
        if member.contact_id in judged.over_cap:
            judged.refusals[member.member_id] = Refusal(
                Reason.STATE_CAP, "Over their state's cap of marketing texts", until=day.tomorrow
            )
        elif window is None or window.closes <= first_slot:
            judged.refusals[member.member_id] = Refusal(
                Reason.OUTSIDE_HOURS, "Outside the hours they may be texted today", until=day.tomorrow
            )
        else:
            candidates.add(member, window)


def _keep_refusals(refusals: dict[int, Refusal], *, now: dt.datetime) -> None:
    """What the run decided of the members it refused, one statement per decision."""
    by_refusal: dict[Refusal, list[int]] = collections.defaultdict(list)
    for member_id, refusal in refusals.items():
        by_refusal[refusal].append(member_id)
    for refusal, member_ids in by_refusal.items():
        CampaignContact.objects.filter(pk__in=member_ids).update(
            status=refusal.status,
            held_because=refusal.because,
            ineligible_reason=refusal.detail[:255],
            not_before=refusal.until,
            updated_at=now,
        )


def _booking_checks(
    chosen: list[tuple[queue.Waiting, dt.datetime, Window]],
    judged: Judgement,
    *,
    day: BookingDay,
    business: Window,
    limit: selectors.DailyLimit,
) -> list[dict[str, bool]]:
    """Every booking rule of the table for each member booked, at its slot: what its compliance
    record keeps (all passed, or the run would not have chosen it)."""
    return [
        compliance.booking_checks(
            judged.rows[member.member_id],
            Slot(
                recipient=member.recipient,
                at=slot,
                index=index,
                day=day,
                business=business,
                used_on_number=limit.booked_on_number,
                number_limit=limit.number_limit,
                used_by_campaign=limit.booked_by_campaign,
                campaign_limit=limit.campaign_limit,
                over_state_cap=member.contact_id in judged.over_cap,
            ),
        )
        for index, (member, slot, _) in enumerate(chosen)
    ]


def _audience_exhausted(campaign: Campaign) -> bool:
    """Nothing left to do: no member waits or awaits review, no send is still going out, and (a
    follow-up) nobody may still join."""
    # Asked as "who is next?", so the queue's index answers it, not a scan for any pending row.
    next_in_queue = campaign.memberships.filter(status=CampaignContact.Status.PENDING).order_by("queue_position", "id")
    flagged = campaign.memberships.filter(status=CampaignContact.Status.FLAGGED)
    in_flight = campaign.sends.filter(message__status__in=[Message.Status.QUEUED, Message.Status.SENDING])
    return (
        not in_flight.exists()
        and not next_in_queue.values("pk")[:1]
        and not flagged.exists()
        and not (campaign.is_follow_up and follow_ups.may_still_join(campaign))
    )
