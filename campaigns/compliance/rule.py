"""What a rule of the table is (`campaigns.compliance.rules`): its forms, and what each reads."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from campaigns.calendar import BusinessCalendar, Window
from campaigns.compliance.recipients import Recipient
from campaigns.models import Campaign, CampaignSend
from contacts.models import Contact


@dataclass(frozen=True)
class Refusal:
    """What booking does with a member a rule refuses: keeps it out for good (``ineligible``,
    ``flagged`` for a person to review), or passes it over (``pending``) until ``until``, when it
    may pass: it keeps its place in the queue."""

    status: str
    reason: str
    until: dt.datetime | None = None


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
class MemberCheck:
    """A rule's form for booking over the members at the head of the queue: ``violated`` is an
    expression on a CampaignContact row, true when the rule refuses it, or ``violated_for`` a test
    of the row and whose rules apply to a text to it (the recipient); ``refusal`` says what becomes
    of such a member (given the row with what ``annotations`` adds, by name). A rule that does not
    ``apply`` to a campaign is not read for it."""

    refusal: Callable[[Campaign, dict, BookingDay], Refusal]
    violated: Callable[[Campaign, dt.datetime], object] | None = None
    violated_for: Callable[[Campaign, dict, Recipient, BookingDay], bool] | None = None
    annotations: Callable[[Campaign, dt.datetime], dict] = lambda campaign, now: {}
    applies: Callable[[Campaign], bool] = lambda campaign: True


@dataclass(frozen=True)
class Slot:
    """A member at the slot booking gives it: what the slot-bound rules read."""

    recipient: Recipient
    at: dt.datetime
    index: int  # its place among this run's bookings, from 0
    day: BookingDay
    business: Window
    used_on_number: int  # the day's bookings on the number before this run's
    number_limit: int
    used_by_campaign: int
    campaign_limit: int
    over_state_cap: bool


@dataclass(frozen=True)
class Text:
    """A campaign text at the moment it would go: what dispatch's rules read."""

    send: CampaignSend  # with its campaign and contact
    recipient: Recipient
    now: dt.datetime
    calendar: BusinessCalendar


@dataclass(frozen=True)
class Rule:
    name: str
    passes_when: str
    member: MemberCheck | None = None
    slot: Callable[[Slot], bool] | None = None
    text: Callable[[Text], bool] | None = None
    conversation: Callable[[Contact, str], bool] | None = None
    refused_in_conversation: str = ""  # what a staff text is told; {reason} is the number's

    @property
    def at_booking(self) -> bool:
        return self.member is not None or self.slot is not None

    @property
    def at_dispatch(self) -> bool:
        return self.text is not None

    @property
    def in_conversation(self) -> bool:
        return self.conversation is not None


def contact_matches(field_filter: Q) -> Exists:
    """A member form's test of the member's contact."""
    return Exists(Contact.objects.filter(field_filter, pk=OuterRef("contact_id")))
