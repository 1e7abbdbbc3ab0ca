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

Only the head of the queue is judged (``HEAD`` members), as a run judges only as far as its day
needs: a page's cost follows what the first days can send, not the audience's size. Beyond it,
only what the contact alone decides is counted (an opt-out, a number that cannot be texted: one
query, from the few such contacts); the rest is judged when their turn comes, as in a running
campaign, and the pages say so. The waiting members are counted up to ``WAITING_COUNTED_UP_TO``,
past it estimated (``Foreseen.estimated``: "about").
"""

import bisect
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from attackacrack.estimates import count_up_to
from campaigns import compliance, queue
from campaigns.calendar import BusinessCalendar
from campaigns.compliance import BookingDay, Refusal
from campaigns.models import Campaign, CampaignContact
from contacts.not_texted import HOLDS, Holds, Reason, contact_reason

# Members judged ahead of the first run: four days of a number's 125 texts, with room for as many
# again held. Judging costs about 0.1 ms a member; a whole 100,000-member audience took 12 s a view.
HEAD = 500
# The waiting members are counted one by one up to this many; past it, the planner's estimate.
WAITING_COUNTED_UP_TO = 20_000


@dataclass(frozen=True)
class Foreseen:
    """What the first run will do with each waiting member the rules refuse, judged ``at``."""

    at: dt.datetime
    holds: dict[int, Refusal] = field(default_factory=dict)
    waiting: int = 0  # the waiting members (those not passed over beyond ``at``)
    judged_ids: frozenset[int] = frozenset()  # of them, those judged: the first ``HEAD`` in line
    beyond: dict[str, int] = field(default_factory=dict)  # the others the contact alone holds, by reason code
    estimated: bool = False  # ``waiting`` past WAITING_COUNTED_UP_TO: the planner's estimate ("about")
    _places: list[tuple[float, int]] = field(default_factory=list)  # the held members' places, in order

    @property
    def judged(self) -> int:
        return len(self.judged_ids)

    @property
    def textable(self) -> int:
        """The waiting members no rule holds as things stand (beyond the head: not yet judged)."""
        return self.waiting - len(self.holds) - sum(self.beyond.values())

    @property
    def judged_later(self) -> int:
        """The waiting members beyond the head, judged when their turn comes."""
        return self.waiting - self.judged - sum(self.beyond.values())

    def ahead_of(self, place: tuple[float, int]) -> int:
        """How many held members stand before ``place`` in the queue."""
        return bisect.bisect_left(self._places, place)

    def counts(self) -> dict[str, int]:
        """The held members by reason code."""
        counts: dict[str, int] = dict(self.beyond)
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


def foreseen_now(campaign: Campaign, *, now: dt.datetime, calendar: BusinessCalendar) -> Foreseen | None:
    """What the rules say of a campaign not yet on the clock, as its first run will judge it
    (``foresee`` at ``first_judged_at``); None once the clock runs it."""
    first_run = first_judged_at(campaign, now=now, calendar=calendar)
    return foresee(campaign, at=first_run, calendar=calendar) if first_run else None


def foresee(campaign: Campaign, *, at: dt.datetime, calendar: BusinessCalendar) -> Foreseen:
    """The member rules of the table over the first ``HEAD`` of the campaign's waiting members, as
    a run at ``at`` would judge them: the ones it would keep out, flag, or pass over until later,
    and why. Members already passed over beyond ``at`` keep what holds them."""
    waiting = waiting_at(campaign, at)
    head = queue.in_order(waiting, count=HEAD)
    day = BookingDay(calendar=calendar, today=calendar.local_date(at), now=at)
    holds: dict[int, Refusal] = {}
    places = []
    judged = compliance.judge_members(campaign, {member.member_id: member.recipient for member in head}, day)
    for member in head:
        row, broken = judged[member.member_id]
        if broken:
            holds[member.member_id] = compliance.refusal_of(campaign, row, broken, day)
            places.append(member.place)
    judged_ids = frozenset(member.member_id for member in head)
    if len(head) < HEAD:
        return Foreseen(at=at, holds=holds, waiting=len(head), judged_ids=judged_ids, _places=places)
    because, _ = contact_reason(prefix="contact__")
    # Read from the few contacts the reason holds (their partial indexes), not the whole audience.
    held_by_contact = Q(contact__opted_out_at__isnull=False) | ~Q(contact__not_textable_because="")
    beyond = dict(
        waiting.exclude(pk__in=judged_ids)
        .filter(held_by_contact)
        .annotate(because=because)
        .exclude(because="")
        .values_list("because")
        .annotate(n=Count("id"))
        .order_by()
    )
    counted = count_up_to(waiting, WAITING_COUNTED_UP_TO)
    return Foreseen(
        at=at,
        holds=holds,
        waiting=counted.value,
        judged_ids=judged_ids,
        beyond=beyond,
        estimated=counted.estimated,
        _places=places,
    )


def waiting_at(campaign: Campaign, at: dt.datetime) -> QuerySet[CampaignContact]:
    """The members a run at ``at`` takes in line: pending, and not passed over beyond ``at``."""
    return campaign.memberships.filter(status=CampaignContact.Status.PENDING).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=at)
    )


def textable_members(campaign: Campaign, foreseen: Foreseen) -> QuerySet[CampaignContact]:
    """The members ``foreseen.textable`` counts: of the head, those no rule holds; beyond it,
    those the contact alone does not hold (an opt-out, a number that cannot be texted)."""
    because, _ = contact_reason(prefix="contact__")
    return (
        waiting_at(campaign, foreseen.at)
        .exclude(pk__in=list(foreseen.holds))
        .annotate(because=because)
        .filter(Q(pk__in=foreseen.judged_ids) | Q(because=""))
    )


def lasting(counts: list[tuple[Reason, int]]) -> list[tuple[Reason, int]]:
    """Of reasons counted, those that keep a member out or wait for a person: not texted by the run."""
    return [(reason, n) for reason, n in counts if HOLDS[reason] != Holds.UNTIL_A_TIME]


def passing(counts: list[tuple[Reason, int]]) -> list[tuple[Reason, int]]:
    """Of reasons counted, those that pass a member over until a time, keeping its place."""
    return [(reason, n) for reason, n in counts if HOLDS[reason] == Holds.UNTIL_A_TIME]
