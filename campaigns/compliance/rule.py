"""What a rule of the table is (`campaigns.compliance.rules`): its forms, and what each reads."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from campaigns.calendar import BusinessCalendar, Window
from campaigns.compliance.recipients import Recipient
from campaigns.models import Campaign, CampaignContact, CampaignSend
from contacts.models import Contact
from contacts.not_texted import HOLDS, Holds, Reason

# What a member becomes, by how its reason holds it.
STATUS_HELD = {
    Holds.FOR_GOOD: CampaignContact.Status.INELIGIBLE,
    Holds.FOR_A_PERSON: CampaignContact.Status.FLAGGED,
    Holds.UNTIL_A_TIME: CampaignContact.Status.PENDING,
}


@dataclass(frozen=True)
class Refusal:
    """What booking does with a member a rule refuses, by how its reason (``because``) holds it:
    keeps it out for good (``ineligible``), until a person decides (``flagged``), or passes it
    over (``pending``) until ``until``, when it may pass: it keeps its place in the queue.
    ``detail`` says the case in words (which list, which campaign)."""

    because: Reason
    detail: str
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        if (self.until is not None) != (HOLDS[self.because] == Holds.UNTIL_A_TIME):
            raise ValueError(f"A refusal for {self.because} waits until a time if, and only if, it says when.")

    @property
    def status(self) -> str:
        return STATUS_HELD[HOLDS[self.because]]


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
    reasons: tuple[Reason, ...]  # why a person it refuses is not texted (the vocabulary's words)
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
