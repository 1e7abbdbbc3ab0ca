"""Business time: when the shop sends campaign texts, in its own zone, across DST changes.

One clock for the whole product. Windows are built from local wall times (09:00 in
America/New_York is 14:00 UTC in winter and 13:00 UTC in summer) and compared as aware
datetimes, so arithmetic never depends on the server's zone or on UTC midnight.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings


@dataclass(frozen=True)
class Window:
    opens: dt.datetime
    closes: dt.datetime

    def __contains__(self, moment: dt.datetime) -> bool:
        return self.opens <= moment < self.closes


def business_today() -> dt.date:
    """Today's date where the shop is: what "today" means on every page and in every rule. Needs
    no holidays, so no query."""
    return dt.datetime.now(ZoneInfo(settings.BUSINESS_TIME_ZONE)).date()


class BusinessCalendar:
    def __init__(
        self,
        *,
        zone: str,
        days: frozenset[int],
        opens: dt.time,
        closes: dt.time,
        holidays: frozenset[dt.date] = frozenset(),
    ) -> None:
        if not opens < closes:
            raise ValueError(f"Business hours must open before they close (got {opens}-{closes}).")
        self.zone = ZoneInfo(zone)
        self.days = days
        self.opens = opens
        self.closes = closes
        self.holidays = holidays

    @classmethod
    def from_settings(cls) -> "BusinessCalendar":
        from campaigns.models import Holiday

        return cls(
            zone=settings.BUSINESS_TIME_ZONE,
            days=settings.BUSINESS_DAYS,
            opens=settings.BUSINESS_OPENS,
            closes=settings.BUSINESS_CLOSES,
            holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        )

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def window(self, day: dt.date) -> Window | None:
        """The sending window of a local date, or None on weekends and holidays."""
        if not self.is_business_day(day):
            return None
        return Window(
            opens=dt.datetime.combine(day, self.opens, tzinfo=self.zone),
            closes=dt.datetime.combine(day, self.closes, tzinfo=self.zone),
        )

    def opening_of(self, business_day: dt.date) -> dt.datetime:
        """When a day known to be a business day opens: ``window(day).opens`` without asking again
        (a forecast lays down thousands of days)."""
        return dt.datetime.combine(business_day, self.opens, tzinfo=self.zone)

    def is_open(self, moment: dt.datetime) -> bool:
        window = self.window(self.local_date(moment))
        return window is not None and moment in window

    def business_days_after(self, day: dt.date):
        """The business days after ``day``, in order (an endless generator)."""
        if not self.days:
            return
        while True:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                yield day

    def business_day_after(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th business day after ``day`` (``count`` at least 1)."""
        days = self.business_days_after(day)
        for _ in range(count - 1):
            next(days)
        return next(days)

    def business_day_back(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th business day counting back from ``day``, ``day`` itself the first when
        it is one: what happened before it is at least ``count`` business days old on ``day``."""
        if not self.days:
            raise ValueError("No business days are set: nothing is ever a business day back.")
        while not self.is_business_day(day):
            day -= dt.timedelta(days=1)
        for _ in range(count - 1):
            day -= dt.timedelta(days=1)
            while not self.is_business_day(day):
                day -= dt.timedelta(days=1)
        return day

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The first moment at or after ``moment`` when the window is open."""
        today = self.local_date(moment)
        window = self.window(today)
        if window is not None and moment < window.closes:
            return max(moment, window.opens)
        next_day = next(self.business_days_after(today))
        return self.window(next_day).opens
