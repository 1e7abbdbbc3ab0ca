"""When the texts still to send are expected to go: worked out when a page or the API asks.

Every campaign on a sending number shares the number's daily limit (SMS_DAILY_LIMIT_PER_NUMBER),
and the clock runs them in the order they were made (`campaigns.booking.run_campaigns`): on each
business day the first takes what its own limit and the number's leave, the next what remains,
and so on. Members wait in their stored order (``CampaignContact.queue_position``). So a number's
plan gives each campaign on it the texts it is expected to send on each day, never more than the
number may send that day, counting what is already booked today; and a member's expected day
follows from its place among its campaign's waiting members.

A forecast takes everyone waiting to be textable: the run judges each member only when they
reach the head of the queue, and each refusal brings everyone behind it a place forward.

A follow-up step (`campaigns.follow_ups`) runs first on its number's days (``Campaign.CLOCK_ORDER``),
and its texts are those its campaign sends, ``follow_up_after_days`` business days later: the
plan counts the first texts already booked or gone that have not joined it yet, those it plans
for its campaign, and the members staff chose to text again on a later day, each from its day.
So the campaign's own forecast leaves room on the number for its follow-ups.
"""

import bisect
import collections
import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from attackacrack.estimates import count_each_up_to, count_up_to
from campaigns import follow_ups, sends
from campaigns.calendar import BusinessCalendar
from campaigns.errors import NoSendingNumber
from campaigns.models import Campaign, CampaignContact

# Campaigns whose waiting members the clock will book: active ones, and scheduled ones from their start.
PLANNED_STATUSES = (Campaign.Status.ACTIVE, Campaign.Status.SCHEDULED)
# Members waiting counted one by one, per campaign, before the planner's estimate is taken.
WAITING_COUNTED_UP_TO = 20_000
# Beyond this a forecast stops: a number sending nothing more (a limit of 0) would never finish.
MOST_DAYS = 5000


@dataclass(frozen=True)
class PlannedDay:
    date: dt.date
    opens: dt.datetime  # the business window's opening that day
    texts: int


@dataclass
class CampaignPlan:
    """The days a campaign is expected to text on, with how many, for its waiting members in order
    (a follow-up's: with those expected to join it)."""

    campaign_id: int
    waiting: int
    days: list[PlannedDay] = field(default_factory=list)
    _ends: list[int] = field(default_factory=list)  # the running total of texts at each day's end

    def add(self, day: PlannedDay) -> None:
        self.days.append(day)
        self._ends.append((self._ends[-1] if self._ends else 0) + day.texts)

    def day_of(self, rank: int) -> PlannedDay | None:
        """The day the waiting member at ``rank`` (1 for the head of the queue) is expected on."""
        index = bisect.bisect_left(self._ends, rank)
        return self.days[index] if index < len(self.days) else None

    @property
    def finishes_on(self) -> dt.date | None:
        return self.days[-1].date if self.days else None

    def texts_on(self, day: dt.date) -> int:
        return sum(planned.texts for planned in self.days if planned.date == day)


@dataclass(frozen=True)
class Launch:
    """A campaign not yet on the clock, as if it started at ``starts_at`` with ``waiting`` to text."""

    campaign: Campaign
    starts_at: dt.datetime
    waiting: int


def sending_number(campaign: Campaign) -> str:
    """The number the campaign's texts go from, or "" when none is set (it books nothing)."""
    try:
        return campaign.sending_number
    except NoSendingNumber:
        return ""


def campaigns_on(number: str) -> list[Campaign]:
    """The campaigns on the clock that send from ``number``, in the order the clock runs them."""
    on_number = Q(from_number=number)
    if number and number == settings.OPENPHONE_FROM_NUMBER:
        on_number |= Q(from_number="")
    return list(Campaign.objects.filter(on_number, status__in=PLANNED_STATUSES).order_by(*Campaign.CLOCK_ORDER))


def clock_place(campaign: Campaign) -> tuple[bool, int, int]:
    """Where the clock runs the campaign (``Campaign.CLOCK_ORDER``), as a sort key."""
    return (not campaign.is_follow_up, campaign.follow_up_of_id or 0, campaign.pk)


@dataclass
class Joining:
    """What a follow-up expects to text besides its members waiting now: members by the day they
    join (its campaign's first texts, staff's chosen days), and its campaign's planned texts, which
    join ``days`` business days later."""

    days: int | None
    on: collections.Counter = field(default_factory=collections.Counter)

    def take(self, day: dt.date) -> int:
        """Those who have joined by ``day``, taken out."""
        due = [when for when in self.on if when <= day]
        return sum(self.on.pop(when) for when in due)

    def first_texts(self, calendar: BusinessCalendar, day: dt.date, texts: int) -> None:
        if self.days is not None and texts:
            self.on[calendar.business_day_after(day, self.days)] += texts


