"""The A/B verdict: which text does better per text sent, on interested replies or, when the
campaign says so (``Campaign.judged_on``), on booked inspections; decided so that looking every day
cannot fool it.

A test read at 95% after every day's sends declares a false winner far more often than 5% of the
time: each look is another chance for chance to win. So the looks are planned: one after each
business day's sends, until each variant has AB_MAX_SENDS_PER_VARIANT sends (the test's fixed
size: later sends do not count in it), and a variant wins only when the difference in rates
crosses a higher bar, the same at every look (Pocock's group-sequential boundary: 2.55 standard
errors for ten looks, instead of 1.96 for one), which keeps the chance of a false winner over all
the looks at 5%. Bookings come in days after the texts that earned them, so a test on booked
inspections goes on looking for BOOKINGS_SETTLE_LOOKS business days after its texts are all sent,
and those looks are planned too (the bar is the one for all of them).
A leader whose opt-out rate is significantly higher (one-sided, 95%) is never declared the
winner: the test goes on while that holds, and ends without a winner if it still holds at the
last look. `tests/campaigns/test_ab_verdict.py` proves both rates by simulating campaigns at the
real daily rhythm.

`decide` is a pure function of the cumulative counts at each look, used by the product and the
simulation alike; `ab_results` reads those counts for one campaign from its sends, replies and
outcomes.
"""

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import numpy as np
from django.conf import settings
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignSend, Outcome, Variant
from campaigns.selectors import SENT_STATUSES, daily_limit_per_day
from messaging.intent import ReplyIntent
from messaging.models import Message

ALPHA = 0.05
# A leader whose opt-out rate is higher by this many standard errors (one-sided 95%) does not win.
OPT_OUT_HARM_Z = statistics.NormalDist().inv_cdf(0.95)
MAX_LOOKS = 30
# An inspection is booked in a conversation after the reply, often days after the text: a test on
# bookings takes a look each business day for two weeks after its last text before it can end.
BOOKINGS_SETTLE_LOOKS = 10
# A person whose inspection was booked: every later step implies the booking, so a contact with an
# inspection done, an estimate or a job counts as booked even if nobody recorded the booking.
BOOKED_KINDS = (
    Outcome.Kind.INSPECTION_BOOKED,
    Outcome.Kind.INSPECTION_DONE,
    Outcome.Kind.ESTIMATE_SENT,
    Outcome.Kind.JOB_WON,
)


def bookings() -> QuerySet[Outcome]:
    """The outcomes that say a person's inspection was booked (BOOKED_KINDS), as they stand now:
    inspections booked are the distinct contacts among them, once per campaign and variant."""
    return Outcome.objects.current().filter(kind__in=BOOKED_KINDS)


@dataclass(frozen=True)
class Arm:
    """One variant's counts, cumulative at a look."""

    variant: str
    sent: int
    delivered: int = 0
    replied: int = 0  # sends a person answered (Message.objects.from_people)
    interested: int = 0
    opted_out: int = 0
    booked: int = 0  # people texted whose inspection was booked (bookings(), attributed to this variant)
    segments: int = 0  # the SMS segments its texts were billed as

    def rate(self, count: int) -> float | None:
        return count / self.sent if self.sent else None

    def interval(self, count: int) -> tuple[float, float] | None:
        return wilson_interval(count, self.sent)

    @property
    def interested_rate(self) -> float | None:
        return self.rate(self.interested)

    @property
    def opted_out_rate(self) -> float | None:
        return self.rate(self.opted_out)

    @property
    def booked_rate(self) -> float | None:
        return self.rate(self.booked)


@dataclass(frozen=True)
class Measure:
    """What a verdict compares per text sent, and its words."""

    count: str  # the Arm's field
    plural: str  # "interested replies"
    rate: str  # "interested-reply rate"
    settle_looks: int  # looks after the last text before the test can end

    def of(self, arm: Arm) -> int:
        return getattr(arm, self.count)


MEASURES = {
    Campaign.JudgedOn.INTERESTED_REPLIES: Measure("interested", "interested replies", "interested-reply rate", 0),
    Campaign.JudgedOn.BOOKED_INSPECTIONS: Measure(
        "booked", "booked inspections", "booked-inspection rate", BOOKINGS_SETTLE_LOOKS
    ),
}


