"""A campaign's numbers as the list, the campaign page and Today show them: one read for all, so
the pages cannot disagree, and a read whose cost does not follow the audience's size.

Counting a million members reads a million index entries (over 100 ms) on every view of every
page that shows the campaign. So each count is made exactly up to ``COUNTED_UP_TO`` and, past it,
is the planner's estimate (from the statistics ANALYZE and autovacuum keep: the members per
campaign, and per campaign and status through the extended statistics
``campaign_member_status_stats``), which the pages show as "about". Steps, for each campaign:

1. Count, each stopping at ``COUNTED_UP_TO`` + 1, its members, and those booked, sent, kept out,
   stopped by a cancel and flagged: all in one statement, the statuses on the index
   ``campaign_member_status``.
2. A count that reached the bound is replaced by the planner's estimate of it (one EXPLAIN each).
3. Those waiting are the rest (the audience less the others): waiting members are most of a large
   audience, and counting them is the read this avoids.

The texts sent, delivered, failed and booked follow the work done (the number's daily limit), and
are counted exactly, from the campaign's texts' index alone (``message_campaign_texts``).
"""

from dataclasses import dataclass
from typing import ClassVar

from django.db import connection
from django.db.models import Count, Q

from campaigns.models import Campaign, CampaignContact
from campaigns.selectors import SENT_STATUSES, daily_limit_per_day
from contacts.not_texted import Reason
from messaging.models import Message

# Members counted one by one, per campaign and status, before the planner's estimate is taken.
COUNTED_UP_TO = 20_000


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    audience: int
    sent: int
    delivered: int
    failed: int  # texts that were tried and failed
    booked: int
    waiting: int
    ineligible: int  # refused for a reason of their own (not the campaign's cancel)
    flagged: int
    stopped_by_cancel: int  # members whose booked text the cancel stopped before it went
    never_sent_by_cancel: int  # every member the cancel left untexted (0 unless cancelled)
    # The member counts are the planner's estimates (an audience over COUNTED_UP_TO): "about".
    estimated: bool = False
    counted_up_to: ClassVar[int] = COUNTED_UP_TO

    @property
    def percent_sent(self) -> int:
        return min(100, round(100 * self.sent / self.audience)) if self.audience else 0

    @property
    def per_day(self) -> int | None:
        """Texts it may send on a business day; None once it is closed: it sends no more."""
        return None if self.campaign.is_closed else daily_limit_per_day(self.campaign)


# The member counts of step 1, each a condition on the campaign's members.
MEMBER_COUNTS = {
    "audience": "",
    "scheduled": "status = 'scheduled'",
    "sent_members": "status = 'sent'",
    "kept_out": "status = 'ineligible'",
    "stopped_by_cancel": f"status = 'ineligible' AND held_because = '{Reason.CAMPAIGN_CANCELLED.value}'",
    "flagged": "status = 'flagged'",
}


def campaign_progress(campaigns: list[Campaign]) -> list[CampaignProgress]:
    """Audience, sent, delivered, failed, booked, waiting, kept out, flagged and what a cancel left
    untexted for each campaign, in two queries (and an EXPLAIN for each count of a large audience)."""
    members = _member_counts(campaigns)
    # A booked text is one message naming its campaign, counted on the index message_campaign_texts
    # alone (each count counts a column in it). Whether it is a booking's is asked in each count,
    # not of the scan: the planner takes two conditions for independent, expects a few rows and
    # walks another index.
    booked_text = Q(campaign_send__isnull=False)
    send_counts = {
        row.pop("campaign_id"): row
        for row in Message.objects.filter(campaign_id__in=[campaign.pk for campaign in campaigns])
        .values("campaign_id")
        .annotate(
            sent=Count("campaign_id", filter=booked_text & Q(status__in=SENT_STATUSES)),
            delivered=Count("campaign_id", filter=booked_text & Q(delivered_at__isnull=False)),
            failed=Count("campaign_id", filter=booked_text & Q(status=Message.Status.FAILED)),
            booked=Count(
                "campaign_id", filter=booked_text & Q(status__in=[Message.Status.QUEUED, Message.Status.SENDING])
            ),
        )
        .order_by()
    }
    no_sends = dict.fromkeys(["sent", "delivered", "failed", "booked"], 0)
    progress = []
    for campaign in campaigns:
        counts, estimated = members[campaign.pk]
        others = counts["scheduled"] + counts["sent_members"] + counts["kept_out"] + counts["flagged"]
        waiting = max(0, counts["audience"] - others)
        cancelled = campaign.status == Campaign.Status.CANCELLED
        stopped = counts["stopped_by_cancel"]
        progress.append(
            CampaignProgress(
                campaign=campaign,
                audience=counts["audience"],
                waiting=waiting,
                ineligible=max(0, counts["kept_out"] - stopped),
                flagged=counts["flagged"],
                stopped_by_cancel=stopped,
                never_sent_by_cancel=waiting + counts["flagged"] + counts["scheduled"] + stopped if cancelled else 0,
                estimated=estimated,
                **send_counts.get(campaign.pk, no_sends),
            )
        )
    return progress


def _member_counts(campaigns: list[Campaign]) -> dict[int, tuple[dict[str, int], bool]]:
    """Steps 1 and 2: each campaign's member counts, and whether any is the planner's estimate."""
    if not campaigns:
        return {}
    table = CampaignContact._meta.db_table
    bounded = ", ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {table} AS m WHERE m.campaign_id = c.id"
        f"{' AND m.' + condition.replace(' AND ', ' AND m.') if condition else ''} LIMIT %s) AS counted)"
        for condition in MEMBER_COUNTS.values()
    )
    ids = ", ".join(["(%s)"] * len(campaigns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH c(id) AS (VALUES {ids}) SELECT c.id, {bounded} FROM c",
            [*(campaign.pk for campaign in campaigns), *[COUNTED_UP_TO + 1] * len(MEMBER_COUNTS)],
        )
        rows = cursor.fetchall()
    found = {}
    for campaign_id, *values in rows:
        counts = dict(zip(MEMBER_COUNTS, values, strict=True))
        over = [name for name, value in counts.items() if value > COUNTED_UP_TO]
        for name in over:
            counts[name] = max(COUNTED_UP_TO + 1, _estimated_members(table, campaign_id, MEMBER_COUNTS[name]))
        found[campaign_id] = (counts, bool(over))
    return found


def _estimated_members(table: str, campaign_id: int, condition: str) -> int:
    """The planner's estimate of a campaign's members meeting ``condition``; on SQLite (`make run`,
    whose campaigns are small), the count itself."""
    where = f"campaign_id = %s{' AND ' + condition if condition else ''}"
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}", [campaign_id])
            return cursor.fetchone()[0]
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE {where}", [campaign_id])
        return int(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])
