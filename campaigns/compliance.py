"""When a campaign text may reach a particular person: the business window ∩ the recipient's window.

The recipient's hours depend on their state (08:00–21:00 local by federal rule, 08:00–20:00 in
Massachusetts, Florida and Oklahoma; `recipient_rules.json` holds the data) and are read in every
zone the contact may be in. What we cannot tell is treated at its strictest: an unknown state gets
the strictest hours and caps, an unknown zone the intersection over every US zone.
"""

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from campaigns.calendar import BusinessCalendar, Window
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from messaging.models import ConsentReview, Message

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
    opens, closes = recipient_hours(recipient.state)
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


# --- The rules a campaign text must pass ---------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """What booking does with a member a rule refuses: keeps it out for good (``ineligible``,
    ``flagged`` for a person to review), or passes it over (``pending``) until ``until``, when it
    may pass: it keeps its place in the queue."""

    status: str
    reason: str
    until: dt.datetime | None = None


@dataclass(frozen=True)
class MemberCheck:
    """A rule's form for booking, over the members at the head of the queue in one statement:
    ``violated`` is an expression on a CampaignContact row, true when the rule refuses it, and
    ``refusal`` says what becomes of such a member (given the row's annotations, by name)."""

    violated: Callable[[Campaign, dt.datetime], object]
    refusal: Callable[[Campaign, dict, "BookingDay"], Refusal]
    annotations: Callable[[Campaign, dt.datetime], dict] = lambda campaign, now: {}


@dataclass(frozen=True)
class BookingDay:
    """What a run knows of the day it books: the calendar, today, the moment, the next opening."""

    calendar: BusinessCalendar
    today: dt.date
    now: dt.datetime

    @property
    def tomorrow(self) -> dt.datetime:
        return self.calendar.next_opening(self.calendar.window(self.today).closes)


@dataclass(frozen=True)
class Rule:
    """One rule of "may this contact get this text now?", named as the compliance record names
    it. Booking applies its rules to the members at the head of the queue (``at_booking``: each
    member-only rule carries its ``member_check``; the slot-bound ones are met by the slot booking
    gives and checked at it); the dispatcher applies its rules to each campaign text just before
    it goes (first attempts and retries alike). The rules marked ``in_conversation`` also hold for
    staff and automatic texts, when they are written and again when they go: those answer a
    person, so the marketing rules (caps, hours) do not apply to them."""

    name: str
    passes_when: str
    at_booking: bool
    at_dispatch: bool
    in_conversation: bool = False
    member_check: MemberCheck | None = None


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
    by_cap: dict[tuple[int, int], list[int]] = {}
    for contact_id, recipient in recipients.items():
        cap = state_cap(recipient.state)
        if cap is not None:
            by_cap.setdefault(cap, []).append(contact_id)
    over: set[int] = set()
    for (texts, hours), contact_ids in by_cap.items():
        span = dt.timedelta(hours=hours)
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
        over |= {contact_id for contact_id in contact_ids if counts.get(contact_id, 0) >= texts}
    return over


def texts_by_other_campaigns(campaign: Campaign):
    """Other campaigns' texts that count to the member (``OuterRef("contact_id")``), each with the
    moment the frequency cap counts it from (sent, else booked for)."""
    return (
        texted_bookings()
        .filter(contact_id=OuterRef("contact_id"))
        .exclude(campaign_id=campaign.pk)
        .annotate(texted_at=Coalesce("message__sent_at", "scheduled_for"))
    )


def frequency_cap_reason(campaign: Campaign) -> str:
    return f"Texted by another campaign in the last {campaign.frequency_cap_days} days"


def _contact(field_filter: Q):
    return Exists(Contact.objects.filter(field_filter, pk=OuterRef("contact_id")))


def _texted_us():
    return Q(
        Exists(Message.objects.filter(contact_id=OuterRef("contact_id"), direction=Message.Direction.INBOUND)),
        review_approved=False,
    )


def _frequency_cap_since(campaign: Campaign, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=campaign.frequency_cap_days)


def _last_text_elsewhere(campaign: Campaign, now: dt.datetime) -> dict:
    if not campaign.frequency_cap_days:
        return {}
    texts = texts_by_other_campaigns(campaign).filter(texted_at__gte=_frequency_cap_since(campaign, now))
    return {"last_text_elsewhere": texts.order_by().values("contact_id").annotate(at=Max("texted_at")).values("at")}


NOT_OPTED_OUT = MemberCheck(
    violated=lambda campaign, now: _contact(Q(opted_out_at__isnull=False)),
    refusal=lambda campaign, row, day: Refusal(CampaignContact.Status.INELIGIBLE, "Opted out"),
)
MOBILE_NUMBER = MemberCheck(
    violated=lambda campaign, now: _contact(~Q(not_textable_reason="")),
    refusal=lambda campaign, row, day: Refusal(CampaignContact.Status.INELIGIBLE, row["not_textable_reason"]),
    annotations=lambda campaign, now: {"not_textable_reason": Coalesce("contact__not_textable_reason", Value(""))},
)
CONSENT_CLEAR = MemberCheck(
    violated=lambda campaign, now: Exists(ConsentReview.objects.filter(contact_id=OuterRef("contact_id"), decision="")),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.FLAGGED, "Wrote something that may be an opt-out: waiting for a person to decide"
    ),
)
FREQUENCY_CAP = MemberCheck(
    violated=lambda campaign, now: Q(last_text_elsewhere__isnull=False),
    refusal=lambda campaign, row, day: Refusal(
        CampaignContact.Status.PENDING,
        frequency_cap_reason(campaign),
        until=max(row["last_text_elsewhere"] + dt.timedelta(days=campaign.frequency_cap_days), day.tomorrow),
    ),
    annotations=lambda campaign, now: {
        key: Subquery(texts, output_field=DateTimeField()) for key, texts in _last_text_elsewhere(campaign, now).items()
    },
)
PRIOR_CONTACT = MemberCheck(
    violated=lambda campaign, now: _texted_us(),
    refusal=lambda campaign, row, day: (
        Refusal(CampaignContact.Status.INELIGIBLE, "Has texted us before (campaign skips them)")
        if campaign.prior_contact_policy == Campaign.PriorContactPolicy.SKIP
        else Refusal(CampaignContact.Status.FLAGGED, "Has texted us before: review before texting")
    ),
)

