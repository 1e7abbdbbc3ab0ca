"""Reads with business meaning for campaigns: what a campaign may send, who is next, what is booked."""

import collections
import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from attackacrack.estimates import count_up_to
from campaigns import forecast, foresight, sends
from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts import not_texted
from contacts.models import ConsentBasis
from contacts.not_texted import NotTexted, Reason
from contacts.selectors import contact_filter
from messaging.models import Message


def daily_limit_per_day(campaign: Campaign) -> int:
    """Texts the campaign may book on one business day: its own limit within the number's."""
    return min(campaign.daily_limit, settings.SMS_DAILY_LIMIT_PER_NUMBER)


@dataclass(frozen=True)
class DailyLimit:
    """What a campaign may still send on a business day, and why: the one count of it, for the
    booking and the pages."""

    campaign_limit: int  # the campaign's own setting
    number: str  # the number it sends from ("" when none is set)
    number_limit: int  # what one number may send in a day (SMS_DAILY_LIMIT_PER_NUMBER)
    booked_on_number: int  # the day's texts every campaign booked on the number (cancelled ones aside)
    booked_by_campaign: int  # of those, this campaign's
    per_day: int  # min(own, the number's)

    @property
    def used_by_others_today(self) -> int:
        return self.booked_on_number - self.booked_by_campaign

    @property
    def today(self) -> int:
        """What is left for the campaign on the day."""
        return max(0, min(self.campaign_limit - self.booked_by_campaign, self.number_limit - self.booked_on_number))

    @property
    def capped_by_number(self) -> bool:
        return self.campaign_limit > self.number_limit


def daily_limit(campaign: Campaign, *, today: dt.date) -> DailyLimit:
    number = forecast.sending_number(campaign)
    booked = (
        sends.counting_against_the_limit()
        .filter(from_number=number, business_date=today)
        .aggregate(on_number=Count("id"), by_campaign=Count("id", filter=Q(campaign_id=campaign.pk)))
    )
    return DailyLimit(
        campaign_limit=campaign.daily_limit,
        number=number,
        number_limit=settings.SMS_DAILY_LIMIT_PER_NUMBER,
        booked_on_number=booked["on_number"],
        booked_by_campaign=booked["by_campaign"],
        per_day=daily_limit_per_day(campaign),
    )


def first_day_limit(campaign: Campaign, *, day: dt.date, now: dt.datetime, calendar: BusinessCalendar) -> DailyLimit:
    """What the campaign may send on ``day``, a later day than today (a scheduled campaign's first):
    the other campaigns the clock runs before it on the number are counted with what they are
    expected to send that day (`campaigns.forecast`), besides what they already booked for it."""
    limit = daily_limit(campaign, today=day)
    plans = forecast.number_plan(limit.number, now=now, calendar=calendar, through=campaign.pk)
    expected = sum(plan.texts_on(day) for campaign_id, plan in plans.items() if campaign_id != campaign.pk)
    return dataclasses.replace(limit, booked_on_number=limit.booked_on_number + expected)


@dataclass(frozen=True)
class LaunchPlan:
    """What starting a campaign at a moment will do, in the words the confirmation uses."""

    starts_at: dt.datetime
    first_day: dt.date
    first_opening: dt.datetime
    number: str
    audience: int  # members in the audience
    textable: int  # members the rules let the first run book, as things stand (it judges again)
    not_textable: int  # opted out, or a number the business cannot text
    kept_out_by_lists: int  # on a Do-Not-Call list without written consent or a relationship (marketing)
    kept_out: list[tuple[Reason, int]]  # the members who will not be texted (kept out, or for a person), by reason
    passed_over: list[tuple[Reason, int]]  # the members who will wait (a cap still in force), by reason
    no_consent: int  # of the textable, those with no consent on record (cold outreach)
    first_day_texts: int
    rest: int
    rest_days: int  # business days after the first the rest take, sharing the number's limit
    judged_now: int  # the members at the head of the queue the rules were applied to (`foresight.HEAD`)
    judged_later: int  # the waiting members beyond them, judged when their turn comes
    foreseen: foresight.Foreseen  # what the rules say of the waiting members at the first opening
    estimated: bool = False  # the counts of a large audience are the planner's estimates ("about")

    @property
    def kept_out_total(self) -> int:
        return sum(count for _, count in self.kept_out)

    @property
    def passed_over_total(self) -> int:
        return sum(count for _, count in self.passed_over)


