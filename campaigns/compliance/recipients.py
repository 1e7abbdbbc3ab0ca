"""When a campaign text may reach a particular person, and what it needs.

The recipient's hours, caps and consent depend on their state (08:00–21:00 local by federal rule;
the states stricter than that, each from the day its law took effect, are in
`recipient_rules.json` with their sources) and hours are read in every zone the contact may be
in. What we cannot tell is treated at its strictest: an unknown state gets the strictest hours,
cap and consent of every law in force, an unknown zone the intersection over every US zone.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.calendar import BusinessCalendar, Window
from campaigns.models import CampaignSend
from contacts import lawful_basis
from contacts.models import Contact
from contacts.timezones import recipient_state
from messaging.models import Message

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


def _in_force(law: dict | list, day: dt.date) -> bool:
    """A law without a date (an hours pair, a file of older form) is always in force."""
    return not isinstance(law, dict) or "since" not in law or dt.date.fromisoformat(law["since"]) <= day


def _laws(table: str, day: dt.date) -> dict[str, dict]:
    """The state laws of one table of the rules in force on ``day``, by state."""
    return {state: law for state, law in rules().get(table, {}).items() if _in_force(law, day)}


def _state_hours(law: dict | list, day: dt.date) -> tuple[dt.time, dt.time]:
    if isinstance(law, list):  # ["08:00", "20:00"]: every day
        return _hours(law)
    if day.weekday() == 6 and "sunday" in law:
        return _hours(law["sunday"])
    return _hours(law["hours"])


def recipient_hours(state: str, day: dt.date) -> tuple[dt.time, dt.time]:
    """Local hours a marketing text may arrive in this state on ``day`` (the strictest of every
    law in force when the state is unknown)."""
    default = _hours(rules()["default_hours"])
    laws = _laws("state_hours", day)
    if state in laws:
        return _state_hours(laws[state], day)
    if state:
        return default
    every = [default, *(_state_hours(law, day) for law in laws.values())]
    return max(opens for opens, _ in every), min(closes for _, closes in every)


def describe_hours(state: str, day: dt.date) -> str:
    opens, closes = recipient_hours(state, day)
    return f"{opens:%H:%M}-{closes:%H:%M}"


@dataclass(frozen=True)
class StateCap:
    texts: int
    hours: int
    spares_relationships: bool  # a business relationship in its window is not capped


def state_cap(state: str, day: dt.date) -> StateCap | None:
    """The cap the state allows on ``day``, the strictest of all in force when the state is unknown."""
    caps = {
        state: StateCap(law["texts"], law["hours"], law.get("unless") == "business_relationship")
        for state, law in _laws("state_caps", day).items()
    }
    if state in caps:
        return caps[state]
    if state or not caps:
        return None
    strictest = min(caps.values(), key=lambda cap: (cap.texts / cap.hours, cap.spares_relationships))
    return StateCap(strictest.texts, strictest.hours, False)


def needs_written_consent(state: str, day: dt.date) -> bool:
    """Whether a sales text to this state needs written consent on ``day`` (Connecticut's law);
    an unknown state does whenever any law in force asks it."""
    laws = _laws("written_consent", day)
    return state in laws or (not state and bool(laws))


@lru_cache(maxsize=1)
def all_us_zones() -> tuple[str, ...]:
    from contacts.timezones import zones_for_states

    return zones_for_states(US_STATES)


@dataclass(frozen=True)
class Recipient:
    zones: tuple[str, ...]  # empty when unknown
    state: str  # empty when unknown

    @classmethod
    @lru_cache(maxsize=4096)  # an audience of 100,000 holds a few dozen; a Recipient never changes
    def of(cls, time_zone: str, state: str) -> "Recipient":
        return cls(tuple(zone for zone in time_zone.split(",") if zone), state)


def recipient_of(contact: Contact) -> Recipient:
    """Whose rules apply to a text to this contact: their zone(s) and state."""
    house = contact.home
    return Recipient.of(contact.time_zone, recipient_state(contact.state, house.state if house else "", contact.phone))


@cache
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps only its last 8 zones alive: a recipient of unknown zone reads all 26 US
    # zones for every day forecast, and each eviction reloaded a zone file.
    return ZoneInfo(name)


def allowed_window(calendar: BusinessCalendar, day: dt.date, recipient: Recipient) -> Window | None:
    """The part of the business window of ``day`` that is inside the recipient's hours, if any."""
    business = calendar.window(day)
    if business is None:
        return None
    opens, closes = recipient_hours(recipient.state, day)
    start, end = business.opens, business.closes
    for zone_name in recipient.zones or all_us_zones():
        zone = _zone(zone_name)
        # Within a business window every US zone is on the same calendar date.
        local_day = business.opens.astimezone(zone).date()
        start = max(start, dt.datetime.combine(local_day, opens, tzinfo=zone))
        end = min(end, dt.datetime.combine(local_day, closes, tzinfo=zone))
    return Window(start, end) if start < end else None


def may_send_at(calendar: BusinessCalendar, moment: dt.datetime, recipient: Recipient) -> bool:
    window = allowed_window(calendar, calendar.local_date(moment), recipient)
    return window is not None and moment in window


# The statuses of a campaign text that count as texting its contact, for every cap (the frequency
# cap, the state cap): booked, going, gone or maybe gone. A failed or cancelled text does not.
TEXTED_STATUSES = (
    Message.Status.QUEUED,
    Message.Status.SENDING,
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.UNKNOWN,
)


def texted_bookings() -> QuerySet[CampaignSend]:
    """Campaign bookings whose text counts as texting the contact (TEXTED_STATUSES)."""
    return CampaignSend.objects.filter(message__status__in=TEXTED_STATUSES)


def over_state_cap(
    recipients: Mapping[int, Recipient], *, start: dt.datetime, end: dt.datetime, exclude_send_id: int | None = None
) -> set[int]:
    """The contacts among ``recipients`` who could not get one more text at any moment in
    [start, end] without their state's cap (N texts in any H hours, its own H) being passed."""
    day = timezone.localtime(start).date()
    by_cap: dict[StateCap, list[int]] = {}
    for contact_id, recipient in recipients.items():
        cap = state_cap(recipient.state, day)
        if cap is not None:
            by_cap.setdefault(cap, []).append(contact_id)
    spared = set()
    if any(cap.spares_relationships for cap in by_cap):
        capped = [contact_id for cap, ids in by_cap.items() if cap.spares_relationships for contact_id in ids]
        relationship = lawful_basis.relationship_q(start)
        spared = set(Contact.objects.filter(relationship, pk__in=capped).values_list("pk", flat=True))
    over: set[int] = set()
    for cap, contact_ids in by_cap.items():
        if cap.spares_relationships:
            contact_ids = [contact_id for contact_id in contact_ids if contact_id not in spared]
        span = dt.timedelta(hours=cap.hours)
        # A text counts at the moment it went, else when its attempt began, else its slot.
        counted = (
            texted_bookings()
            .filter(contact_id__in=contact_ids)
            .annotate(texted_at=Coalesce("message__sent_at", "message__claimed_at", "scheduled_for"))
            .filter(texted_at__gt=start - span, texted_at__lt=end + span)
        )
        if exclude_send_id is not None:
            counted = counted.exclude(pk=exclude_send_id)
        counts = dict(counted.values_list("contact_id").annotate(n=Count("id")).order_by())
        over |= {contact_id for contact_id in contact_ids if counts.get(contact_id, 0) >= cap.texts}
    return over