RULES: tuple[Rule, ...] = (
    Rule("not_opted_out", "the contact has not opted out", at_booking=True, at_dispatch=True, in_conversation=True,
         member_check=NOT_OPTED_OUT),
    Rule("mobile_number", "a number we can text", at_booking=True, at_dispatch=True, in_conversation=True,
         member_check=MOBILE_NUMBER),
    Rule("consent_clear", "no text of theirs that may be an opt-out is waiting", at_booking=True, at_dispatch=True,
         member_check=CONSENT_CLEAR),
    Rule("frequency_cap", "no other campaign texted them lately", at_booking=True, at_dispatch=False,
         member_check=FREQUENCY_CAP),
    Rule("prior_contact_policy", "never texted us, or staff approved", at_booking=True, at_dispatch=False,
         member_check=PRIOR_CONTACT),
    Rule("daily_limit", "within the number's and the campaign's limit for the day", at_booking=True, at_dispatch=False),
    Rule("campaign_active", "the campaign is active", at_booking=False, at_dispatch=True),
    Rule("business_window", "inside business hours", at_booking=True, at_dispatch=True),
    Rule("recipient_window", "inside the recipient's legal hours", at_booking=True, at_dispatch=True),
    Rule("on_time", "no more than CAMPAIGN_MISSED_SLOT_MINUTES after its slot", at_booking=False, at_dispatch=True),
    Rule("state_cap", "under the recipient state's cap of marketing texts", at_booking=True, at_dispatch=True),
    Rule("catch_up_current", "webhooks heard, or their silence caught up", at_booking=False, at_dispatch=True),
)  # fmt: skip
BOOKING_RULES = tuple(rule.name for rule in RULES if rule.at_booking)
DISPATCH_RULES = tuple(rule.name for rule in RULES if rule.at_dispatch)
CONVERSATION_RULES = tuple(rule.name for rule in RULES if rule.in_conversation)
MEMBER_RULES = tuple(rule for rule in RULES if rule.member_check is not None)


def judge_members(campaign: Campaign, members: list[int], day: BookingDay) -> dict[int, tuple[dict, list]]:
    """The member rules of the table for these members, in one statement: for each member, its row
    (its contact, and what the rules annotate) and the rules it breaks, in the table's order."""
    annotations: dict = {}
    for rule in MEMBER_RULES:
        annotations.update(rule.member_check.annotations(campaign, day.now))
    rows = CampaignContact.objects.filter(pk__in=members).annotate(**annotations)
    breaks = {
        rule.name: ExpressionWrapper(rule.member_check.violated(campaign, day.now), output_field=BooleanField())
        for rule in MEMBER_RULES
        if rule.name != "frequency_cap" or campaign.frequency_cap_days
    }
    judged = {}
    for row in rows.annotate(**{f"breaks_{name}": check for name, check in breaks.items()}).values(
        "pk", "contact_id", *annotations, *[f"breaks_{name}" for name in breaks]
    ):
        judged[row["pk"]] = (row, [rule for rule in MEMBER_RULES if row.get(f"breaks_{rule.name}")])
    return judged


def refusal_of(campaign: Campaign, row: dict, broken: list[Rule], day: BookingDay) -> Refusal | None:
    """What the first rule a member breaks does with it (a lasting refusal before a passing one)."""
    refusals = [rule.member_check.refusal(campaign, row, day) for rule in broken]
    lasting = [refusal for refusal in refusals if refusal.until is None]
    return (lasting or refusals or [None])[0]
