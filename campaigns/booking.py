"""The booking engine: how a campaign run decides who is texted when.

One run (`execute_campaign`, behind the clock, the API's execute/start/resume, the admin and
`manage.py execute_campaign`) takes the booking lock, decides eligibility again, releases sends
that missed their slot, books as many members as today's budget and window allow (paced, never a
burst, balanced between variants), forecasts the day of everyone else, and completes the campaign
when its audience is exhausted. `run_campaign` isolates one run; `run_campaigns` is the clock.
"""

import collections
import contextlib
import datetime as dt
import gc
import itertools
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns import compliance, decisions, selectors, sends
from campaigns.calendar import BusinessCalendar, Window
from campaigns.errors import CampaignLocked, CampaignNotRunnable, CampaignRunFailed, NoSendingNumber
from campaigns.models import Campaign, CampaignContact, CampaignSend, ComplianceRecord
from contacts.models import Contact
from messaging.models import ConsentReview, Message

logger = logging.getLogger(__name__)

# Members in the queue: eligible, without a send.
WAITING = [CampaignContact.Status.PENDING, CampaignContact.Status.QUEUED]


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


@dataclass(frozen=True)
class ExecutionResult:
    """What one run of a campaign did. ``sent`` and ``queued`` are the user's contract names."""

    campaign_id: int
    status: str
    sent: int  # sends booked for today's window by this run
    queued: int  # eligible members waiting for a later business day
    rebooked: int  # booked sends that missed their slot and got a new one (or went back to the queue)
    ineligible: int
    flagged: int
    booked_today: int  # this campaign's sends counting against today's limit, this run's included
    business_date: dt.date | None  # the day this run booked for, None outside business days
    next_send_at: dt.datetime | None


# One lock for all booking: the daily limit is shared by every campaign on a number, and the
# frequency cap by every campaign texting a contact, so two runs must never count at once.
BOOKING_LOCK_KEY = 0x41414321  # "AAC!"


def _lock_booking() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BOOKING_LOCK_KEY])
    # SQLite: transactions start IMMEDIATE (settings), which serializes writers already.


def execute_campaign(*, campaign_id: int, now: dt.datetime | None = None) -> ExecutionResult:
    """Book today's sends for an active campaign and queue the rest for later business days.

    The one code path behind the beat schedule, the API action and the manage.py command.
    Takes the booking lock, re-decides eligibility, gives sends that missed their slot a new
    one, books as many eligible members as today's remaining budget and window allow (paced,
    never a burst, balanced between variants), forecasts the day of everyone else, and
    completes the campaign when its audience is exhausted.
    """
    now = now or timezone.now()
    calendar = BusinessCalendar.from_settings()
    with transaction.atomic():
        _lock_booking()
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
        inputs, scope = decisions.observe(campaign, now=now)
        if scope.nothing:
            # Nothing it decides from has changed since its last recorded run: that run stands,
            # and so do the members' statuses it counted.
            counts = decisions.recorded_member_counts(campaign)
            return _result(campaign, counts=counts, today=today, open_today=open_today, booked=0, rebooked=0)
        with decisions.deciding():
            # Released first, so a member whose slot went by is decided again like everyone waiting.
            rebooked = sends.release_missed(campaign, now, keep_today=open_today, today=today)
            queue_moved = _refresh_eligibility(campaign, now, contacts=None if scope.everything else scope.contacts)
            booked: list[CampaignSend] = []
            could_book_more = False
            if (
                queue_moved
                or scope.reorders
                or rebooked
                or _queue_may_move(campaign, scope, today=today, open_today=open_today)
            ):
                booked, could_book_more = _book_and_forecast(
                    campaign, number=number, calendar=calendar, now=now, today=today, open_today=open_today
                )
            if _audience_exhausted(campaign):
                campaign.status = Campaign.Status.COMPLETED
                campaign.save(update_fields=["status", "updated_at"])
        counts = dict(campaign.memberships.values_list("status").annotate(count=Count("id")).order_by())
        decisions.record(
            campaign, inputs, now=now, calendar=calendar, could_book_more=could_book_more, member_counts=counts
        )
        return _result(
            campaign, counts=counts, today=today, open_today=open_today, booked=len(booked), rebooked=rebooked
        )


