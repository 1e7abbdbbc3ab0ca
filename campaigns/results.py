"""The A/B verdict: which text gets more interested replies, decided so that looking every day
cannot fool it.

A test read at 95% after every day's sends declares a false winner far more often than 5% of the
time: each look is another chance for chance to win. So the looks are planned: one after each
business day's sends, until each variant has AB_MAX_SENDS_PER_VARIANT sends (the test's fixed
size: later sends do not count in it), and a variant wins only when the difference in
interested-reply rates crosses a higher bar, the same at every look (Pocock's group-sequential
boundary: 2.55 standard errors for ten looks, instead of 1.96 for one), which keeps the chance of
a false winner over all the looks at 5%.
A leader whose opt-out rate is significantly higher (one-sided, 95%) is never declared the
winner: the test goes on while that holds, and ends without a winner if it still holds at the
last look. `tests/campaigns/test_ab_verdict.py` proves both rates by simulating campaigns at the
real daily rhythm.

`decide` is a pure function of the cumulative counts at each look, used by the product and the
simulation alike; `ab_results` reads those counts for one campaign from its sends and replies.
"""

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Min, OuterRef, Q, Subquery
from django.utils import timezone
from scipy import optimize, stats

from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignSend, Variant
from campaigns.selectors import SENT_STATUSES, daily_limit_per_day
from messaging.intent import ReplyIntent
from messaging.models import Message

ALPHA = 0.05
# A leader whose opt-out rate is higher by this many standard errors (one-sided 95%) does not win.
OPT_OUT_HARM_Z = stats.norm.ppf(0.95)
MAX_LOOKS = 30


@dataclass(frozen=True)
class Arm:
    """One variant's counts, cumulative at a look."""

    variant: str
    sent: int
    delivered: int = 0
    replied: int = 0  # sends a person answered (Message.objects.from_people)
    interested: int = 0
    opted_out: int = 0

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


@dataclass(frozen=True)
class Verdict:
    state: str  # collecting, winner, no_difference, harmful
    winner: str  # the winning variant, when state is "winner"
    look: int  # looks taken so far (completed business days with sends)
    planned_looks: int
    boundary: float
    z: float | None  # the latest look's statistic, positive when B does better
    text: str


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
        return float(stats.norm.ppf(1 - alpha / 2))
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


def planned_looks(*, per_day: int, split_percent_a: int, max_sends_per_variant: int) -> int:
    """One look per business day until the smaller variant reaches its planned sends."""
    smaller_share = min(split_percent_a, 100 - split_percent_a) / 100
    if per_day <= 0 or smaller_share <= 0:
        return 1
    return max(1, min(MAX_LOOKS, math.ceil(max_sends_per_variant / (per_day * smaller_share))))


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


def decide(looks: list[tuple[Arm, Arm]], *, planned: int, max_sends: int) -> Verdict:
    """The verdict after these looks: each the cumulative counts of A and B at the end of a day,
    of each variant's first ``max_sends`` sends only (the test's fixed size); the last look is the
    one at which both variants reach it."""
    bar = boundary(planned)
    z = None
    held_back = ""  # a leader that crossed the bar but raises opt-outs: not a winner while it does
    for number, (a, b) in enumerate(looks, start=1):
        z = two_proportion_z(a.interested, a.sent, b.interested, b.sent)
        last = a.sent >= max_sends and b.sent >= max_sends
        held_back = ""
        if z is not None and abs(z) >= bar:
            leader, other = (b, a) if z > 0 else (a, b)
            harm = two_proportion_z(other.opted_out, other.sent, leader.opted_out, leader.sent)
            if harm is None or harm < OPT_OUT_HARM_Z:
                text = (
                    f"Variant {leader.variant} wins: more interested replies, beyond chance even with a look every "
                    f"day (day {number} of {planned}; |z| = {abs(z):.2f} ≥ {bar:.2f})."
                )
                return Verdict("winner", leader.variant, number, planned, bar, z, text)
            held_back = leader.variant
        if last:
            if held_back:
                text = (
                    f"Variant {held_back} gets more interested replies but significantly more opt-outs: no "
                    f"winner. Keep both texts, or write a better one."
                )
                return Verdict("harmful", "", number, planned, bar, z, text)
            text = f"No difference found in {max_sends} texts of each variant: either text will do."
            return Verdict("no_difference", "", number, planned, bar, z, text)
    if held_back:
        text = (
            f"Variant {held_back} leads on interested replies but also gets significantly more opt-outs: "
            f"no winner while that holds (day {len(looks)} of {planned})."
        )
        return Verdict("collecting", "", len(looks), planned, bar, z, text)
    text = (
        f"Collecting: day {len(looks)} of {planned} planned. A variant wins when its interested-reply rate "
        f"is {bar:.2f} standard errors ahead (the bar that holds with a look every day)."
    )
    return Verdict("collecting", "", len(looks), planned, bar, z, text)


