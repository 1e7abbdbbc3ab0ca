"""Results in money: what a campaign's texts cost and what came of them, per variant and in total
(texts sent, their segments and dollars, replies from people, inspections booked, jobs won, their
revenue, and the cost of each booked inspection); and this month's across every campaign, for Today.

What is counted, once:
- texts sent, segments and cost: the campaign's texts that went (sent or delivered), at what each
  was billed as (``Message.segments``, ``messaging.segments.dollars``);
- replies from people and inspections booked: the A/B results' own counts (``campaigns.results``):
  a person whose inspection was booked counts once per campaign and variant, however many steps
  followed (done, estimate, job), and a later step counts as the booking nobody recorded;
- jobs won and revenue: every job won (two jobs for one house are two), with its amount;
- all of them from the outcomes as they stand now (``Outcome.objects.current()``: corrections, not
  what they replaced; nothing withdrawn), attributed to the campaign and variant whose text the
  person answered (``Outcome.campaign``, ``Outcome.variant``).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum

from campaigns.models import Campaign, Outcome
from campaigns.results import Arm, bookings
from messaging.segments import dollars

CENT = Decimal("0.01")
TOTAL = ""  # the variant of the whole campaign's row


@dataclass(frozen=True)
class Money:
    """One variant's results in money, or the whole campaign's (``variant`` empty)."""

    variant: str
    sent: int
    segments: int
    replied: int
    booked: int
    jobs_won: int
    revenue: Decimal

    @property
    def cost(self) -> Decimal:
        return dollars(self.segments)

    @property
    def cost_per_booked(self) -> Decimal | None:
        """What each booked inspection cost in texts; None when none was booked."""
        return (self.cost / self.booked).quantize(CENT, ROUND_HALF_UP) if self.booked else None


def results_in_money(campaign: Campaign, arms: list[Arm]) -> list[Money]:
    """A's and B's results in money, then the campaign's total, from the A/B results' ``arms``
    (``results.ab_results``) and one grouped read of the campaign's jobs won."""
    jobs = {
        row["variant"]: row
        for row in Outcome.objects.current()
        .filter(campaign=campaign, kind=Outcome.Kind.JOB_WON)
        .values("variant")
        .annotate(jobs=Count("id"), revenue=Sum("amount"))
        .order_by()
    }
    rows = [
        Money(
            variant=arm.variant,
            sent=arm.sent,
            segments=arm.segments,
            replied=arm.replied,
            booked=arm.booked,
            jobs_won=jobs.get(arm.variant, {}).get("jobs", 0),
            revenue=(jobs.get(arm.variant, {}).get("revenue") or Decimal(0)).quantize(CENT),
        )
        for arm in arms
    ]
    total = Money(
        variant=TOTAL,
        **{field: sum(getattr(row, field) for row in rows) for field in ("sent", "segments", "replied", "booked")},
        jobs_won=sum(row.jobs_won for row in rows),
        revenue=sum((row.revenue for row in rows), Decimal(0)).quantize(CENT),
    )
    return [*rows, total]


@dataclass(frozen=True)
class Month:
    """What came of conversations this month, from every campaign and none."""

    starts: dt.date
    booked: int  # people whose first booked inspection came this month
    jobs_won: int
    revenue: Decimal
    booked_from_campaigns: int
    jobs_won_from_campaigns: int
    revenue_from_campaigns: Decimal


def this_month(*, today: dt.date) -> Month:
    """This month's inspections booked, jobs won and revenue (by the day each happened), and how
    much of it campaign texts earned. Outcomes only, read by their day (index ``outcome_day``):
    what it costs follows the month's outcomes, not the texts."""
    starts = today.replace(day=1)
    booked = bookings()
    # A booking whose person was booked in an earlier month too is that month's booking, not this one's.
    first_booked = (
        booked.filter(on__gte=starts, on__lte=today)
        .exclude(Exists(booked.filter(on__lt=starts, contact=OuterRef("contact"))))
        .aggregate(
            people=Count("contact", distinct=True),
            from_campaigns=Count("contact", distinct=True, filter=Q(campaign__isnull=False)),
        )
    )
    jobs = (
        Outcome.objects.current()
        .filter(kind=Outcome.Kind.JOB_WON, on__gte=starts, on__lte=today)
        .aggregate(
            jobs=Count("id"),
            revenue=Sum("amount"),
            jobs_from_campaigns=Count("id", filter=Q(campaign__isnull=False)),
            revenue_from_campaigns=Sum("amount", filter=Q(campaign__isnull=False)),
        )
    )
    return Month(
        starts=starts,
        booked=first_booked["people"],
        jobs_won=jobs["jobs"],
        revenue=(jobs["revenue"] or Decimal(0)).quantize(CENT),
        booked_from_campaigns=first_booked["from_campaigns"],
        jobs_won_from_campaigns=jobs["jobs_from_campaigns"],
        revenue_from_campaigns=(jobs["revenue_from_campaigns"] or Decimal(0)).quantize(CENT),
    )