def launch_plan(campaign: Campaign, *, starts_at: dt.datetime, calendar: BusinessCalendar) -> LaunchPlan:
    """What starting the campaign at ``starts_at`` would send, and when, beside the other campaigns
    sharing its number's daily limit: the members the rules already refuse at its first opening
    (`campaigns.foresight`) are counted out, each under its reason."""
    at = calendar.next_opening(starts_at)
    foreseen = foresight.foresee(campaign, at=at, calendar=calendar)
    # Each held member says why (held_because): read on the index of the held, not the audience.
    still_held = campaign.memberships.exclude(held_because="").filter(
        Q(status=CampaignContact.Status.FLAGGED) | Q(status=CampaignContact.Status.PENDING, not_before__gt=at)
    )
    by_reason = collections.Counter(foreseen.counts())
    by_reason.update(dict(still_held.values_list("held_because").annotate(n=Count("id")).order_by()))
    textable = foreseen.textable
    no_consent = count_up_to(
        campaign.memberships.filter(status=CampaignContact.Status.PENDING, contact__consent_basis=ConsentBasis.NONE)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=at))
        .exclude(pk__in=list(foreseen.holds)),
        foresight.WAITING_COUNTED_UP_TO,
    )
    audience = count_up_to(campaign.memberships.all(), foresight.WAITING_COUNTED_UP_TO)
    plan = forecast.launch_plan(campaign, starts_at=starts_at, waiting=textable, calendar=calendar)
    first = plan.days[0] if plan.days else None
    first_day = first.date if first else calendar.local_date(at)
    rest = textable - (first.texts if first else 0)
    rest_days = 0
    if first and plan.finishes_on > first_day:
        days = calendar.business_days_after(first_day)
        rest_days = 1 + sum(1 for _ in itertools.takewhile(lambda day: day < plan.finishes_on, days))
    counted = not_texted.counted(by_reason)
    return LaunchPlan(
        starts_at=starts_at,
        first_day=first_day,
        first_opening=max(at, first.opens) if first else at,
        number=forecast.sending_number(campaign),
        audience=audience.value,
        textable=textable,
        not_textable=sum(by_reason[reason] for reason in (Reason.OPTED_OUT, *not_texted.NUMBER_REASONS)),
        kept_out_by_lists=by_reason[Reason.ON_DO_NOT_CALL_LIST],
        kept_out=foresight.lasting(counted),
        passed_over=foresight.passing(counted),
        no_consent=no_consent.value,
        first_day_texts=first.texts if first else 0,
        rest=rest,
        rest_days=rest_days,
        judged_now=foreseen.judged,
        judged_later=foreseen.judged_later,
        foreseen=foreseen,
        estimated=foreseen.estimated or audience.estimated or no_consent.estimated,
    )


# Contacts a filter selects read one by one up to this; past it, what adding them would do is
# read from the first of them by id and scaled to the planner's estimate of them all ("about").
ADDITION_COUNTED_UP_TO = 10_000


@dataclass(frozen=True)
class AudienceAddition:
    """What adding the contacts a filter selects would do, before it is done."""

    matching: int  # contacts the filter selects
    already: int  # of them, already in the audience
    opted_out: int  # of the rest, opted out: never added
    to_add: int
    not_textable: list[tuple[NotTexted, int]]  # of those added, numbers the business cannot text, by reason
    # More matched than ADDITION_COUNTED_UP_TO: the figures are the first ones' scaled ("about").
    estimated: bool = False


def audience_addition(campaign: Campaign, *, filters: dict) -> AudienceAddition:
    """Counts for adding ``contact_filter(**filters)`` to the audience (opted-out contacts are left
    out), in two passes over the matching contacts; past ADDITION_COUNTED_UP_TO of them, over the
    first ones read, scaled to the planner's estimate of all (a city of 200,000: 1.3 s exactly)."""
    matching = contact_filter(**filters)
    counted = count_up_to(matching, ADDITION_COUNTED_UP_TO)
    if counted.estimated:  # the first of them by id, the oldest: a range the indexes narrow together
        last_read = matching.order_by("id").values_list("id", flat=True)[ADDITION_COUNTED_UP_TO - 1]
        matching = matching.filter(id__lte=last_read)
    member = Exists(CampaignContact.objects.filter(campaign_id=campaign.pk, contact_id=OuterRef("pk")))
    opted_out = Q(opted_out_at__isnull=False)
    added = ~Q(member) & ~opted_out
    counts = matching.aggregate(
        matching=Count("id"),
        already=Count("id", filter=Q(member)),
        opted_out=Count("id", filter=~Q(member) & opted_out),
        to_add=Count("id", filter=added),
    )
    reasons = (
        matching.filter(added)
        .exclude(not_textable_because="")
        .values_list("not_textable_because", "not_textable_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "not_textable_reason")
    )
    scale = counted.value / counts["matching"] if counted.estimated else 1
    return AudienceAddition(
        **{name: round(n * scale) for name, n in counts.items()},
        not_textable=[(NotTexted(Reason(because), detail), round(n * scale)) for because, detail, n in reasons],
        estimated=counted.estimated,
    )


# --- The dashboard's questions ------------------------------------------------------------


# A campaign text that went: taken by OpenPhone, whatever the delivery report says since.
SENT_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED)


