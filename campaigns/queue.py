"""A campaign's queue: who stands next, and the members a run may book today, by their window.

Members wait in the order stored when they joined (``CampaignContact.queue_position``, ties by
id); a run reads the head of the queue a batch at a time (`campaigns.booking`), so what it reads
follows what it books, not the audience.
"""

import collections
import datetime as dt
from typing import NamedTuple

from django.db.models import Q, QuerySet, Subquery

from campaigns.calendar import Window
from campaigns.compliance import Recipient
from campaigns.models import Campaign, CampaignContact
from contacts.selectors import home_links
from contacts.timezones import recipient_state


class Waiting(NamedTuple):
    """A member at the head of the queue, with whose rules apply to a text to them."""

    member_id: int
    contact_id: int
    variant: str
    recipient: Recipient
    place: tuple[float, int]  # (queue_position, id): the order of the queue


def head_of_queue(
    campaign: Campaign, *, now: dt.datetime, after: tuple[float, int] | None, count: int
) -> list[Waiting]:
    """The next ``count`` members waiting in the campaign's queue after ``after``, in order;
    those passed over until later are left where they stand."""
    members = campaign.memberships.filter(status=CampaignContact.Status.PENDING).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    if after is not None:
        position, member_id = after
        members = members.filter(Q(queue_position__gt=position) | Q(queue_position=position, id__gt=member_id))
    return in_order(members, count=count)


def in_order(members: QuerySet[CampaignContact], *, count: int | None = None) -> list[Waiting]:
    """These members in queue order (the first ``count`` of them), each with whose rules apply to
    a text to them."""
    rows = (
        members.order_by("queue_position", "id")
        .annotate(home_state=Subquery(home_links().values("property__state")[:1]))
        .values_list(
            "id", "contact_id", "variant", "queue_position", "contact__time_zone", "contact__state", "home_state",
            "contact__phone",
        )
    )  # fmt: skip
    if count is not None:
        rows = rows[:count]
    return [
        Waiting(member_id, contact_id, variant, Recipient.of(zones, recipient_state(state, home, phone)),
                (position, member_id))
        for member_id, contact_id, variant, position, zones, state, home, phone in rows
    ]  # fmt: skip


class Candidates:
    """The members judged so far in a run who may be booked today, grouped by the window they may
    be texted in, each group in queue order."""

    def __init__(self) -> None:
        self.groups: dict[Window, collections.deque[Waiting]] = {}

    def add(self, member: Waiting, window: Window) -> None:
        self.groups.setdefault(window, collections.deque()).append(member)

    def next_open_at(self, slot: dt.datetime) -> tuple[Waiting, Window] | None:
        """The first member in queue order whose window holds ``slot``, taken out."""
        open_now = [(queue[0].place, window) for window, queue in self.groups.items() if queue and slot in window]
        if not open_now:
            return None
        _, window = min(open_now)
        return self.groups[window].popleft(), window

    def drop_closed(self, slot: dt.datetime) -> None:
        for window in [window for window, queue in self.groups.items() if not queue or window.closes <= slot]:
            del self.groups[window]

    def next_opening_after(self, slot: dt.datetime) -> dt.datetime | None:
        return min((window.opens for window in self.groups if window.opens > slot), default=None)

    def __len__(self) -> int:
        return sum(len(queue) for queue in self.groups.values())