def _joining(steps: list[Campaign], *, now: dt.datetime, calendar: BusinessCalendar) -> dict[int, Joining]:
    """For each of these follow-ups, by its campaign's id: who is expected to join it, and when."""
    expected = follow_ups.expected_to_join(steps, calendar=calendar)
    joining = {step.follow_up_of_id: Joining(step.follow_up_after_days, expected[step.pk]) for step in steps}
    first_of = {step.pk: step.follow_up_of_id for step in steps}
    later = CampaignContact.objects.filter(
        campaign__in=steps, status=CampaignContact.Status.PENDING, not_before__gt=now
    )
    for follow_up_id, not_before in later.values_list("campaign_id", "not_before"):
        joining[first_of[follow_up_id]].on[calendar.local_date(calendar.next_opening(not_before))] += 1
    return joining


def number_plan(
    number: str,
    *,
    now: dt.datetime,
    calendar: BusinessCalendar,
    launch: Launch | None = None,
    through: int | None = None,
) -> dict[int, CampaignPlan]:
    """Each campaign on the number's plan, by id: what it is expected to send on each business day
    from today, its waiting members in order, sharing the number's limit in the clock's order.
    With ``through``, only the campaigns the clock runs up to that one, and those whose follow-ups
    run before it: the others take what it leaves, so its plan does not depend on them."""
    campaigns = campaigns_on(number)
    if launch is not None:
        launching = [launch.campaign, *Campaign.objects.filter(follow_up_of=launch.campaign)]
        campaigns = [campaign for campaign in campaigns if campaign.pk not in {step.pk for step in launching}]
        campaigns = sorted([*campaigns, *launching], key=clock_place)
    if through is not None:
        last = next(clock_place(campaign) for campaign in campaigns if campaign.pk == through)
        followed = {campaign.follow_up_of_id for campaign in campaigns if campaign.is_follow_up}
        campaigns = [c for c in campaigns if clock_place(c) <= last or c.pk in followed]
    # A follow-up's members passed over until a later day (staff's chosen day) join then. Past
    # WAITING_COUNTED_UP_TO, the planner's estimate: a forecast of years is as good with it.
    pending = {
        campaign.pk: CampaignContact.objects.filter(campaign_id=campaign.pk, status=CampaignContact.Status.PENDING)
        for campaign in campaigns
    }
    for campaign in campaigns:
        if campaign.is_follow_up:
            pending[campaign.pk] = pending[campaign.pk].exclude(not_before__gt=now)
    waiting = {pk: counted.value for pk, counted in count_each_up_to(pending, WAITING_COUNTED_UP_TO).items()}
    starts = {campaign.pk: campaign.starts_at for campaign in campaigns if campaign.status == Campaign.Status.SCHEDULED}
    joining = _joining([campaign for campaign in campaigns if campaign.is_follow_up], now=now, calendar=calendar)
    follow_up_of = {campaign.pk: campaign.follow_up_of_id for campaign in campaigns if campaign.is_follow_up}
    if launch is not None:
        waiting[launch.campaign.pk] = launch.waiting
        for step in launching:
            starts[step.pk] = launch.starts_at
    # The first business day each campaign not yet running may text on, worked out once.
    first_days = {pk: calendar.local_date(calendar.next_opening(start)) for pk, start in starts.items()}
    today = calendar.local_date(now)
    booked: dict[tuple[dt.date, int], int] = {
        (day, campaign_id): n
        for day, campaign_id, n in sends.counting_against_the_limit()
        .filter(from_number=number, business_date__gte=today)
        .values_list("business_date", "campaign_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    booked_on: dict[dt.date, int] = collections.Counter()
    for (day, _), n in booked.items():
        booked_on[day] += n
    plans = {campaign.pk: CampaignPlan(campaign.pk, waiting.get(campaign.pk, 0)) for campaign in campaigns}
    left = {campaign.pk: waiting.get(campaign.pk, 0) for campaign in campaigns}
    window = calendar.window(today)
    days = calendar.business_days_after(today)
    if window is not None and now < window.closes:
        days = itertools.chain([today], days)
    # After the last day that differs (bookings already made, a campaign's start) and without
    # follow-ups, each day gives every campaign what the one before gave until one runs out.
    settled_from = max([today, *booked_on, *first_days.values()])
    planned_days = itertools.islice(days, MOST_DAYS)
    for day in planned_days:
        for follow_up_id, first_step in follow_up_of.items():
            joined = joining[first_step].take(day)
            left[follow_up_id] += joined
            plans[follow_up_id].waiting += joined
        if not any(left.values()) and not any(expected.on for expected in joining.values()):
            break
        opens = calendar.opening_of(day)
        on_number = settings.SMS_DAILY_LIMIT_PER_NUMBER - booked_on.get(day, 0)
        given = {}
        for campaign in campaigns:
            if first_days.get(campaign.pk, day) > day:
                continue
            own = campaign.daily_limit - booked.get((day, campaign.pk), 0)
            texts = max(0, min(own, on_number, left[campaign.pk]))
            if texts:
                plans[campaign.pk].add(PlannedDay(day, opens, texts))
                left[campaign.pk] -= texts
                on_number -= texts
                given[campaign.pk] = texts
            if campaign.pk in joining:
                joining[campaign.pk].first_texts(calendar, day, texts)
        if given and not joining and day > settled_from:
            # A million waiting at 125 a day: thousands of days, each laid down as it is.
            same_days = min(left[pk] // texts for pk, texts in given.items())
            for later in itertools.islice(planned_days, same_days):
                opens = calendar.opening_of(later)
                for pk, texts in given.items():
                    plans[pk].add(PlannedDay(later, opens, texts))
                    left[pk] -= texts
    return plans


def campaign_plan(campaign: Campaign, *, now: dt.datetime, calendar: BusinessCalendar) -> CampaignPlan | None:
    """The campaign's share of its number's plan; None when it is not on the clock (a draft, paused)."""
    if campaign.status not in PLANNED_STATUSES:
        return None
    return number_plan(sending_number(campaign), now=now, calendar=calendar, through=campaign.pk).get(campaign.pk)


def launch_plan(
    campaign: Campaign, *, starts_at: dt.datetime, waiting: int, calendar: BusinessCalendar
) -> CampaignPlan:
    """What the campaign would send on each day from ``starts_at``, beside the others on its number."""
    launch = Launch(campaign=campaign, starts_at=starts_at, waiting=waiting)
    return number_plan(sending_number(campaign), now=starts_at, calendar=calendar, launch=launch)[campaign.pk]


def queue_ranks(campaign: Campaign, members: list[CampaignContact]) -> dict[int, int]:
    """The place (1 = next) of each of these waiting members in the campaign's queue: counted up
    to the first of them, then read across the stretch they span, so a page near the head of the
    queue costs little whatever the size of the audience. More than WAITING_COUNTED_UP_TO ahead of
    them, the planner's estimate of how many (a page of the queue's tail, the members API's first):
    the plan that far is made from such an estimate too."""
    if not members:
        return {}
    ordered = sorted(members, key=lambda member: (member.queue_position, member.pk))
    first, last = ordered[0], ordered[-1]
    waiting = campaign.memberships.filter(status=CampaignContact.Status.PENDING)
    ahead = count_up_to(
        waiting.filter(
            Q(queue_position__lt=first.queue_position) | Q(queue_position=first.queue_position, id__lt=first.pk)
        ),
        WAITING_COUNTED_UP_TO,
    ).value
    span = (
        waiting.filter(
            Q(queue_position__gt=first.queue_position) | Q(queue_position=first.queue_position, id__gte=first.pk)
        )
        .filter(Q(queue_position__lt=last.queue_position) | Q(queue_position=last.queue_position, id__lte=last.pk))
        .order_by("queue_position", "id")
        .values_list("id", flat=True)
    )
    wanted = {member.pk for member in members}
    return {member_id: ahead + place for place, member_id in enumerate(span, 1) if member_id in wanted}


def expected_moments(
    campaign: Campaign,
    members: list[CampaignContact],
    *,
    calendar: BusinessCalendar,
    now: dt.datetime | None = None,
    plan: CampaignPlan | None = None,
    foreseen=None,
) -> dict[int, dt.datetime]:
    """When each waiting member among ``members`` is expected to be texted: the opening of the
    business day its place reaches (or of the day it was passed over until, if later), by the
    campaign's ``plan`` (made at ``now`` when not given). Before the first run, the members the
    rules already hold (``foreseen``, `campaigns.foresight`) take no place: those kept out are
    not expected at all, those passed over from when they may pass."""
    held = foreseen.holds if foreseen is not None else {}
    waiting = [member for member in members if member.status == CampaignContact.Status.PENDING]
    if waiting and plan is None and now is not None:
        plan = campaign_plan(campaign, now=now, calendar=calendar)
    if not waiting or plan is None:
        return {}
    ranks = queue_ranks(campaign, [member for member in waiting if member.pk not in held])
    expected = {}
    for member in waiting:
        if member.pk in held:
            if held[member.pk].until is not None:
                expected[member.pk] = calendar.next_opening(held[member.pk].until)
            continue
        if held:
            ranks[member.pk] -= foreseen.ahead_of((member.queue_position, member.pk))
        day = plan.day_of(ranks[member.pk]) if member.pk in ranks else None
        if day is None:
            continue
        moment = day.opens
        if member.not_before and member.not_before > moment:
            moment = calendar.next_opening(member.not_before)
        expected[member.pk] = moment
    return expected
