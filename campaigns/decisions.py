"""What a campaign's run must decide again: the members whose inputs changed since its last run.

A run decides, for every member, whether they may be texted, and forecasts the day of everyone
waiting: at 5 × 100,000 members that is seconds, and the clock runs every minute. On PostgreSQL
the database logs each write to what a run reads (migration 0017) as a `DecisionChange` naming the
contact it concerns (their row, house or link; a send, inbound text or consent review; a
membership), or no contact (a campaign's settings, a holiday, an import), and whether it may move
a member's place or window in the queue.

A run that finds nothing logged since its campaign's last recorded run, under the same settings and
before the first moment time alone could change a decision (midnight, the window opening or
closing, a booked slot going stale, another campaign's text ageing out of the frequency cap),
decides nothing. Otherwise it decides again only the members the log names, and forecasts the
queue again only when its waiting members, or the windows they may be texted in, may have moved.
A write that names no contact, too many contacts, new settings or a moment passed: everything is
decided again, as on SQLite (`make run`), where nothing is logged.

A run that could still book today (the window open, budget left, members waiting) books: whether a
slot fits depends on the minute, so it records nothing and the next run decides everything again.
"""

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Min, Subquery

from campaigns.calendar import BusinessCalendar
from campaigns.models import Campaign, CampaignContact, CampaignDecision, DecisionChange

# More members named than this since the last run: deciding them all is as quick.
MOST_NAMED = 5000


@dataclass(frozen=True)
class Inputs:
    """How far the log had got when a run began, and whether a write then in flight may add to it."""

    seen_through: int
    settings_digest: str
    others_in_flight: bool


@dataclass(frozen=True)
class Scope:
    """What a run decides again."""

    everything: bool
    contacts: frozenset[int] = frozenset()  # the members of these contacts
    reorders: bool = False  # a member joined, left or was removed from the queue
    moved_windows: frozenset[int] = frozenset()  # contacts whose zone, state or house changed

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.contacts or self.reorders)


EVERYTHING = Scope(everything=True)


def _settings_digest() -> str:
    """The settings a run's decisions read: a restart with other hours or limits decides again."""
    rules = Path(settings.RECIPIENT_RULES_FILE) if settings.RECIPIENT_RULES_FILE else None
    facts = (
        settings.SMS_DAILY_LIMIT_PER_NUMBER,
        settings.BUSINESS_TIME_ZONE,
        sorted(settings.BUSINESS_DAYS),
        settings.BUSINESS_OPENS,
        settings.BUSINESS_CLOSES,
        settings.CAMPAIGN_PACE_MINUTES,
        settings.CAMPAIGN_PACE_BATCH,
        settings.CAMPAIGN_MISSED_SLOT_MINUTES,
        settings.OPENPHONE_FROM_NUMBER,
        str(rules),
        rules.stat().st_mtime_ns if rules and rules.exists() else None,
    )
    return hashlib.sha256(repr(facts).encode()).hexdigest()[:16]


def observe(campaign: Campaign, *, now: dt.datetime) -> tuple[Inputs | None, Scope]:
    """How far the log has got (None where the database keeps none: SQLite), and what the run must
    decide again after the campaign's last recorded run. Call under the booking lock, inside the
    run's transaction (read committed)."""
    if connection.vendor != "postgresql":
        return None, EVERYTHING
    with connection.cursor() as cursor:
        # pg_stat_clear_snapshot(): the next statement reads pg_stat_activity as it is, not as this
        # transaction first saw it.
        cursor.execute(
            """SELECT s.last_value, s.is_called, d.seen_through, d.settings_digest, d.valid_until,
                      pg_stat_clear_snapshot()
               FROM campaigns_decision_inputs s LEFT JOIN campaigns_campaigndecision d ON d.campaign_id = %s""",
            [campaign.pk],
        )
        last_value, is_called, seen_through, digest, valid_until, _ = cursor.fetchone()
        inputs_digest = _settings_digest()
        if digest != inputs_digest or valid_until is None or now >= valid_until:
            seen_through = None  # decide everything: read no log
        # A statement after the counter's read: a writer that took a number up to it had its
        # transaction id by then, so this snapshot, the one the log is read in, either holds its
        # rows or shows it running. Transactions seen working in another database of the server
        # write no log of ours: they are left out.
        cursor.execute(
            """SELECT running.others, named.contact_id, named.campaign_id, named.reorders
               FROM (SELECT EXISTS (
                   SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
                   WHERE (pg_current_xact_id_if_assigned() IS NULL OR running.xid <> pg_current_xact_id_if_assigned())
                     AND NOT EXISTS (
                         SELECT 1 FROM pg_stat_activity elsewhere
                         WHERE elsewhere.datname IS DISTINCT FROM current_database()
                           AND elsewhere.backend_xid::text = (running.xid::text::bigint %% 4294967296)::text)
               ) AS others) AS running
               LEFT JOIN (
                   SELECT DISTINCT contact_id, campaign_id, reorders FROM campaigns_decisionchange
                   WHERE seq > %s AND (campaign_id = %s OR campaign_id IS NULL) LIMIT %s
               ) AS named ON true""",
            [seen_through, campaign.pk, MOST_NAMED + 1],
        )
        rows = cursor.fetchall()
    inputs = Inputs(
        seen_through=last_value if is_called else 0, settings_digest=inputs_digest, others_in_flight=rows[0][0]
    )
    named = [row[1:] for row in rows if row[1:] != (None, None, None)]
    if seen_through is None or any(contact_id is None for contact_id, _, _ in named) or len(named) > MOST_NAMED:
        return inputs, EVERYTHING
    return inputs, Scope(
        everything=False,
        contacts=frozenset(contact_id for contact_id, _, _ in named),
        reorders=any(reorders and campaign_id == campaign.pk for _, campaign_id, reorders in named),
        moved_windows=frozenset(
            contact_id for contact_id, campaign_id, reorders in named if reorders and campaign_id is None
        ),
    )