@dataclass(frozen=True)
class NumberUsage:
    number: str
    booked: int  # sends counting against today's limit, whether they went out yet or not
    sent: int  # handed to OpenPhone
    delivered: int  # OpenPhone reported them delivered
    limit: int


def todays_usage(*, today: dt.date) -> list[NumberUsage]:
    """Per sending number: today's campaign sends against the daily limit."""
    rows = (
        sends.counting_against_the_limit()
        .filter(business_date=today)
        .values("from_number")
        .annotate(
            booked=Count("id"),
            sent=Count("id", filter=Q(message__status__in=SENT_STATUSES)),
            delivered=Count("id", filter=Q(message__delivered_at__isnull=False)),
        )
        .order_by("from_number")
    )
    limit = settings.SMS_DAILY_LIMIT_PER_NUMBER
    usage = [NumberUsage(row["from_number"], row["booked"], row["sent"], row["delivered"], limit) for row in rows]
    if not usage and settings.OPENPHONE_FROM_NUMBER:
        usage = [NumberUsage(settings.OPENPHONE_FROM_NUMBER, 0, 0, 0, limit)]
    return usage


def upcoming_sends(*, now: dt.datetime, campaign: Campaign | None = None, limit: int = 10) -> QuerySet[CampaignSend]:
    """Booked texts that will go out: a paused campaign's wait, and are not upcoming."""
    upcoming = sends.waiting().filter(scheduled_for__gte=now, campaign__status=Campaign.Status.ACTIVE)
    if campaign is not None:
        upcoming = upcoming.filter(campaign=campaign)
    return upcoming.select_related("contact", "campaign").order_by("scheduled_for", "id")[:limit]


def members_held(campaign: Campaign, foreseen: foresight.Foreseen | None = None) -> list[tuple[Reason, int]]:
    """How many members each reason holds (kept out, flagged, passed over for now), with those the
    rules already hold before the first run (``foreseen``). Once the campaign is closed, only
    those kept out: it is what holds the others (``never_sent_by_cancel``)."""
    held = campaign.memberships.exclude(held_because="")
    if campaign.is_closed:
        held = held.filter(status=CampaignContact.Status.INELIGIBLE)
    counts = collections.Counter(dict(held.values_list("held_because").annotate(n=Count("id")).order_by()))
    if foreseen is not None:
        judged_again = held.filter(pk__in=foreseen.judged_ids)
        counts.subtract(dict(judged_again.values_list("held_because").annotate(n=Count("id")).order_by()))
        counts.update(foreseen.counts())
    return not_texted.counted(counts)


def never_sent_by_cancel() -> Q:
    """Members of a cancelled campaign that the cancel left untexted: waiting their turn or a
    review, or booked and stopped before their text went (on memberships)."""
    return Q(campaign__status=Campaign.Status.CANCELLED) & (
        Q(status__in=[CampaignContact.Status.PENDING, CampaignContact.Status.FLAGGED, CampaignContact.Status.SCHEDULED])
        | Q(status=CampaignContact.Status.INELIGIBLE, held_because=Reason.CAMPAIGN_CANCELLED)
    )


# --- The audience as the campaign page lists it -----------------------------------------------

# The audience filter's name for the members a cancel left untexted (beside the members' statuses).
NEVER_SENT = "never_sent"
NEVER_SENT_LABEL = "Never sent (campaign cancelled)"
# Members no booking holds yet: the next run books them, with the variant the campaign gives them then.
NOT_YET_BOOKED = (CampaignContact.Status.PENDING, CampaignContact.Status.FLAGGED)


