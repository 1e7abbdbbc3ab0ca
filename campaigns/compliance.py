"""When a campaign text may reach a particular person: the business window ∩ the recipient's window.

The recipient's hours depend on their state (08:00–21:00 local by federal rule, 08:00–20:00 in
Massachusetts, Florida and Oklahoma; `recipient_rules.json` holds the data) and are read in every
zone the contact may be in. What we cannot tell is treated at its strictest: an unknown state gets
the strictest hours and caps, an unknown zone the intersection over every US zone.
"""

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from campaigns.calendar import BusinessCalendar, Window

RULES_FILE = Path(__file__).with_name("recipient_rules.json")
# The 50 states and DC: the zones an unknown contact might be in.
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "  # noqa: SIM905
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)


def rules() -> dict:
    return _read_rules(settings.RECIPIENT_RULES_FILE or str(RULES_FILE))


@lru_cache(maxsize=4)
def _read_rules(path: str) -> dict:
    return json.loads(Path(path).read_text())


def _hours(pair: list[str]) -> tuple[dt.time, dt.time]:
    return dt.time.fromisoformat(pair[0]), dt.time.fromisoformat(pair[1])


def recipient_hours(state: str) -> tuple[dt.time, dt.time]:
    """Local hours a marketing text may arrive in this state (strictest when the state is unknown)."""
    data = rules()
    if state in data["state_hours"]:
        return _hours(data["state_hours"][state])
    if state:
        return _hours(data["default_hours"])
    return max(_hours(pair)[0] for pair in [data["default_hours"], *data["state_hours"].values()]), min(
        _hours(pair)[1] for pair in [data["default_hours"], *data["state_hours"].values()]
    )


def describe_hours(state: str) -> str:
    opens, closes = recipient_hours(state)
    return f"{opens:%H:%M}-{closes:%H:%M}"


def state_cap(state: str) -> tuple[int, int] | None:
    """(texts, hours) the state allows, the strictest of all when the state is unknown."""
    caps = rules()["state_caps"]
    if state in caps:
        return caps[state]["texts"], caps[state]["hours"]
    if state or not caps:
        return None
    strictest = min(caps.values(), key=lambda cap: cap["texts"] / cap["hours"])
    return strictest["texts"], strictest["hours"]


@lru_cache(maxsize=1)
def all_us_zones() -> tuple[str, ...]:
    from contacts.timezones import zones_for_state

    return tuple(sorted({zone for state in US_STATES for zone in zones_for_state(state)}))


@dataclass(frozen=True)
class Recipient:
    zones: tuple[str, ...]  # empty when unknown
    state: str  # empty when unknown

    @classmethod
    def of(cls, time_zone: str, state: str) -> "Recipient":
        return cls(tuple(zone for zone in time_zone.split(",") if zone), state)

    def describe(self) -> str:
        return f"{','.join(self.zones) or 'unknown zone'} / {self.state or 'unknown state'}"


def allowed_window(calendar: BusinessCalendar, day: dt.date, recipient: Recipient) -> Window | None:
    """The part of the business window of ``day`` that is inside the recipient's hours, if any."""
    business = calendar.window(day)
    if business is None:
        return None
    opens, closes = recipient_hours(recipient.state)
    start, end = business.opens, business.closes
    for zone_name in recipient.zones or all_us_zones():
        zone = ZoneInfo(zone_name)
        # Within a business window every US zone is on the same calendar date.
        local_day = business.opens.astimezone(zone).date()
        start = max(start, dt.datetime.combine(local_day, opens, tzinfo=zone))
        end = min(end, dt.datetime.combine(local_day, closes, tzinfo=zone))
    return Window(start, end) if start < end else None


def may_send_at(calendar: BusinessCalendar, moment: dt.datetime, recipient: Recipient) -> bool:
    window = allowed_window(calendar, calendar.local_date(moment), recipient)
    return window is not None and moment in window


def next_allowed(calendar: BusinessCalendar, moment: dt.datetime, recipient: Recipient) -> dt.datetime | None:
    """The first moment at or after ``moment`` when a text may reach the recipient (None if never
    within a year: a window the business and the recipient never share)."""
    day = calendar.local_date(moment)
    for _ in range(366):
        window = allowed_window(calendar, day, recipient)
        if window is not None and moment < window.closes:
            return max(moment, window.opens)
        day += dt.timedelta(days=1)
    return None