# --- Reading a campaign's results ----------------------------------------------------------


def ab_results(campaign: Campaign, *, now: dt.datetime | None = None) -> tuple[list[Arm], Verdict]:
    """Each variant's counts so far (sent, delivered, answered by a person, interested, opted out),
    and the verdict of the planned daily looks (below): one look per completed business day with
    sends, each counting what was known by the end of that day of each variant's first
    AB_MAX_SENDS_PER_VARIANT sends. A reply's label is staff's correction when there is one."""
    now = now or timezone.now()
    calendar = BusinessCalendar.from_settings()
    replies = Message.objects.filter(in_reply_to_send=OuterRef("pk")).order_by().values("in_reply_to_send")
    sends = list(
        CampaignSend.objects.filter(campaign=campaign, message__status__in=SENT_STATUSES)
        .annotate(
            first_reply_at=Subquery(replies.from_people().annotate(at=Min("created_at")).values("at")[:1]),
            first_interested_at=Subquery(
                replies.filter(intent=ReplyIntent.INTERESTED).annotate(at=Min("created_at")).values("at")[:1]
            ),
            delivered=ExpressionWrapper(Q(message__status=Message.Status.DELIVERED), output_field=BooleanField()),
        )
        .order_by("message__sent_at", "id")
        .values_list("variant", "business_date", "message__sent_at", "delivered", "first_reply_at",
                     "first_interested_at", "contact__opted_out_at")
    )  # fmt: skip

    def arm(variant: str, rows: list, by: dt.datetime | None) -> Arm:
        def known(moment: dt.datetime | None) -> bool:
            return moment is not None and (by is None or moment < by)

        return Arm(
            variant=variant,
            sent=len(rows),
            delivered=sum(1 for row in rows if row[3]),
            replied=sum(1 for row in rows if known(row[4])),
            interested=sum(1 for row in rows if known(row[5])),
            opted_out=sum(1 for row in rows if known(row[6]) and row[6] >= row[2]),
        )

    by_variant = {variant: [row for row in sends if row[0] == variant] for variant in (Variant.A, Variant.B)}
    totals = [arm(variant, rows, None) for variant, rows in by_variant.items()]
    today = calendar.local_date(now)
    window = calendar.window(today)
    day_over = window is None or now >= window.closes
    days = sorted({row[1] for row in sends if row[1] < today or (row[1] == today and day_over)})
    capped = {variant: rows[: settings.AB_MAX_SENDS_PER_VARIANT] for variant, rows in by_variant.items()}
    looks = []
    for day in days:
        end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=calendar.zone)
        looks.append(
            tuple(arm(variant, [row for row in rows if row[1] <= day], end_of_day) for variant, rows in capped.items())
        )
    planned = planned_looks(
        per_day=daily_limit_per_day(campaign),
        split_percent_a=campaign.split_percent_a,
        max_sends_per_variant=settings.AB_MAX_SENDS_PER_VARIANT,
    )
    return totals, decide(looks, planned=planned, max_sends=settings.AB_MAX_SENDS_PER_VARIANT)