@contextmanager
def _set_for_the_transaction(flag: str) -> Iterator[None]:
    """A flag the triggers read, on until the block ends (or its transaction or savepoint is rolled back)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [flag])
        yield
        cursor.execute("SELECT set_config(%s, 'off', true)", [flag])


def deciding() -> AbstractContextManager[None]:
    """A run writing its decisions about its members: outputs, not inputs, so not logged."""
    return _set_for_the_transaction("attackacrack.deciding")


def bulk_write() -> AbstractContextManager[None]:
    """Writes to the contacts' tables by the thousand (an import): logged once, as a change to
    every member, instead of a row each."""
    return _set_for_the_transaction("attackacrack.bulk_write")


def record(
    campaign: Campaign,
    inputs: Inputs | None,
    *,
    now: dt.datetime,
    calendar: BusinessCalendar,
    could_book_more: bool,
    member_counts: dict[str, int],
) -> None:
    """After a run that decided: keep how far it got, so the next run decides only what comes
    after, and its members' counts by status, which only a logged write can change. A run that
    could book more records nothing (the next decides everything); one that began while another
    write was in flight keeps the last record (the next decides, and counts, again from there)."""
    if inputs is None:
        return
    if could_book_more:
        CampaignDecision.objects.filter(campaign=campaign).delete()
        return
    if inputs.others_in_flight:
        return
    CampaignDecision.objects.update_or_create(
        campaign=campaign,
        defaults={
            "seen_through": inputs.seen_through,
            "settings_digest": inputs.settings_digest,
            "valid_until": _valid_until(campaign, now, calendar),
            "decided_at": now,
            "member_counts": member_counts,
        },
    )
    _forget_decided_changes(now)


def recorded_member_counts(campaign: Campaign) -> dict[str, int]:
    """The members' counts by status the campaign's last recorded run left: for a run that decides
    nothing, which would otherwise count 100,000 members every minute to report the same."""
    return CampaignDecision.objects.values_list("member_counts", flat=True).get(campaign=campaign)


def _forget_decided_changes(now: dt.datetime) -> None:
    """Delete the log every active campaign has decided, leaving in its place one change to every
    member: a campaign whose record is older (paused, or not run for days) decides everything."""
    recent = CampaignDecision.objects.filter(
        campaign__status=Campaign.Status.ACTIVE, decided_at__gte=now - dt.timedelta(days=2)
    )
    floor = recent.aggregate(seq=Min("seen_through"))["seq"]
    if floor is None or not DecisionChange.objects.filter(seq__lt=floor).exists():
        return
    DecisionChange.objects.filter(seq__lte=floor).delete()
    DecisionChange.objects.create(seq=floor, contact_id=None, campaign_id=None, reorders=True)


def _valid_until(campaign: Campaign, now: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """The first moment after ``now`` at which time alone could change what a run decides."""
    today = calendar.local_date(now)
    moments = [dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=calendar.zone)]
    window = calendar.window(today)
    if window is not None:
        moments += [moment for moment in (window.opens, window.closes) if moment > now]
    # A booked text whose slot goes by is released by the next run.
    grace = dt.timedelta(minutes=settings.CAMPAIGN_MISSED_SLOT_MINUTES)
    first_slot = campaign.sends.filter(message__status="queued").aggregate(at=Min("scheduled_for"))["at"]
    if first_slot is not None:
        moments.append(first_slot + grace)
    # A member kept out by the frequency cap may be texted once the other campaign's text is old.
    if campaign.frequency_cap_days:
        from campaigns import booking  # booking runs through this module: read here

        latest_other_text = booking.texts_by_other_campaigns(campaign).order_by("-texted_at").values("texted_at")[:1]
        oldest = (
            campaign.memberships.filter(
                status=CampaignContact.Status.INELIGIBLE, ineligible_reason=booking.frequency_cap_reason(campaign)
            )
            .annotate(texted_at=Subquery(latest_other_text))
            .aggregate(at=Min("texted_at"))["at"]
        )
        if oldest is not None:
            moments.append(oldest + dt.timedelta(days=campaign.frequency_cap_days))
    return max(now, min(moments))