def audience_statuses(campaign: Campaign) -> list[tuple[str, str]]:
    """What the audience can be filtered by: a closed campaign has nobody waiting or booked, and a
    cancelled one names those it never texted."""
    if not campaign.is_closed:
        return CampaignContact.Status.choices
    still_to_text = {*NOT_YET_BOOKED, CampaignContact.Status.SCHEDULED}
    statuses = [(status, label) for status, label in CampaignContact.Status.choices if status not in still_to_text]
    if campaign.status == Campaign.Status.CANCELLED:
        statuses.append((NEVER_SENT, NEVER_SENT_LABEL))
    return statuses


def audience_members(
    campaign: Campaign, *, status: str = "", because: str = "", foreseen: foresight.Foreseen | None = None
) -> QuerySet[CampaignContact]:
    """The campaign's members (those of ``status`` when it is one of ``audience_statuses``), each with
    ``text_variant``, the text they got or will get: their booking's when one holds them (it goes
    as booked, and the results count it there), else the one the next run gives them (after a
    declared winner, the winner's); and ``never_sent``, whether the cancel left them untexted."""
    latest_booking = (
        CampaignSend.objects.filter(campaign_id=campaign.pk, contact_id=OuterRef("contact_id"))
        .order_by("-id")
        .values("variant")[:1]
    )
    to_come = Value(campaign.winner) if campaign.winner else F("variant")
    members = campaign.memberships.annotate(
        text_variant=Case(
            When(status__in=NOT_YET_BOOKED, then=to_come),
            default=Coalesce(Subquery(latest_booking), to_come),
            output_field=CharField(),
        ),
        never_sent=ExpressionWrapper(never_sent_by_cancel(), output_field=BooleanField()),
    )
    if foreseen is not None and foreseen.holds:
        # Before the first run: each member as the rules already hold it (`foresight`).
        members = members.annotate(
            shown_status=Case(
                *[When(pk__in=ids, then=Value(held)) for held, ids in foreseen.ids_by_status().items()],
                default=F("status"),
                output_field=CharField(),
            ),
            shown_because=Case(
                *[When(pk__in=ids, then=Value(reason.value)) for reason, ids in foreseen.ids_by_reason().items()],
                When(pk__in=foreseen.judged_ids, then=Value("")),
                default=F("held_because"),
                output_field=CharField(),
            ),
        )
        status_field, because_field = "shown_status", "shown_because"
    else:
        status_field, because_field = "status", "held_because"
    if because in Reason.values:
        members = members.filter(**{because_field: because})
    if status == NEVER_SENT and campaign.status == Campaign.Status.CANCELLED:
        return members.filter(never_sent=True)
    if status in CampaignContact.Status.values:
        return members.filter(**{status_field: status}, never_sent=False)
    return members


def first_members(members: QuerySet[CampaignContact], count: int) -> list[CampaignContact]:
    """The first ``count`` of a campaign's ``members`` by id. Their ids come first, from the index
    of members in the order they joined (campaign_member_order, read without the table), then their
    rows: asked for the rows in id order at once, PostgreSQL walks the primary key past every other
    campaign's members, expecting this campaign's among them all along (a million rows at scale)."""
    ids = list(members.order_by("id").values_list("id", flat=True)[:count])
    return list(members.filter(id__in=ids).order_by("id"))


@dataclass(frozen=True)
class WinnerPlan:
    """What declaring ``winner`` would change, in the words the confirmation uses."""

    winner: str
    waiting: int  # members waiting their turn: from now on each is booked the winner's text
    switching: int  # of them, those who were to get the other text
    in_review: int  # members awaiting a review: the winner's text too, if approved
    booked: list[tuple[str, int]]  # texts booked, not yet sent, per variant: they go as booked
    sent: list[tuple[str, int]]  # texts sent per variant: the results go on counting them there


def winner_plan(campaign: Campaign, *, winner: str) -> WinnerPlan:
    members = campaign.memberships.aggregate(
        waiting=Count("id", filter=Q(status=CampaignContact.Status.PENDING)),
        switching=Count("id", filter=Q(status=CampaignContact.Status.PENDING) & ~Q(variant=winner)),
        in_review=Count("id", filter=Q(status=CampaignContact.Status.FLAGGED)),
    )
    texts = (
        campaign.sends.values("variant")
        .annotate(
            booked=Count("id", filter=Q(message__status__in=[Message.Status.QUEUED, Message.Status.SENDING])),
            sent=Count("id", filter=Q(message__status__in=SENT_STATUSES)),
        )
        .order_by("variant")
    )
    return WinnerPlan(
        winner=winner,
        **members,
        booked=[(row["variant"], row["booked"]) for row in texts if row["booked"]],
        sent=[(row["variant"], row["sent"]) for row in texts if row["sent"]],
    )
