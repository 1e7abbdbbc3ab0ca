"""What the rules already decide of a campaign's audience before its first run books anyone.

A campaign not yet on the clock (a draft, a scheduled one) has had nobody judged. The member
rules of the table (`campaigns.compliance.judge_members`) read only the member, its contact and
the moment, so judged at the moment the first run will judge them (the first business opening
at or after the start) they say now what that run will find: opted out, not a mobile number, a
possible opt-out waiting, texted us (skipped or flagged), a Do-Not-Call list, written consent,
not a customer, another campaign's text still inside the cap on that day. Those hold unless
something changes first (a reply, a consent, a resubscribe), and the run judges again anyway.
What only the slot decides (the day's limits, the hours, a state's cap) stays the run's.

The launch confirmation, the forecast of a scheduled campaign and its audience all read this,
so none promises a text the rules already refuse, and a member that will be held says why.
Once the clock runs the campaign, what the runs stored is what the pages show.
"""

import bisect
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from campaigns import compliance, queue
from campaigns.calendar import BusinessCalendar
from campaigns.compliance import BookingDay, Refusal
from campaigns.models import Campaign, CampaignContact
from contacts.not_texted import HOLDS, Holds, Reason

# Members judged per statement (the run's batch is smaller: it judges only as far as the day needs).
BATCH = 2000


@dataclass(frozen=True)
class Foreseen:
    """What the first run will do with each waiting member the rules refuse, judged ``at``."""

    at: dt.datetime
    holds: dict[int, Refusal] = field(default_factory=dict)
    judged: int = 0  # the waiting members judged (those not passed over beyond ``at``)
    _places: list[tuple[float, int]] = field(default_factory=list)  # the held members' places, in order

    def ahead_of(self, place: tuple[float, int]) -> int:
        """How many held members stand before ``place`` in the queue."""
        return bisect.bisect_left(self._places, place)

    def counts(self) -> dict[str, int]:
        """The held members by reason code."""
        counts: dict[str, int] = {}
        for refusal in self.holds.values():
            counts[refusal.because.value] = counts.get(refusal.because.value, 0) + 1
        return counts

    def ids_by_reason(self) -> dict[Reason, list[int]]:
        grouped: dict[Reason, list[int]] = {}
        for member_id, refusal in self.holds.items():
            grouped.setdefault(refusal.because, []).append(member_id)
        return grouped

    def ids_by_status(self) -> dict[str, list[int]]:
        """The held members by the status the run will give them (kept out, flagged, still waiting)."""
        grouped: dict[str, list[int]] = {}
        for member_id, refusal in self.holds.items():
            grouped.setdefault(refusal.status, []).append(member_id)
        return grouped

    def show_on(self, members: list[CampaignContact]) -> None:
        """Show these members (instances for a page, never saved) as the run will leave them."""
        for member in members:
            refusal = self.holds.get(member.pk)
            if refusal is None:
                continue
            member.status = refusal.status
            member.held_because, member.ineligible_reason = refusal.because, refusal.detail
            member.not_before = refusal.until
            member.foreseen = True


def first_judged_at(campaign: Campaign, *, now: dt.datetime, calendar: BusinessCalendar) -> dt.datetime | None:
    """When the campaign's first run will judge its audience: the first opening at or after its
    start (a draft's: now); None once the clock runs it, when its runs' own findings hold."""
    if campaign.status == Campaign.Status.DRAFT:
        return calendar.next_opening(now)
    if campaign.status == Campaign.Status.SCHEDULED:
        return calendar.next_opening(max(now, campaign.starts_at or now))
    return None


def foresee(campaign: Campaign, *, at: dt.datetime, calendar: BusinessCalendar) -> Foreseen:
    """The member rules of the table over the campaign's waiting members, as a run at ``at`` would
    judge them: the ones it would keep out, flag, or pass over until later, and why. Members
    already passed over beyond ``at`` keep what holds them."""
    waiting = queue.in_order(
        campaign.memberships.filter(status=CampaignContact.Status.PENDING).filter(
            Q(not_before__isnull=True) | Q(not_before__lte=at)
        )
    )
    day = BookingDay(calendar=calendar, today=calendar.local_date(at), now=at)
    holds: dict[int, Refusal] = {}
    places = []
    for start in range(0, len(waiting), BATCH):
        batch = waiting[start : start + BATCH]
        judged = compliance.judge_members(campaign, {member.member_id: member.recipient for member in batch}, day)
        for member in batch:
            row, broken = judged[member.member_id]
            if broken:
                holds[member.member_id] = compliance.refusal_of(campaign, row, broken, day)
                places.append(member.place)
    return Foreseen(at=at, holds=holds, judged=len(waiting), _places=places)


def lasting(counts: list[tuple[Reason, int]]) -> list[tuple[Reason, int]]:
    """Of reasons counted, those that keep a member out or wait for a person: not texted by the run."""
    return [(reason, n) for reason, n in counts if HOLDS[reason] != Holds.UNTIL_A_TIME]


def passing(counts: list[tuple[Reason, int]]) -> list[tuple[Reason, int]]:
    """Of reasons counted, those that pass a member over until a time, keeping its place."""
    return [(reason, n) for reason, n in counts if HOLDS[reason] == Holds.UNTIL_A_TIME]