@dataclass(frozen=True)
class Verdict:
    state: str  # collecting, winner, no_difference, harmful
    winner: str  # the winning variant, when state is "winner"
    look: int  # looks taken so far (completed business days with sends, then settling days)
    planned_looks: int
    boundary: float
    z: float | None  # the latest look's statistic, positive when B does better
    text: str
    judged_on: str = Campaign.JudgedOn.INTERESTED_REPLIES


# pocock_boundary(k) for k = 1..30 at 5%, as computed below (it takes seconds for many looks, so
# pages read this table; the suite checks it against the computation and Pocock's published values).
POCOCK_5_PERCENT = (
    1.96, 2.178, 2.29, 2.361, 2.414, 2.453, 2.486, 2.512, 2.535, 2.554, 2.572, 2.588, 2.602, 2.614, 2.626,
    2.637, 2.647, 2.655, 2.664, 2.672, 2.679, 2.686, 2.693, 2.699, 2.705, 2.711, 2.716, 2.721, 2.726, 2.73,
)  # fmt: skip


def boundary(looks: int) -> float:
    """The |z| bar for a test of ``looks`` planned looks at 5%."""
    return POCOCK_5_PERCENT[looks - 1] if 1 <= looks <= len(POCOCK_5_PERCENT) else pocock_boundary(looks)


@lru_cache(maxsize=MAX_LOOKS)
def pocock_boundary(looks: int, alpha: float = ALPHA) -> float:
    """The constant |z| bar that keeps the chance of crossing at any of ``looks`` equally spaced
    looks at ``alpha`` when the variants are truly equal (the z's of the looks are jointly normal
    with correlation sqrt(i/j))."""
    if looks == 1:
        return statistics.NormalDist().inv_cdf(1 - alpha / 2)
    # Only past the table, and in the suite that checks it: importing scipy costs every process
    # that reads results (each web and worker process) over a second of CPU at start.
    from scipy import optimize, stats

    index = np.arange(1, looks + 1)
    correlation = np.sqrt(np.minimum.outer(index, index) / np.maximum.outer(index, index))

    def excess(bar: float) -> float:
        inside = stats.multivariate_normal.cdf(
            np.full(looks, bar),
            mean=np.zeros(looks),
            cov=correlation,
            lower_limit=np.full(looks, -bar),
            abseps=1e-4,
            releps=1e-4,
            rng=np.random.default_rng(1),
        )
        return float(inside) - (1 - alpha)

    return float(optimize.brentq(excess, 1.9, 4.5, xtol=1e-3))


def planned_looks(*, per_day: int, split_percent_a: int, max_sends_per_variant: int, settle_looks: int = 0) -> int:
    """One look per business day until the smaller variant reaches its planned sends, and the
    settling looks after."""
    smaller_share = min(split_percent_a, 100 - split_percent_a) / 100
    if per_day <= 0 or smaller_share <= 0:
        return 1 + settle_looks
    sending = math.ceil(max_sends_per_variant / (per_day * smaller_share))
    return max(1, min(MAX_LOOKS, sending + settle_looks))


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """(p2 - p1) over its pooled standard error; None when it cannot be estimated."""
    if not n1 or not n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (x2 / n2 - x1 / n1) / error if error else None