def _queue_may_move(campaign: Campaign, scope: decisions.Scope, *, today: dt.date, open_today: bool) -> bool:
    """Whether a run that decided some members again must book or forecast the queue again, though
    no member joined or left it: a waiting member's window may have moved, or today has room."""
    waiting = campaign.memberships.filter(status__in=WAITING)
    if scope.moved_windows and waiting.filter(contact_id__in=list(scope.moved_windows)).exists():
        return True
    # A cancelled send gives back its place in the day's limit.
    return open_today and selectors.daily_limit(campaign, today=today).today > 0 and waiting.exists()


def _book_and_forecast(
    campaign: Campaign, *, number: str, calendar: BusinessCalendar, now: dt.datetime, today: dt.date, open_today: bool
) -> tuple[list[CampaignSend], bool]:
    """Book today what fits and forecast the day of everyone else waiting; returns the sends booked
    and whether today could still take more."""
    with _cycle_collection_paused():
        waiting = selectors.waiting_members(campaign)
        booked = []
        if open_today:
            booked = _book_today(campaign, waiting, number=number, today=today, calendar=calendar, now=now)
        booked_members = {send.contact_id for send in booked}
        later = [member for member in waiting if member.contact_id not in booked_members]
        _forecast_later_days(later, campaign, calendar=calendar, after=today)
    could_book_more = bool(later) and open_today and selectors.daily_limit(campaign, today=today).today > 0
    return booked, could_book_more


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """The queue of a large campaign is 100,000 tuples and more made at once, none in a cycle: each
    pass of the cycle collector over them found nothing and cost a fifth of the run (0.4 s of 2)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _result(
    campaign: Campaign, *, counts: dict[str, int], today: dt.date, open_today: bool, booked: int, rebooked: int
) -> ExecutionResult:
    """What the campaign stands at after a run on ``today``, with ``counts`` of its members by status."""
    next_send = sends.waiting().filter(campaign=campaign).aggregate(at=Min("scheduled_for"))["at"]
    return ExecutionResult(
        campaign_id=campaign.pk,
        status=campaign.status,
        sent=booked,
        queued=counts.get(CampaignContact.Status.PENDING, 0) + counts.get(CampaignContact.Status.QUEUED, 0),
        rebooked=rebooked,
        ineligible=counts.get(CampaignContact.Status.INELIGIBLE, 0),
        flagged=counts.get(CampaignContact.Status.FLAGGED, 0),
        booked_today=sends.counting_against_the_limit().filter(campaign=campaign, business_date=today).count(),
        business_date=today if open_today else None,
        next_send_at=next_send,
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
    Campaign.objects.filter(pk=campaign_id, last_run_failed_at__isnull=False).update(
        last_run_failed_at=None, last_run_error=""
    )
    return result


def run_campaigns(*, now: dt.datetime | None = None) -> list[ExecutionResult]:
    """The clock's tick: activate due campaigns, then run every active one, each on its own: one
    campaign's problem never holds up the others."""
    now = now or timezone.now()
    activate_due_campaigns(now=now)
    results = []
    for campaign_id in (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            results.append(run_campaign(campaign_id=campaign_id, now=now))
        except CampaignNotRunnable:
            # Paused or cancelled since the list was read, or no sending number: the next tick tries again.
            logger.warning("Campaign %s not run", campaign_id, exc_info=True)
        except CampaignRunFailed:
            pass  # logged and recorded by run_campaign
    return results


@dataclass(frozen=True)
class Eligibility:
    """One eligibility rule of the table (compliance.RULES) as a condition on a member: when it
    holds, the member may not be texted, with this status and reason."""

    rule: str
    violated: Any  # an expression on a CampaignContact row
    status: str
    reason: str | Expression  # the text, or an expression on the row that gives it


def texts_by_other_campaigns(campaign: Campaign) -> QuerySet[CampaignSend]:
    """Other campaigns' live texts to the member (``OuterRef("contact_id")``), each with the moment
    the frequency cap counts it from (sent, else booked for)."""
    return (
        compliance.texted_bookings()
        .filter(contact_id=OuterRef("contact_id"))
        .exclude(campaign_id=campaign.pk)
        .annotate(texted_at=Coalesce("message__sent_at", "scheduled_for"))
    )


def frequency_cap_reason(campaign: Campaign) -> str:
    return f"Texted by another campaign in the last {campaign.frequency_cap_days} days"


def eligibility_rules(campaign: Campaign, now: dt.datetime) -> list[Eligibility]:
    """The booking rules that depend on the member alone, in the order their reasons are given."""
    contact = Contact.objects.filter(pk=OuterRef("contact_id"))
    rules = [
        Eligibility(
            "not_opted_out",
            Exists(contact.filter(opted_out_at__isnull=False)),
            CampaignContact.Status.INELIGIBLE,
            "Opted out",
        ),
        Eligibility(
            "consent_clear",
            Exists(ConsentReview.objects.filter(contact_id=OuterRef("contact_id"), decision="")),
            CampaignContact.Status.FLAGGED,
            "Wrote something that may be an opt-out: waiting for a person to decide",
        ),
        Eligibility(
            "mobile_number",
            Exists(contact.exclude(not_textable_reason="")),
            CampaignContact.Status.INELIGIBLE,
            Subquery(contact.values("not_textable_reason")[:1], output_field=CharField()),
        ),
    ]
    if campaign.frequency_cap_days:
        since = now - dt.timedelta(days=campaign.frequency_cap_days)
        rules.append(
            Eligibility(
                "frequency_cap",
                Exists(texts_by_other_campaigns(campaign).filter(texted_at__gte=since)),
                CampaignContact.Status.INELIGIBLE,
                frequency_cap_reason(campaign),
            )
        )
    texted_us = Q(
        Exists(Message.objects.filter(contact_id=OuterRef("contact_id"), direction=Message.Direction.INBOUND)),
        review_approved=False,
    )
    if campaign.prior_contact_policy == Campaign.PriorContactPolicy.SKIP:
        rules.append(
            Eligibility(
                "prior_contact_policy",
                texted_us,
                CampaignContact.Status.INELIGIBLE,
                "Has texted us before (campaign skips them)",
            )
        )
    else:
        rules.append(
            Eligibility(
                "prior_contact_policy",
                texted_us,
                CampaignContact.Status.FLAGGED,
                "Has texted us before: review before texting",
            )
        )
    return rules


def _refresh_eligibility(campaign: Campaign, now: dt.datetime, *, contacts: frozenset[int] | None) -> bool:
    """Decide again, in one statement, whether each member without a send may be texted (of
    ``contacts`` only, when given); returns whether the queue may have moved: always when everyone
    was decided, else whether one of those members joined or left it.

    Eligibility can change between adding and sending (an opt-out, another campaign's text),
    so it is decided again whenever what it reads changes. The first rule that applies is the reason.
    """
    rules = [(rule.violated, rule.status, rule.reason) for rule in eligibility_rules(campaign, now)]
    new_status = Case(
        *[When(condition, then=Value(status)) for condition, status, _ in rules],
        When(
            status__in=[CampaignContact.Status.INELIGIBLE, CampaignContact.Status.FLAGGED],
            then=Value(CampaignContact.Status.PENDING),
        ),
        default=F("status"),
    )
    new_reason = Case(
        *[When(condition, then=Value(reason) if isinstance(reason, str) else reason) for condition, _, reason in rules],
        default=Value(""),
    )
    # A member with a send in this campaign was decided for good (texted, refused, cancelled):
    # deciding again would book them a second time. Only a failed text staff chose to try again
    # leaves the member to be decided afresh.
    booked = CampaignSend.objects.filter(campaign_id=campaign.pk, contact_id=OuterRef("contact_id"))
    decided = (
        Exists(booked.exclude(message__status=Message.Status.FAILED))
        | Exists(booked.filter(created_at__gte=OuterRef("retry_requested_at")))
        | Q(Exists(booked), retry_requested_at__isnull=True)
    )
    candidates = campaign.memberships.filter(
        status__in=[
            CampaignContact.Status.PENDING,
            CampaignContact.Status.QUEUED,
            CampaignContact.Status.INELIGIBLE,
            CampaignContact.Status.FLAGGED,
        ]
    ).exclude(decided)
    if contacts is not None:
        candidates = candidates.filter(contact_id__in=list(contacts))
    changed = candidates.annotate(new_status=new_status, new_reason=new_reason).exclude(
        status=F("new_status"), ineligible_reason=F("new_reason")
    )

    def update() -> None:
        CampaignContact.objects.filter(pk__in=changed.values("pk")).update(
            status=new_status, ineligible_reason=new_reason, queued_for=None, updated_at=now
        )

    if contacts is None:
        update()
        return True
    # Another reason to keep a member out moves no one's place: only joining or leaving does.
    named_waiting = campaign.memberships.filter(contact_id__in=list(contacts), status__in=WAITING)
    waiting_before = set(named_waiting.values_list("pk", flat=True))
    update()
    return set(named_waiting.values_list("pk", flat=True)) != waiting_before


def _book_today(
    campaign: Campaign,
    waiting: list[selectors.Waiting],
    *,
    number: str,
    today: dt.date,
    calendar: BusinessCalendar,
    now: dt.datetime,
) -> list[CampaignSend]:
    """Book as many waiting members as today's budget allows, each in a paced slot inside the
    window that person may be texted in (business hours ∩ their local legal hours)."""
    business = calendar.window(today)
    gap = dt.timedelta(minutes=settings.CAMPAIGN_PACE_MINUTES) / settings.CAMPAIGN_PACE_BATCH
    limit = selectors.daily_limit(campaign, today=today)
    last_slot = sends.waiting().filter(from_number=number, business_date=today).aggregate(at=Max("scheduled_for"))["at"]
    # Pacing is per number: after the last slot any campaign on it has booked today.
    first_slot = max(now, business.opens, last_slot + gap if last_slot else business.opens)
    budget = limit.today
    if budget <= 0 or first_slot >= business.closes:
        return []

    groups, over_state_cap = _window_groups(
        waiting, calendar=calendar, today=today, first_slot=first_slot, closes=business.closes, budget=budget
    )
    chosen: list[tuple[selectors.Waiting, dt.datetime, Window]] = []
    slot = first_slot
    while len(chosen) < budget and slot < business.closes and groups:
        open_now = [(queue[0][0], window) for window, queue in groups.items() if slot in window]
        if not open_now:
            # Nobody left may be texted at this slot: jump to the next slot some window opens at.
            upcoming = min((window.opens for window in groups if window.opens > slot), default=None)
            if upcoming is None:
                break
            slot += gap * math.ceil((upcoming - slot) / gap)
            continue
        _, window = min(open_now)
        _, member = groups[window].popleft()
        chosen.append((member, slot, window))
        slot += gap
        for closed in [window for window in groups if not groups[window] or window.closes <= slot]:
            del groups[closed]
    if not chosen:
        return []
    checks = _booking_checks(
        campaign,
        chosen,
        now=now,
        calendar=calendar,
        business=business,
        over_state_cap=over_state_cap,
        limit=limit,
    )
    passed = [(booking, record) for booking, record in zip(chosen, checks, strict=True) if all(record.values())]
    if len(passed) < len(chosen):
        logger.error("Campaign %s: %s member(s) chosen but failing a rule were not booked", campaign.pk,
                     len(chosen) - len(passed))  # fmt: skip
    chosen = [booking for booking, _ in passed]
    if not chosen:
        return []

    booked = sends.book(
        campaign=campaign,
        number=number,
        today=today,
        now=now,
        slots=[(member.contact_id, campaign.winner or member.variant, slot) for member, slot, _ in chosen],
    )
    zone_sources = dict(
        Contact.objects.filter(pk__in=[m.contact_id for m, _, _ in chosen]).values_list("pk", "time_zone_source")
    )
    ComplianceRecord.objects.bulk_create(
        ComplianceRecord(
            send=send,
            campaign=campaign,
            contact_id=send.contact_id,
            recipient_zones=",".join(member.recipient.zones),
            zone_source=zone_sources[member.contact_id],
            recipient_state=member.recipient.state,
            recipient_hours=compliance.describe_hours(member.recipient.state),
            allowed_from=window.opens,
            allowed_until=window.closes,
            booked_at=now,
            slot=slot,
            booking_checks=record,
        )
        for send, (member, slot, window), (_, record) in zip(booked, chosen, passed, strict=True)
    )
    CampaignContact.objects.filter(pk__in=[member.member_id for member, _, _ in chosen]).update(
        status=CampaignContact.Status.SCHEDULED, queued_for=None, updated_at=now
    )
    return booked


def _window_groups(
    waiting: list[selectors.Waiting],
    *,
    calendar: BusinessCalendar,
    today: dt.date,
    first_slot: dt.datetime,
    closes: dt.datetime,
    budget: int,
) -> tuple[dict[Window, collections.deque[tuple[int, selectors.Waiting]]], set[int]]:
    """The members who may be booked today, grouped by the window they may be texted in, each group
    in queue order with its place in the queue; and the contacts found over their state's cap.

    No group can give more than the day's budget, so each holds only its first ``budget`` members
    under their cap: the cap is counted for those alone, not for the whole queue."""
    windows = {recipient: compliance.allowed_window(calendar, today, recipient)
               for recipient in {member.recipient for member in waiting}}  # fmt: skip
    in_window: dict[Window, list[tuple[int, selectors.Waiting]]] = collections.defaultdict(list)
    for position, member in enumerate(waiting):
        window = windows[member.recipient]
        if window is not None and window.closes > first_slot:
            in_window[window].append((position, member))
    over_state_cap: set[int] = set()
    counted: set[int] = set()
    while True:
        heads = {
            window: list(itertools.islice((m for m in members if m[1].contact_id not in over_state_cap), budget))
            for window, members in in_window.items()
        }
        uncounted = {member.contact_id: member.recipient for head in heads.values() for _, member in head
                     if member.contact_id not in counted}  # fmt: skip
        if not uncounted:
            return {window: collections.deque(head) for window, head in heads.items() if head}, over_state_cap
        counted |= uncounted.keys()
        over_state_cap |= compliance.over_state_cap(uncounted, start=first_slot, end=closes)


def _booking_checks(
    campaign: Campaign,
    chosen: list[tuple[selectors.Waiting, dt.datetime, Window]],
    *,
    now: dt.datetime,
    calendar: BusinessCalendar,
    business: Window,
    over_state_cap: set[int],
    limit: selectors.DailyLimit,
) -> list[dict[str, bool]]:
    """Every booking rule of the table (compliance.BOOKING_RULES), evaluated for each chosen member
    at its slot, in bulk: what its compliance record keeps. A rule added to the table without a
    way to evaluate it here fails loudly (KeyError), never passes silently."""
    eligibility = eligibility_rules(campaign, now)
    violations = {
        row["pk"]: row
        for row in CampaignContact.objects.filter(pk__in=[member.member_id for member, _, _ in chosen])
        .annotate(**{rule.rule: ExpressionWrapper(rule.violated, output_field=BooleanField()) for rule in eligibility})
        .values("pk", *[rule.rule for rule in eligibility])
    }
    records = []
    for index, (member, slot, _) in enumerate(chosen):
        violated = violations[member.member_id]
        evaluated = {
            **{rule.rule: not violated[rule.rule] for rule in eligibility},
            # A campaign with no frequency cap has no such rule to break.
            "frequency_cap": not violated.get("frequency_cap", False),
            "daily_limit": limit.booked_on_number + index < limit.number_limit
            and limit.booked_by_campaign + index < limit.campaign_limit,
            "business_window": slot in business,
            "recipient_window": compliance.may_send_at(calendar, slot, member.recipient),
            "state_cap": member.contact_id not in over_state_cap,
        }
        records.append({name: bool(evaluated[name]) for name in compliance.BOOKING_RULES})
    return records


def _forecast_later_days(
    waiting: list[selectors.Waiting], campaign: Campaign, *, calendar: BusinessCalendar, after: dt.date
) -> None:
    """Mark each remaining member with when it should be texted: its allowed window's opening on
    the business day its place in the queue reaches."""
    per_day = selectors.daily_limit_per_day(campaign)
    days = calendar.business_days_after(after)
    updates: dict[dt.datetime, list[int]] = {}
    for start in range(0, len(waiting), per_day):
        day = next(days)
        windows: dict[compliance.Recipient, Window | None] = {}  # few distinct recipients per day
        for member in waiting[start : start + per_day]:
            if member.recipient not in windows:
                windows[member.recipient] = compliance.allowed_window(calendar, day, member.recipient)
            window = windows[member.recipient]
            opens = window.opens if window else calendar.window(day).opens
            updates.setdefault(opens, []).append(member.member_id)
    now = timezone.now()
    if connection.vendor == "postgresql" and updates:
        # One statement for every day, not one per day: 100,000 members at 125 a day are 800 days.
        openings = list(updates)
        member_ids = [member_id for member_ids in updates.values() for member_id in member_ids]
        day_numbers = [number for number, member_ids in enumerate(updates.values(), 1) for _ in member_ids]
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE campaigns_campaigncontact AS member
                   SET status = %s, queued_for = day.opens, updated_at = %s
                   FROM unnest(%s::bigint[], %s::int[]) AS queue(member_id, day_number)
                   JOIN unnest(%s::timestamptz[]) WITH ORDINALITY AS day(opens, day_number) USING (day_number)
                   WHERE member.campaign_id = %s AND member.id = queue.member_id
                     AND (member.status <> %s OR member.queued_for IS DISTINCT FROM day.opens)""",
                [
                    CampaignContact.Status.QUEUED,
                    now,
                    _array_literal(member_ids),
                    _array_literal(day_numbers),
                    openings,
                    campaign.pk,
                    CampaignContact.Status.QUEUED,
                ],
            )
        return
    for opens, member_ids in updates.items():
        CampaignContact.objects.filter(pk__in=member_ids).exclude(
            status=CampaignContact.Status.QUEUED, queued_for=opens
        ).update(status=CampaignContact.Status.QUEUED, queued_for=opens, updated_at=now)


def _array_literal(numbers: list[int]) -> str:
    """A PostgreSQL array of integers as its text form: psycopg adapts a list element by element,
    and sending 100,000 ids that way takes four times as long."""
    return "{" + ",".join(map(str, numbers)) + "}"


def _audience_exhausted(campaign: Campaign) -> bool:
    """Nothing left to do: no member waits or awaits review, and no send is still going out."""
    waiting = campaign.memberships.filter(
        status__in=[CampaignContact.Status.PENDING, CampaignContact.Status.QUEUED, CampaignContact.Status.FLAGGED]
    )
    in_flight = campaign.sends.filter(message__status__in=[Message.Status.QUEUED, Message.Status.SENDING])
    return not waiting.exists() and not in_flight.exists()