def wilson_interval(count: int, total: int, z: float = 1.959964) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a rate (sound near 0%, where the usual ± is not)."""
    if not total:
        return None
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def decide(
    looks: list[tuple[Arm, Arm]],
    *,
    planned: int,
    max_sends: int,
    judged_on: str = Campaign.JudgedOn.INTERESTED_REPLIES,
) -> Verdict:
    """The verdict after these looks: each the cumulative counts of A and B at the end of a day,
    of each variant's first ``max_sends`` sends only (the test's fixed size); the last look is the
    one at which both variants reach it (on bookings: the settling looks after that one)."""
    measure = MEASURES[judged_on]
    bar = boundary(planned)
    z = None
    full_at = None  # the look at which both variants reached the test's size
    held_back = ""  # a leader that crossed the bar but raises opt-outs: not a winner while it does

    def verdict(state: str, winner: str, look: int, text: str) -> Verdict:
        return Verdict(state, winner, look, planned, bar, z, text, judged_on)

    for number, (a, b) in enumerate(looks, start=1):
        z = two_proportion_z(measure.of(a), a.sent, measure.of(b), b.sent)
        if full_at is None and a.sent >= max_sends and b.sent >= max_sends:
            full_at = number
        last = full_at is not None and number - full_at >= measure.settle_looks
        held_back = ""
        if z is not None and abs(z) >= bar:
            leader, other = (b, a) if z > 0 else (a, b)
            harm = two_proportion_z(other.opted_out, other.sent, leader.opted_out, leader.sent)
            if harm is None or harm < OPT_OUT_HARM_Z:
                text = (
                    f"Variant {leader.variant} wins: more {measure.plural}, beyond chance even with a look every "
                    f"day (day {number} of {planned}; |z| = {abs(z):.2f} ≥ {bar:.2f})."
                )
                return verdict("winner", leader.variant, number, text)
            held_back = leader.variant
        if last:
            if held_back:
                text = (
                    f"Variant {held_back} gets more {measure.plural} but significantly more opt-outs: no "
                    f"winner. Keep both texts, or write a better one."
                )
                return verdict("harmful", "", number, text)
            settled = f" and the {measure.settle_looks} business days after them" if measure.settle_looks else ""
            text = (
                f"No difference in {measure.plural} found in {max_sends} texts of each variant{settled}: "
                "either text will do."
            )
            return verdict("no_difference", "", number, text)
    if held_back:
        text = (
            f"Variant {held_back} leads on {measure.plural} but also gets significantly more opt-outs: "
            f"no winner while that holds (day {len(looks)} of {planned})."
        )
        return verdict("collecting", "", len(looks), text)
    text = (
        f"Collecting: day {len(looks)} of {planned} planned. A variant wins when its {measure.rate} "
        f"is {bar:.2f} standard errors ahead (the bar that holds with a look every day)."
    )
    return verdict("collecting", "", len(looks), text)


# --- Reading a campaign's results ----------------------------------------------------------


def ab_results(campaign: Campaign, *, now: dt.datetime | None = None) -> tuple[list[Arm], Verdict]:
    """Each variant's counts so far (sent, delivered, answered by a person, interested, opted out,
    booked, segments), and the verdict of the planned daily looks on what the campaign is judged
    on (``Campaign.judged_on``). A reply's label is staff's correction when there is one."""
    now = now or timezone.now()
    sent = CampaignSend.objects.filter(campaign=campaign, message__status__in=SENT_STATUSES)
    return variant_totals(campaign, sent), _verdict(campaign, sent, now=now)


def _replies() -> QuerySet[Message]:
    return Message.objects.filter(in_reply_to_send=OuterRef("pk")).order_by().values("in_reply_to_send")


def variant_totals(campaign: Campaign, sent: QuerySet[CampaignSend]) -> list[Arm]:
    """A's and B's counts of every text sent: the texts in one pass over the campaign's sends, and
    the rest each from its own, smaller side (the replies, the people who opted out after their
    text, the bookings), so no count costs a look-up per text."""
    texts = {
        row.pop("variant"): row
        # The texts' own campaign too: then they are read from their index (message_campaign_texts).
        for row in sent.filter(message__campaign=campaign)
        .values("variant")
        .annotate(
            sent=Count("id"),
            delivered=Count("id", filter=Q(message__status=Message.Status.DELIVERED)),
            segments=Coalesce(Sum("message__segments"), 0),
        )
        .order_by()
    }
    opted_out = dict(
        sent.filter(contact__opted_out_at__isnull=False, contact__opted_out_at__gte=F("message__sent_at"))
        .values("variant")
        .annotate(people=Count("id"))
        .order_by()
        .values_list("variant", "people")
    )
    # A reply is attributed only to a text that went (messaging.webhook_processing), so the texts'
    # status need not be read again for it. Saying "a reply" outright lets the planner start from the
    # few replies rather than look up each of the campaign's sends (62 ms instead of 262 at 100,000).
    replies = {
        row.pop("variant"): row
        for row in Message.objects.from_people()
        .filter(in_reply_to_send__isnull=False, in_reply_to_send__campaign=campaign)
        .values(variant=F("in_reply_to_send__variant"))
        .annotate(
            replied=Count("in_reply_to_send", distinct=True),
            interested=Count("in_reply_to_send", distinct=True, filter=Q(intent=ReplyIntent.INTERESTED)),
        )
        .order_by()
    }
    booked = dict(
        bookings()
        .filter(campaign=campaign)
        .values("variant")
        .annotate(people=Count("contact", distinct=True))
        .order_by()
        .values_list("variant", "people")
    )
    return [
        Arm(
            variant,
            **texts.get(variant, {"sent": 0}),
            **replies.get(variant, {}),
            opted_out=opted_out.get(variant, 0),
            booked=booked.get(variant, 0),
        )
        for variant in (Variant.A, Variant.B)
    ]


def _verdict(campaign: Campaign, sent: QuerySet[CampaignSend], *, now: dt.datetime) -> Verdict:
    """The planned daily looks: one per completed business day with sends, each counting what was
    known by the end of that day of each variant's first AB_MAX_SENDS_PER_VARIANT sends, in the
    order of their days and slots (on bookings, then one per business day of settling). Only the
    tested sends are read, so a look costs the same however many texts the campaign sends after
    its test."""
    calendar = BusinessCalendar.from_settings()
    max_sends = settings.AB_MAX_SENDS_PER_VARIANT
    measure = MEASURES[campaign.judged_on]
    replies = _replies()
    booked = bookings().filter(campaign=campaign, variant=OuterRef("variant"), contact=OuterRef("contact"))
    tested = {
        variant: _Tested(
            variant,
            sent.filter(variant=variant)
            .annotate(
                first_reply_at=Subquery(replies.from_people().annotate(at=Min("created_at")).values("at")[:1]),
                first_interested_at=Subquery(
                    replies.filter(intent=ReplyIntent.INTERESTED).annotate(at=Min("created_at")).values("at")[:1]
                ),
                first_booked_at=Subquery(
                    booked.order_by().values("contact").annotate(at=Min("recorded_at")).values("at")[:1]
                ),
            )
            .order_by("business_date", "scheduled_for", "id")
            .values_list(*_Tested.COLUMNS)[:max_sends],
        )
        for variant in (Variant.A, Variant.B)
    }
    today = calendar.local_date(now)
    window = calendar.window(today)
    last_day = today if window is None or now >= window.closes else today - dt.timedelta(days=1)
    sending_days = sent.filter(business_date__lte=last_day)
    full = all(arm.size >= max_sends for arm in tested.values())
    if full:
        # Looks after the day the test reached its size see the same texts: the settling ones only.
        full_on = max(arm.days[-1] for arm in tested.values())
        sending_days = sending_days.filter(business_date__lte=full_on)
    days = sorted(set(sending_days.order_by().values_list("business_date", flat=True).distinct()))
    if full and measure.settle_looks and days and days[-1] == full_on:
        days += [day for day in islice(calendar.business_days_after(full_on), measure.settle_looks) if day <= last_day]
    looks = []
    for day in days:
        end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=calendar.zone)
        looks.append((tested[Variant.A].at(day, end_of_day), tested[Variant.B].at(day, end_of_day)))
    planned = planned_looks(
        per_day=daily_limit_per_day(campaign),
        split_percent_a=campaign.split_percent_a,
        max_sends_per_variant=max_sends,
        settle_looks=measure.settle_looks,
    )
    return decide(looks, planned=planned, max_sends=max_sends, judged_on=campaign.judged_on)


NEVER = np.inf


class _Tested:
    """One variant's tested sends in the order they count, as arrays: a look at the end of a day
    counts, among the sends of that day and before, the events known by then."""

    COLUMNS = ("business_date", "message__sent_at", "first_reply_at", "first_interested_at",
               "contact__opted_out_at", "first_booked_at")  # fmt: skip

    def __init__(self, variant: str, rows: QuerySet[CampaignSend]) -> None:
        rows = list(rows)
        self.variant = variant
        self.size = len(rows)
        self.days = [row[0] for row in rows]
        self.ordinals = np.array([day.toordinal() for day in self.days], dtype=np.int64)

        def moments(values) -> np.ndarray:
            return np.array([NEVER if at is None else at.timestamp() for at in values], dtype=np.float64)

        self.replied = moments(row[2] for row in rows)
        self.interested = moments(row[3] for row in rows)
        # An opt-out counts against the text only if it came after it.
        self.opted_out = moments(row[4] if row[4] is not None and row[4] >= row[1] else None for row in rows)
        self.booked = moments(row[5] for row in rows)

    def at(self, day: dt.date, end: dt.datetime) -> Arm:
        sends = int(np.searchsorted(self.ordinals, day.toordinal(), side="right"))
        by = end.timestamp()
        return Arm(
            variant=self.variant,
            sent=sends,
            replied=int((self.replied[:sends] < by).sum()),
            interested=int((self.interested[:sends] < by).sum()),
            opted_out=int((self.opted_out[:sends] < by).sum()),
            booked=int((self.booked[:sends] < by).sum()),
        )
